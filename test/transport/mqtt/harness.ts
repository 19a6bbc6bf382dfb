/** Builds a shield node and a trainer node on a test broker, with fakes behind them, and cleans up. */
import type { DriftOptions } from '../../../src/core/drift-monitor.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSigningKeys, parsePrivateKey, parsePublicKey } from '../../../src/models/signing.js';
import { CommandGuard, type CommandGuardOptions } from '../../../src/models/command-guard.js';
import { signedCommandPayload } from '../../../src/models/command-signing.js';
import type { CmdPayload } from '../../../src/config/mqtt-payloads.js';
import { ModelReceiver } from '../../../src/transport/mqtt/model-transfer.js';
import { MqttTransport } from '../../../src/transport/mqtt/mqtt-transport.js';
import { ShieldNode, offlineStatus } from '../../../src/transport/mqtt/shield-node.js';
import { TransitionSpool, type SpoolFs } from '../../../src/transport/mqtt/spool.js';
import { systemClock, type Clock, type Timer } from '../../../src/core/clock.js';
import { robotTopics } from '../../../src/transport/mqtt/topics.js';
import type { TrainerNode } from '../../../src/transport/mqtt/trainer-node.js';
import type { OnlineSchedule } from '../../../src/learn/online-schedule.js';
import { trainerNode as wireTrainer } from '../../../src/app/trainer.js';
import { FakeShield, FakeTrainer, LineEnv, PushController } from './fakes.js';

/** A clock and timers the test drives: intervals fire only when `fire()` is called. */
export class ManualTimers implements Clock, Timer {
  t = 1_700_000_000_000;
  private readonly fns = new Set<() => void>();
  nowMs(): number {
    return this.t;
  }
  monotonicUs(): number {
    return this.t * 1000;
  }
  setTimeout(): unknown {
    throw new Error('ManualTimers drives intervals only');
  }
  clearTimeout(): void {}
  setInterval(fn: () => void): unknown {
    this.fns.add(fn);
    return fn;
  }
  clearInterval(h: unknown): void {
    this.fns.delete(h as () => void);
  }
  fire(advanceMs = 1000): void {
    this.t += advanceMs;
    for (const f of this.fns) f();
  }
}

export interface Teardown {
  teardown(fn: () => unknown): void;
}

export const ROBOT = 'line';
export const topics = robotTopics(ROBOT);

export async function tempDir(t: Teardown, prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.teardown(() => rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 }));
  return dir;
}

export function client(t: Teardown, url: string, extra: Partial<Parameters<typeof MqttTransport.connect>[0]> = {}): MqttTransport {
  const c = MqttTransport.connect({ url, reconnectPeriodMs: 100, ...extra });
  t.teardown(() => c.close({ force: true }));
  return c;
}

export const keys = generateSigningKeys();
/** The operator whose commands the test shields obey. */
export const operator = generateSigningKeys();

/** A command as `rshield cmd` sends it, signed by `operator` (or another key) now. */
export function signedCmd(cmd: CmdPayload['cmd'], o: { id?: string; robot?: string; key?: string; at?: number } = {}): string {
  return JSON.stringify(signedCommandPayload(parsePrivateKey(o.key ?? operator.privateKeyPem), { robot: o.robot ?? ROBOT, cmd, id: o.id }, o.at ?? Date.now()));
}

/** The guard of a test shield: trusts `operator`, wall clock. */
export function operatorGuard(o: Partial<CommandGuardOptions> = {}): CommandGuard {
  return new CommandGuard({ robot: ROBOT, operatorKeys: [parsePublicKey(operator.publicKeyPem)], clock: systemClock, ...o });
}

export interface ShieldSetup {
  node: ShieldNode;
  shield: FakeShield;
  transport: MqttTransport;
  spool: TransitionSpool;
  timers: ManualTimers;
}

export async function shieldNode(t: Teardown, url: string, o: { allowUnsigned?: boolean; batchSize?: number; trusted?: string[]; spoolFs?: SpoolFs; commands?: CommandGuard; shield?: FakeShield; startModelDir?: string; drift?: DriftOptions } = {}): Promise<ShieldSetup> {
  const dir = await tempDir(t, 'rshield-shield-');
  const transport = client(t, url, { clientId: `shield-${process.pid}-${Math.floor(Math.random() * 1e9)}`, will: { topic: topics.status, payload: offlineStatus(ROBOT), retain: true, qos: 1 } });
  const spool = await TransitionSpool.open({ dir: join(dir, 'spool'), maxBatches: 10_000, maxBytes: 1e9, ...(o.spoolFs !== undefined ? { fs: o.spoolFs } : {}) });
  const shield = o.shield ?? new FakeShield();
  const timers = new ManualTimers();
  const receiver = new ModelReceiver({
    robot: ROBOT,
    obsDim: 2,
    actDim: 1,
    trustedKeys: (o.trusted ?? [keys.publicKeyPem]).map((k) => parsePublicKey(k)),
    allowUnsigned: o.allowUnsigned ?? false,
    stagingDir: join(dir, 'staging'),
  });
  const node = new ShieldNode({ robot: ROBOT, env: new LineEnv(), controller: new PushController(), shield, transport, spool, receiver, clock: timers, timer: timers, batchSize: o.batchSize ?? 16, session: 42, commands: o.commands ?? operatorGuard(), ...(o.startModelDir !== undefined ? { startModelDir: o.startModelDir } : {}), ...(o.drift === undefined ? {} : { drift: o.drift }) });
  t.teardown(() => node.stop());
  await transport.waitConnected();
  await node.start();
  return { node, shield, transport, spool, timers };
}

export interface TrainerSetup {
  node: TrainerNode;
  /** The learning schedule the node feeds: published, refused, rejected events. */
  schedule: OnlineSchedule;
  trainer: FakeTrainer;
  transport: MqttTransport;
}

export async function trainerNode<T extends FakeTrainer = FakeTrainer>(
  t: Teardown,
  url: string,
  o: { every?: number; signWith?: string; clientId?: string; trainer?: T; adaptOnDrift?: { transitions: number; steps?: number } } = {},
): Promise<Omit<TrainerSetup, 'trainer'> & { trainer: T }> {
  const dir = await tempDir(t, 'rshield-trainer-');
  const transport = client(t, url, o.clientId !== undefined ? { clientId: o.clientId, clean: false } : {});
  const trainer = o.trainer ?? (new FakeTrainer() as T);
  const { node, schedule } = wireTrainer({
    robot: ROBOT,
    obsDim: 2,
    actDim: 1,
    trainer,
    transport,
    signer: parsePrivateKey(o.signWith ?? keys.privateKeyPem),
    every: o.every ?? 64,
    exportDir: join(dir, 'export'),
    validate: async () => {},
    versionPrefix: 'line-online',
    ...(o.adaptOnDrift !== undefined ? { adaptOnDrift: o.adaptOnDrift } : {}),
  });
  t.teardown(() => node.stop());
  await transport.waitConnected();
  await node.start();
  return { node, schedule, trainer, transport };
}

/** Resolves with the args of the next `event` of `emitter`. */
export function next<T extends unknown[]>(emitter: { once(e: string, f: (...a: T) => void): unknown }, event: string): Promise<T> {
  return new Promise((resolve) => emitter.once(event, (...a: T) => resolve(a)));
}

/** Resolves with the first message on `topic` (seen by `on`) that `match` accepts. */
export function waitForMessage(on: (handler: (topic: string, payload: Uint8Array) => void) => void, match: (payload: Uint8Array) => boolean): Promise<Uint8Array> {
  return new Promise((resolve) => {
    let done = false;
    on((_topic, payload) => {
      if (!done && match(payload)) {
        done = true;
        resolve(payload);
      }
    });
  });
}
