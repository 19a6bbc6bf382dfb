/**
 * A RiskModel with model-based recovery: the tick's model answers Q_risk(s, a_task) as before,
 * and on recovery ticks only the planner session (cem-graph.ts) runs one whole CEM plan. The
 * plan is warm-started from the previous one, shifted by the steps since it was made, when that
 * was the tick before (reference: PETS shifts its solution each step) or within the action it
 * holds; else, and at a new episode, from the middle of the box.
 * Tensors are created once over model-owned arrays; ORT writes in place.
 */
import * as ort from 'onnxruntime-node';
import { RShieldError } from '../core/errors.js';
import type { RiskModel } from '../core/risk-model.js';
import { copyInto } from './copy-into.js';
import { Rng } from '../core/rng.js';
import type { ModelCard } from '../config/model-card.js';
import { CEM_ACTION, CEM_COST, CEM_INIT, CEM_OBS, CEM_PLAN, CEM_PROPOSED, NAN_COST } from './cem-graph.js';

export interface PlannerStats {
  /** Plans run (recovery ticks in model-based mode). */
  readonly plans: number;
  /** Plans whose every sample cost NaN: their action is NaN, so the core answers with the fail-safe. */
  readonly invalid: number;
  /** Plans warm-started from the one before (the rest start from the middle of the box). */
  readonly warmStarts: number;
}

export class PlannerRiskModel implements RiskModel {
  readonly obsDim: number;
  readonly actDim: number;
  readonly horizon: number;
  /** Ticks each planned action covers (the planner's `repeat`). */
  readonly repeat: number;
  readonly #base: RiskModel;
  readonly #session: ort.InferenceSession;
  readonly #mid: Float32Array;
  readonly #obs: Float32Array;
  readonly #proposed: Float32Array;
  readonly #init: Float32Array;
  readonly #action: Float32Array;
  readonly #plan: Float32Array;
  readonly #cost = new Float32Array(1);
  readonly #feeds: Record<string, ort.Tensor>;
  readonly #fetches: Record<string, ort.Tensor>;
  /** risk() calls so far: the tick count, to tell whether the last plan is one tick old. */
  #tick = 0;
  #plannedAt = Number.NEGATIVE_INFINITY;
  #plans = 0;
  #invalid = 0;
  #warmStarts = 0;

  constructor(base: RiskModel, session: ort.InferenceSession, o: { horizon: number; repeat?: number; mid: Float32Array }) {
    this.#base = base;
    this.#session = session;
    this.obsDim = base.obsDim;
    this.actDim = base.actDim;
    this.horizon = o.horizon;
    this.repeat = o.repeat ?? 1;
    const S = base.obsDim;
    const A = base.actDim;
    const H = o.horizon;
    this.#mid = Float32Array.from(o.mid);
    this.#obs = new Float32Array(S);
    this.#proposed = new Float32Array(A);
    this.#init = new Float32Array(H * A);
    this.#action = new Float32Array(A);
    this.#plan = new Float32Array(H * A);
    this.#feeds = {
      [CEM_OBS]: new ort.Tensor('float32', this.#obs, [1, S]),
      [CEM_PROPOSED]: new ort.Tensor('float32', this.#proposed, [1, A]),
      [CEM_INIT]: new ort.Tensor('float32', this.#init, [H, A]),
    };
    this.#fetches = {
      [CEM_ACTION]: new ort.Tensor('float32', this.#action, [1, A]),
      [CEM_PLAN]: new ort.Tensor('float32', this.#plan, [H, A]),
      [CEM_COST]: new ort.Tensor('float32', this.#cost, [1]),
    };
  }

  risk(obs: ArrayLike<number>, act: ArrayLike<number>): number | Promise<number> {
    this.#tick++;
    return this.#base.risk(obs, act);
  }

  recovery(obs: ArrayLike<number>): Float32Array | Promise<Float32Array> {
    return this.#base.recovery(obs);
  }

  /** The first action of a CEM plan from `obs`; NaN values when no sample had a finite cost. */
  async plan(obs: ArrayLike<number>, proposed: Float32Array): Promise<Float32Array> {
    const A = this.actDim;
    copyInto(this.#obs, obs);
    this.#proposed.set(proposed);
    // Continue the last plan only from the tick after it (PETS shifts its solution each step),
    // or within the action it holds (repeat): after task ticks in between the robot has left
    // the plan's path, and a stale plan — its actions often on the bounds, where CEM's σ is
    // smallest — would pin the new one to a way that no longer fits. Otherwise start afresh.
    const ticks = this.#tick - this.#plannedAt;
    const age = Math.floor(ticks / this.repeat);
    const keep = ticks >= 1 && ticks <= this.repeat && age < this.horizon ? this.horizon - age : 0;
    if (keep > 0) this.#warmStarts++;
    for (let t = 0; t < this.horizon; t++) {
      if (t < keep) this.#init.set(this.#plan.subarray((t + age) * A, (t + age + 1) * A), t * A);
      else this.#init.set(this.#mid, t * A);
    }
    await this.#session.run(this.#feeds, this.#fetches);
    this.#plans++;
    this.#plannedAt = this.#tick;
    if (!((this.#cost[0] as number) < NAN_COST)) {
      this.#invalid++;
      this.#plannedAt = Number.NEGATIVE_INFINITY;
      this.#action.fill(Number.NaN);
    }
    return this.#action;
  }

  /** Lowest plan cost of the last plan's final iteration. */
  get lastCost(): number {
    return this.#cost[0] as number;
  }

  /** Forgets the warm start (a new episode). */
  resetPlan(): void {
    this.#plannedAt = Number.NEGATIVE_INFINITY;
  }

  resetEpisode(): void {
    this.resetPlan();
  }

  stats(): PlannerStats {
    return { plans: this.#plans, invalid: this.#invalid, warmStarts: this.#warmStarts };
  }

  resetStats(): void {
    this.#plans = 0;
    this.#invalid = 0;
    this.#warmStarts = 0;
  }

  async close(): Promise<void> {
    await Promise.all([this.#base.close(), this.#session.release()]);
  }
}

/**
 * The planner's share of the check batch: plans from seeded states must come back finite and
 * inside the bounds, so a dynamics model that produces NaN everywhere (or a graph that cannot
 * run) is refused at load rather than on the first risky tick.
 */
export async function checkPlanner(m: PlannerRiskModel, o: { actLow: Float32Array; actHigh: Float32Array; label: string }): Promise<void> {
  const rng = new Rng(20240609);
  const obs = new Float32Array(m.obsDim);
  const prop = new Float32Array(m.actDim);
  for (let k = 0; k < 2; k++) {
    rng.fillNormal(obs);
    for (let i = 0; i < m.actDim; i++) prop[i] = rng.uniform(o.actLow[i] as number, o.actHigh[i] as number);
    let a: Float32Array;
    try {
      a = await m.plan(obs, prop);
    } catch (err) {
      throw new RShieldError('E_MODEL', `${o.label}: the CEM planner failed to run: ${(err as Error).message}`, { sample: k }, { cause: err });
    }
    for (let i = 0; i < a.length; i++) {
      const lo = o.actLow[i] as number;
      const hi = o.actHigh[i] as number;
      if (!(a[i]! >= lo - 1e-5 && a[i]! <= hi + 1e-5)) {
        throw new RShieldError('E_MODEL', `${o.label}: planner check sample ${k}: action[${i}] is ${a[i]} (bounds [${lo}, ${hi}]; every plan cost NaN?)`, { sample: k });
      }
    }
  }
  m.resetPlan();
  m.resetStats();
}

/**
 * The dynamics model's own check batch: seeded states and actions through dynamics.onnx alone
 * (the planner maps a NaN cost to 1e6, so NaN would not show in its action). Refuses a model
 * whose outputs are not finite or not of the card's shape, naming the output and the value.
 */
export async function checkDynamics(session: ort.InferenceSession, card: ModelCard, label: string): Promise<void> {
  const d = card.dynamics;
  if (d === undefined) throw new RShieldError('E_MODEL', `${label}: the card declares no dynamics model`);
  const S = card.obsDim;
  const A = card.actDim;
  const E = d.ensemble;
  const N = 8;
  const rng = new Rng(20240610);
  const obs = new Float32Array(E * N * S);
  const act = new Float32Array(E * N * A);
  for (let r = 0; r < E * N; r++) {
    for (let j = 0; j < S; j++) {
      const lo = card.obsLow?.[j];
      const hi = card.obsHigh?.[j];
      obs[r * S + j] = lo !== undefined && hi !== undefined ? rng.uniform(lo, hi) : rng.normal();
    }
    for (let j = 0; j < A; j++) act[r * A + j] = rng.uniform(card.actLow[j]!, card.actHigh[j]!);
  }
  let out: ort.InferenceSession.ReturnType;
  try {
    out = await session.run({ [d.inputs.obs]: new ort.Tensor('float32', obs, [E, N, S]), [d.inputs.act]: new ort.Tensor('float32', act, [E, N, A]) });
  } catch (err) {
    throw new RShieldError('E_MODEL', `${label}: ${d.file} failed to run on a check batch of [${E}, ${N}, ${S}]: ${(err as Error).message}`, { file: d.file }, { cause: err });
  }
  for (const name of [d.outputs.mean, d.outputs.logvar]) {
    const t = out[name];
    if (t === undefined) throw new RShieldError('E_MODEL', `${label}: ${d.file} did not produce output '${name}'`, { file: d.file });
    const want = E * N * S;
    if (t.data.length !== want) throw new RShieldError('E_MODEL', `${label}: ${d.file} output '${name}' has ${t.data.length} values for a [${E}, ${N}, ${S}] batch (dims [${t.dims.join(', ')}]); card says ensemble ${E}, obsDim ${S}`, { file: d.file, name });
    const data = t.data as Float32Array;
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) {
        throw new RShieldError('E_MODEL', `${label}: ${d.file} output '${name}' is ${data[i]} on check sample ${Math.floor(i / S) % N} of member ${Math.floor(i / (N * S))} (value ${i % S})`, { file: d.file, name });
      }
    }
  }
}
