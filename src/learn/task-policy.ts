import ort from 'onnxruntime-node';
import { RShieldError } from '../core/errors.js';
import type { Dataset } from '../data/index.js';

/**
 * The reference's TD target samples a′ from the task policy (reference notes §2: a′ ~ π_task(s′)).
 * When the shielded controller is itself a model, `rshield train --task-policy FILE.onnx`
 * relabels every next action with that model's action at s′ (its first input takes obs
 * [N, obsDim], its first output gives [N, actDim]), clipped to the bounds.
 */
export async function relabelNextActions(data: Dataset, policyPath: string): Promise<Dataset> {
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(policyPath, { intraOpNumThreads: 2 });
  } catch (err) {
    throw new RShieldError('E_MODEL', `--task-policy ${policyPath}: cannot load ONNX model: ${(err as Error).message}`, { path: policyPath }, { cause: err });
  }
  try {
    const input = session.inputNames[0];
    const output = session.outputNames[0];
    if (input === undefined || output === undefined) throw new RShieldError('E_MODEL', `--task-policy ${policyPath}: the model needs an input and an output`);
    const S = data.obsDim;
    const A = data.actDim;
    const nextAct = new Float32Array(data.size * A);
    const chunk = 4096;
    for (let start = 0; start < data.size; start += chunk) {
      const n = Math.min(chunk, data.size - start);
      const obs = new ort.Tensor('float32', data.nextObs.slice(start * S, (start + n) * S), [n, S]);
      const out = (await session.run({ [input]: obs }))[output];
      const values = out?.data;
      if (!(values instanceof Float32Array) || values.length !== n * A) {
        throw new RShieldError('E_MODEL', `--task-policy ${policyPath}: output '${output}' has ${values?.length ?? 0} values for ${n} states, expected ${n * A} (actDim ${A})`, { path: policyPath });
      }
      for (let i = 0; i < n * A; i++) {
        const j = i % A;
        const lo = data.meta.actLow[j] ?? -Infinity;
        const hi = data.meta.actHigh[j] ?? Infinity;
        const v = values[i]!;
        nextAct[start * A + i] = v < lo ? lo : v > hi ? hi : v;
      }
    }
    return { ...data, nextAct, hasNextAct: new Uint8Array(data.size).fill(1) };
  } finally {
    await session.release();
  }
}
