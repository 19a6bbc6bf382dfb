/**
 * Small stand-ins for the simulated robot, the ONNX shield and the online learner, so the MQTT
 * protocol is tested on its own. Deterministic: no randomness at all.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RShieldError } from '../../../src/core/errors.js';
import type { Controller, Env, EnvSpec, StepResult, Transition } from '../../../src/core/types.js';
import type { Decision } from '../../../src/core/shield-core.js';
import type { SwappableShieldPort } from '../../../src/core/shield-port.js';
import type { ShieldStats } from '../../../src/core/shield-stats.js';
import { transitionsOf, type TransitionColumnsView } from '../../../src/data/transition-columns.js';
import type { OnlineTrainerPort } from '../../../src/learn/online-schedule.js';

/** 1-D line: x += a; leaving |x| ≤ 1 is a violation; 20 steps an episode. */
export class LineEnv implements Env {
  readonly spec: EnvSpec = {
    name: 'line',
    obsDim: 2,
    actDim: 1,
    actLow: new Float32Array([-0.5]),
    actHigh: new Float32Array([0.5]),
    horizon: 20,
    units: 'm',
    obsNames: ['x', 't'],
  };
  private x = 0;
  private t = 0;
  reset(): Float32Array {
    this.x = 0;
    this.t = 0;
    return new Float32Array([0, 0]);
  }
  step(action: ArrayLike<number>): StepResult {
    this.x += Math.max(-0.5, Math.min(0.5, action[0] ?? 0));
    this.t++;
    const violation = Math.abs(this.x) > 1;
    return { obs: new Float32Array([this.x, this.t]), reward: 0, violation, success: false, done: violation || this.t >= this.spec.horizon };
  }
}

export class PushController implements Controller {
  private readonly a = new Float32Array(1);
  act(): Float32Array {
    this.a[0] = 0.3;
    return this.a;
  }
  reset(): void {}
}

export interface FakePrepared {
  readonly version: string;
  /** Recovery action this version uses; distinct per version so tests see which one runs. */
  readonly recoveryAction: number;
}

/** A shield whose "model" is model.json: intervenes when x > 0.5 with the card's recovery action. */
export class FakeShield implements SwappableShieldPort<FakePrepared> {
  provider = 'fake';
  ticks = 0;
  interventions = 0;
  released = 0;
  private current: FakePrepared;
  private readonly out = { action: new Float32Array(1), source: 'task' as Decision['source'], qRisk: 0, failsafeReason: null };

  constructor(initialVersion = 'v0') {
    this.current = { version: initialVersion, recoveryAction: -0.1 };
  }
  get modelVersion(): string {
    return this.current.version;
  }
  get recoveryAction(): number {
    return this.current.recoveryAction;
  }
  async decide(obs: Float32Array, proposed: Float32Array): Promise<Decision> {
    await Promise.resolve();
    this.ticks++;
    const risky = (obs[0] ?? 0) > 0.5;
    this.out.source = risky ? 'recovery' : 'task';
    this.out.qRisk = risky ? 0.9 : 0.1;
    this.out.action[0] = risky ? this.current.recoveryAction : (proposed[0] ?? 0);
    if (risky) this.interventions++;
    return this.out;
  }
  stats(): ShieldStats {
    const failsafesByReason = { 'bad-length': 0, 'non-finite': 0, stale: 0, 'inference-error': 0, deadline: 0, 'out-of-range': 0 };
    return { ticks: this.ticks, interventions: this.interventions, failsafes: 0, failsafesByReason, tickUs: { p50: 10, p99: 20, max: 20 } };
  }
  async prepare(dir: string): Promise<FakePrepared> {
    const card = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as { version: string; recoveryAction?: number; broken?: boolean };
    const critic = await readFile(join(dir, 'critic.onnx'));
    if (card.broken === true || critic.byteLength === 0) throw new RShieldError('E_MODEL', `model ${card.version}: check batch gave NaN`);
    return { version: card.version, recoveryAction: card.recoveryAction ?? -0.1 };
  }
  swap(p: FakePrepared): void {
    this.current = p;
  }
  release(): void {
    this.released++;
  }
  resetEpisode(): void {}
  async close(): Promise<void> {}
}

/** Counts updates; exports a card whose recovery action depends on the update count. */
export class FakeTrainer implements OnlineTrainerPort {
  updates = 0;
  readonly received: Transition[] = [];
  /** Makes exported models fail validation. */
  broken = false;
  constructor(private readonly fileBytes = 200_000) {}
  addTransitions(c: TransitionColumnsView): void {
    this.received.push(...transitionsOf(c));
  }
  async update(n: number): Promise<{ criticLoss: number; recoveryLoss: number }> {
    await Promise.resolve();
    this.updates += n;
    return { criticLoss: 1 / (1 + this.updates), recoveryLoss: 0.5 };
  }
  async exportModel(dir: string, version: string): Promise<unknown> {
    await mkdir(dir, { recursive: true });
    const card = { robot: 'line', version, obsDim: 2, actDim: 1, critic: { file: 'critic.onnx' }, recovery: { file: 'recovery.onnx' }, recoveryAction: -0.2 - this.updates / 1e6, broken: this.broken };
    const bytes = new Uint8Array(this.fileBytes);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + this.updates) & 0xff;
    await writeFile(join(dir, 'critic.onnx'), bytes);
    await writeFile(join(dir, 'recovery.onnx'), bytes.subarray(0, this.fileBytes / 2));
    await writeFile(join(dir, 'model.json'), JSON.stringify(card));
    return card;
  }
}
