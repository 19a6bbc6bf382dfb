/**
 * The check batch a model must pass before it may drive a robot (DESIGN.md "Failure
 * behaviour": a model update is applied only if it is sane on a check batch). Runs the tick
 * path itself — batch-1 calls through the RiskModel — on seeded random states and actions.
 */
import { RShieldError } from './errors.js';
import type { RiskModel } from './risk-model.js';
import { Rng } from './rng.js';

export interface SanityCheckOptions {
  readonly actLow: Float32Array;
  readonly actHigh: Float32Array;
  /** The card's state bounds: when given, the batch also covers them (corners, faces, uniform). */
  readonly obsLow?: Float32Array;
  readonly obsHigh?: Float32Array;
  /** Samples near the rest state (default 32); bounded states come on top. */
  readonly samples?: number;
  /** Uniform samples across the state bounds (default 64). */
  readonly boundSamples?: number;
  readonly seed?: number;
  /** Names the model in errors, e.g. "dvrk-reacher model 3". */
  readonly label: string;
}

/**
 * Fills `obs` with check state k: k < samples are near the rest state (0 is all zeros, then
 * N(0, 1)); then, with bounds, the low and high corners, the centre, each face centre (one
 * coordinate at its bound) and uniform states across the box — so a model that misbehaves
 * only in one region of its declared state space is caught before it drives a robot.
 */
function checkState(k: number, samples: number, obs: Float32Array, rng: Rng, o: SanityCheckOptions): void {
  if (k === 0) return void obs.fill(0);
  if (k < samples || o.obsLow === undefined || o.obsHigh === undefined) return void rng.fillNormal(obs);
  const lo = o.obsLow;
  const hi = o.obsHigh;
  const j = k - samples;
  const d = obs.length;
  for (let i = 0; i < d; i++) {
    const l = lo[i] as number;
    const h = hi[i] as number;
    const mid = (l + h) / 2;
    if (j === 0) obs[i] = l;
    else if (j === 1) obs[i] = h;
    else if (j === 2) obs[i] = mid;
    else if (j < 3 + 2 * d) obs[i] = i === (j - 3) >> 1 ? ((j - 3) & 1 ? h : l) : mid;
    else obs[i] = rng.uniform(l, h);
  }
}

/** Throws E_MODEL with the first failing sample; resolves when Q_risk ∈ [0, 1] and π_rec is finite. */
export async function sanityCheck(model: RiskModel, o: SanityCheckOptions): Promise<void> {
  const rng = new Rng(o.seed ?? 20240607);
  const obs = new Float32Array(model.obsDim);
  const act = new Float32Array(model.actDim);
  const samples = o.samples ?? 32;
  const bounded = o.obsLow !== undefined && o.obsHigh !== undefined ? 3 + 2 * model.obsDim + (o.boundSamples ?? 64) : 0;
  for (let k = 0; k < samples + bounded; k++) {
    // Actions: zero with the rest state, uniform within the bounds otherwise.
    checkState(k, samples, obs, rng, o);
    for (let i = 0; i < act.length; i++) act[i] = k === 0 ? 0 : rng.uniform(o.actLow[i] as number, o.actHigh[i] as number);
    let q: number;
    let rec: Float32Array;
    try {
      q = await model.risk(obs, act);
      const p = model.recovery(obs);
      rec = p instanceof Float32Array ? p : await p;
    } catch (err) {
      throw new RShieldError('E_MODEL', `${o.label}: check batch sample ${k} failed to run: ${(err as Error).message}`, { sample: k }, { cause: err });
    }
    if (!(q >= 0 && q <= 1)) {
      throw new RShieldError('E_MODEL', `${o.label}: check batch sample ${k}: Q_risk ${q} is outside [0, 1] (is the critic's sigmoid missing?)`, { sample: k, qRisk: q });
    }
    if (rec.length !== model.actDim) {
      throw new RShieldError('E_MODEL', `${o.label}: check batch: recovery action has ${rec.length} values, actDim is ${model.actDim}`, { sample: k });
    }
    for (let i = 0; i < rec.length; i++) {
      if (!Number.isFinite(rec[i])) {
        throw new RShieldError('E_MODEL', `${o.label}: check batch sample ${k}: recovery action[${i}] is ${rec[i]}`, { sample: k });
      }
    }
  }
}
