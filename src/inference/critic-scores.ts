/**
 * Q_risk of many (s, a) rows at once, by the card's critic graph in batches: for offline tools
 * (calibration sweeps, risk maps), never the tick path. The directory's card and files are read
 * as the shield reads them (model-source.ts); load it through the shield first to check it.
 */
import ort from 'onnxruntime-node';
import { RShieldError } from '../core/errors.js';
import { readModelSource } from './model-source.js';

/** `n` rows of obs [n, obsDim] and act [n, actDim] → Q_risk [n]. */
export async function criticScores(modelDir: string, obs: Float32Array, act: Float32Array, n: number): Promise<Float32Array> {
  const source = await readModelSource(modelDir);
  const { critic, obsDim, actDim } = source.card;
  if (obs.length < n * obsDim || act.length < n * actDim) throw new RShieldError('E_USAGE', `criticScores: ${n} rows need ${n * obsDim} obs and ${n * actDim} act values, got ${obs.length} and ${act.length}`);
  const session = await ort.InferenceSession.create(source.critic.bytes, { intraOpNumThreads: 2 });
  try {
    const out = new Float32Array(n);
    const chunk = 4096;
    for (let start = 0; start < n; start += chunk) {
      const m = Math.min(chunk, n - start);
      const feeds = {
        [critic.inputs.obs]: new ort.Tensor('float32', obs.subarray(start * obsDim, (start + m) * obsDim), [m, obsDim]),
        [critic.inputs.act]: new ort.Tensor('float32', act.subarray(start * actDim, (start + m) * actDim), [m, actDim]),
      };
      const q = (await session.run(feeds))[critic.output]?.data;
      if (!(q instanceof Float32Array) || q.length !== m) {
        throw new RShieldError('E_MODEL', `${modelDir}: critic output '${critic.output}' gave ${q instanceof Float32Array ? q.length : 'no'} float values for ${m} rows`, { dir: modelDir });
      }
      out.set(q, start);
    }
    return out;
  } finally {
    await session.release();
  }
}
