import { Rng } from '../../core/rng.js';
import type { Env, EnvSpec, StepResult } from '../../core/types.js';
import { readAction, toObs } from '../action.js';
import { OptionReader, type EnvOptions } from '../options.js';
import { dvrkReacherGeometry as G, dvrkReacherViolation, dvrkTargetDistance } from './geometry.js';

export const DVRK_HORIZON = 60;
/** Hidden per-episode, per-axis gain of cable-driven motion (commanded → achieved). */
export const DVRK_GAIN_RANGE = [0.8, 1.05] as const;
/** Backlash: half-width of the dead band between motor-side and tip position, per axis (m). */
export const DVRK_BACKLASH = 0.0002;
/** Tip motion noise per step, standard deviation per axis (m). */
export const DVRK_NOISE = 0.0001;

export interface DvrkParams {
  readonly seed: number;
  /** Fixed per-axis gains, or undefined for a fresh U(0.8, 1.05) draw each episode. */
  readonly gain: readonly number[] | undefined;
  readonly backlash: number;
  readonly noise: number;
  /** Fixed start location (0 or 1), or undefined for a fair coin each episode. */
  readonly start: number | undefined;
}

export function dvrkParams(opts: EnvOptions): DvrkParams {
  const r = new OptionReader('dvrk-reacher', opts, ['gain', 'backlash', 'noise', 'start']);
  const start = opts.start === undefined ? undefined : r.number('start', 0, [0, 1]);
  return {
    seed: r.seed(),
    gain: r.numbers('gain', [3]),
    backlash: r.number('backlash', DVRK_BACKLASH, [0, 0.01]),
    noise: r.number('noise', DVRK_NOISE, [0, 0.01]),
    start: start === undefined ? undefined : Math.round(start),
  };
}

/**
 * A dVRK PSM tip under delta-position control, in metres in the base frame. Each step the
 * motor side moves by gain ⊙ a (a clipped to ±5 mm per axis); the tip follows through a
 * backlash dead band and picks up a little noise. The gains are hidden and drawn per episode:
 * cable stretch makes a real PSM undershoot by a different amount on each axis.
 */
export class DvrkReacherEnv implements Env {
  readonly spec: EnvSpec;
  readonly params: DvrkParams;
  private rng: Rng;
  private readonly tip = new Float64Array(3);
  private readonly motor = new Float64Array(3);
  private readonly gain = new Float64Array(3);
  private readonly act = new Float64Array(3);
  private t = 0;

  constructor(opts: EnvOptions = {}) {
    this.params = dvrkParams(opts);
    this.rng = new Rng(this.params.seed);
    const m = G.maxStep;
    this.spec = {
      name: 'dvrk-reacher',
      obsDim: 3,
      actDim: 3,
      actLow: Float32Array.from([-m, -m, -m]),
      actHigh: Float32Array.from([m, m, m]),
      horizon: DVRK_HORIZON,
      units: 'm',
      obsNames: ['x', 'y', 'z'],
    };
    // Start in the state the first reset() returns: re-seed after drawing it.
    this.resetState();
    this.rng = new Rng(this.params.seed);
  }

  reset(seed?: number): Float32Array {
    if (seed !== undefined) this.rng = new Rng(seed);
    this.resetState();
    return toObs(this.tip);
  }

  /** Starts an episode at a given tip position (the noisy-operator generator uses it). */
  resetAt(p: ArrayLike<number>): Float32Array {
    this.resetState();
    for (let i = 0; i < 3; i++) this.tip[i] = this.motor[i] = p[i] as number;
    return toObs(this.tip);
  }

  step(action: ArrayLike<number>): StepResult {
    readAction(this.spec, action, this.act);
    const h = this.params.backlash;
    for (let i = 0; i < 3; i++) {
      const u = (this.motor[i] as number) + (this.gain[i] as number) * (this.act[i] as number);
      this.motor[i] = u;
      const p = this.tip[i] as number;
      // The tip moves only once the motor side has taken up the slack on that axis.
      const held = p < u - h ? u - h : p > u + h ? u + h : p;
      this.tip[i] = held + this.params.noise * this.rng.normal();
    }
    this.t++;
    const dist = dvrkTargetDistance(this.tip);
    const violation = dvrkReacherViolation(this.tip);
    const success = !violation && dist <= G.successRadius;
    return { obs: toObs(this.tip), reward: -dist, violation, success, done: violation || success || this.t >= DVRK_HORIZON };
  }

  private resetState(): void {
    const [g0, g1] = DVRK_GAIN_RANGE;
    for (let i = 0; i < 3; i++) this.gain[i] = this.params.gain?.[i] ?? this.rng.uniform(g0, g1);
    const which = this.params.start ?? (this.rng.next() < 0.5 ? 0 : 1);
    const s = G.starts[which === 0 ? 0 : 1];
    for (let i = 0; i < 3; i++) {
      this.tip[i] = this.motor[i] = (s[i] as number) + this.rng.uniform(-G.startJitter, G.startJitter);
    }
    this.t = 0;
  }
}
