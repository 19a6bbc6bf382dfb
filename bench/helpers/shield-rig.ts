// A real `rshield run --sim` shield for the benches: the shipped dvrk-reacher model on ONNX
// Runtime (worker inference, the default), the simulated robot and its scripted controller, an
// on-disk spool, the model receiver and an MQTT connection, wired as src/app/mqtt-shield.ts does.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fork, type ChildProcess } from 'node:child_process';
import { createController, createEnv } from '../../src/envs/index.js';
import { Shield, type ShieldOptions } from '../../src/inference/shield.js';
import { generateSigningKeys, parsePublicKey } from '../../src/models/signing.js';
import { ModelReceiver } from '../../src/transport/mqtt/model-transfer.js';
import { MqttTransport } from '../../src/transport/mqtt/mqtt-transport.js';
import { ShieldNode, offlineStatus } from '../../src/transport/mqtt/shield-node.js';
import { TransitionSpool } from '../../src/transport/mqtt/spool.js';
import { robotTopics } from '../../src/transport/mqtt/topics.js';

export const ROBOT = 'dvrk-reacher';
export const SHIPPED_DIR = join(import.meta.dirname, '..', '..', 'models', ROBOT);

export interface Rig {
  readonly node: ShieldNode;
  readonly shield: Shield;
  readonly transport: MqttTransport;
  readonly spool: TransitionSpool;
  readonly receiver: ModelReceiver;
  readonly keys: ReturnType<typeof generateSigningKeys>;
  readonly dir: string;
  close(): Promise<void>;
}

export async function shieldRig(url: string, extra: Partial<ConstructorParameters<typeof ShieldNode>[0]> = {}, shieldOptions: Partial<ShieldOptions> = {}): Promise<Rig> {
  const dir = await mkdtemp(join(tmpdir(), 'rshield-bench-rig-'));
  const keys = generateSigningKeys();
  const topics = robotTopics(ROBOT);
  const env = createEnv(ROBOT, { seed: 1 });
  const controller = createController(ROBOT, { seed: 1 });
  const shield = await Shield.load({ ...shieldOptions, modelDir: SHIPPED_DIR, robot: ROBOT });
  const spool = await TransitionSpool.open({ dir: join(dir, 'spool'), maxBatches: 10_000, maxBytes: 512 * 1024 * 1024 });
  const receiver = new ModelReceiver({ robot: ROBOT, obsDim: env.spec.obsDim, actDim: env.spec.actDim, trustedKeys: [parsePublicKey(keys.publicKeyPem)], allowUnsigned: false, stagingDir: join(dir, 'staging') });
  const transport = MqttTransport.connect({ url, clientId: `rshield-bench-${process.pid}`, reconnectPeriodMs: 100, will: { topic: topics.status, payload: offlineStatus(ROBOT), retain: true, qos: 1 } });
  const node = new ShieldNode({ robot: ROBOT, env, controller, shield, transport, spool, receiver, seed: 1, session: 1, ...extra });
  await transport.waitConnected();
  await node.start();
  return {
    node, shield, transport, spool, receiver, keys, dir,
    close: async () => {
      await node.stop();
      await transport.close();
      await shield.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A child process that publishes payloads on request (bench/helpers/flooder.ts). */
export function flooder(): { flood(url: string, topic: string, payloads: readonly string[]): Promise<{ published: number; ms: number }>; child: ChildProcess } {
  const child = fork(join(import.meta.dirname, `flooder.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`));
  return {
    child,
    flood: (url, topic, payloads) =>
      new Promise((resolve) => {
        child.once('message', (m) => resolve(m as { published: number; ms: number }));
        child.send({ url, topic, payloads });
      }),
  };
}
