import { Rng } from '../../../core/rng.js';
import type { RawTransition } from '../../raw-transition.js';
import { ExtractionEnv, type ExtractionVariant } from './extraction-env.js';
import { extractionExpertAction } from './extraction-expert.js';

/** Expert noise σ as a share of each action half-range: low for the first steps, then high (§1.5). */
const NOISE_EARLY = 0.1;
const NOISE_LATE = 0.25;
const EARLY_STEPS = 4;

/**
 * The reference's constraint demos for Object Extraction (§1.5, gen_shelf_demos): the expert
 * with Gaussian noise on its action (σ 0.1 of the range for the first 4 steps, then 0.25),
 * episodes of at most 25 steps that end at a topple, a success or the horizon. The noise is
 * what knocks blocks over: a gripper off by a few millimetres lands on a neighbour.
 */
export function* extractionOffline(variant: ExtractionVariant, n: number, seed: number): Generator<RawTransition> {
  const rng = new Rng(seed);
  const env = new ExtractionEnv(variant, { seed: rng.nextUint32() });
  const { actLow, actHigh } = env.spec;
  const act = new Float64Array(4);
  try {
    let produced = 0;
    for (let episode = 0; produced < n; episode++) {
      let obs = env.reset();
      for (let step = 0; produced < n; step++) {
        extractionExpertAction(obs, variant.maxMove, act);
        const sigma = step < EARLY_STEPS ? NOISE_EARLY : NOISE_LATE;
        for (let i = 0; i < 4; i++) {
          const half = ((actHigh[i] as number) - (actLow[i] as number)) / 2;
          act[i] = Math.min(actHigh[i] as number, Math.max(actLow[i] as number, (act[i] as number) + sigma * half * rng.normal()));
        }
        const r = env.step(act);
        yield { obs, act: Float32Array.from(act), cost: r.violation ? 1 : 0, nextObs: r.obs, done: r.done, episode, step };
        produced++;
        obs = r.obs;
        if (r.done) break;
      }
    }
  } finally {
    env.close();
  }
}
