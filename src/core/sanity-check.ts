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
  readonly samples?: number;
  readonly seed?: number;
  /** Names the model in errors, e.g. "dvrk-reacher model 3". */
  readonly label: string;
}

/** Throws E_MODEL with the first failing sample; resolves when Q_risk ∈ [0, 1] and π_rec is finite. */
export async function sanityCheck(model: RiskModel, o: SanityCheckOptions): Promise<void> {
  const rng = new Rng(o.seed ?? 20240607);
  const obs = new Float32Array(model.obsDim);
  const act = new Float32Array(model.actDim);
  const samples = o.samples ?? 32;
  for (let k = 0; k < samples; k++) {
    // Sample 0 is all zeros (a common rest state); the rest are N(0, 1) states, uniform actions.
    if (k > 0) rng.fillNormal(obs);
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
