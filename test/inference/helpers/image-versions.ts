/**
 * Image model versions for the hot-swap tests, built on the small image model of image-model.ts:
 * each version's heads are hand-built so that its output names it — Q_risk = sigmoid(10) ≈ 1
 * (every tick is a recovery) and the recovery action is the constant `c` — and bad versions break
 * one thing each: the heads' Q_risk, the encoder's latent on a black frame or on a real camera
 * frame, or the card's wiring of the encoder.
 */
import type { ModelBundle } from '../../../src/models/model-dir.js';
import { readModelDir } from '../../../src/models/model-dir.js';
import { encodeModel, floatTensor, floatValueInfo, int64Tensor, model, node, onnx, valueInfo } from '../../../src/nn/onnx-proto.js';
import { writeImageModelDir } from './image-model.js';

const { FLOAT, UINT8 } = onnx.TensorProto.DataType;

/** Heads: q_risk = sigmoid(q + 0·Σ[latent, obs, act]), action = c (every row). */
export function constantHeadsBytes(latentDim: number, c: number, q = 10): Uint8Array {
  return encodeModel(
    model({
      name: 'constant_heads',
      node: [
        node('ReduceSum', ['latent', 'axis1'], ['l_sum'], { ints: { keepdims: 1 } }),
        node('Concat', ['obs', 'act'], ['x'], { ints: { axis: 1 } }),
        node('ReduceSum', ['x', 'axis1'], ['x_sum'], { ints: { keepdims: 1 } }),
        node('Add', ['l_sum', 'x_sum'], ['s']),
        node('Mul', ['s', 'zero'], ['s0']),
        node('Add', ['s0', 'q'], ['z']),
        node('Sigmoid', ['z'], ['q_risk']),
        node('Mul', ['act', 'zero'], ['a0']),
        node('Add', ['a0', 'c'], ['action']),
      ],
      initializer: [int64Tensor('axis1', [1], [1]), floatTensor('zero', [], [0]), floatTensor('q', [], [q]), floatTensor('c', [], [c])],
      input: [floatValueInfo('latent', ['N', latentDim]), floatValueInfo('obs', ['N', 3]), floatValueInfo('act', ['N', 3])],
      output: [floatValueInfo('q_risk', ['N', 1]), floatValueInfo('action', ['N', 3])],
    }),
  );
}

/**
 * Encoder: latent = 0 · sqrt(limit − mean pixel). A black frame (mean 0) gives zeros; any frame
 * brighter than `limit` gives NaN: it passes the worker's black-frame check and fails on a real
 * camera frame. limit −1 fails the black frame too.
 */
export function nanEncoderBytes(latentDim: number, limit: number): Uint8Array {
  return encodeModel(
    model({
      name: 'nan_encoder',
      node: [
        node('Cast', ['image'], ['image_f'], { ints: { to: FLOAT } }),
        node('ReduceMean', ['image_f'], ['mean'], { ints: { keepdims: 0 } }),
        node('Sub', ['limit', 'mean'], ['d']),
        node('Sqrt', ['d'], ['r']),
        node('Mul', ['zeros', 'r'], ['latent']),
      ],
      initializer: [floatTensor('limit', [], [limit]), floatTensor('zeros', [1, latentDim], new Array<number>(latentDim).fill(0))],
      input: [valueInfo('image', ['N', 'H', 'W', 3], UINT8)],
      output: [floatValueInfo('latent', [1, latentDim])],
    }),
  );
}

export interface ImageVersions {
  /** The card's latent size. */
  readonly latentDim: number;
  /** Version `version` whose recovery action is `c` in every dimension; `edit` changes its card or files. */
  readonly version: (version: string, c: number, edit?: (card: Record<string, unknown>, files: Map<string, Uint8Array>) => void) => ModelBundle;
  readonly cleanup: () => Promise<void>;
}

/** Versions of one dvrk-reacher-image model (its encoder, a card per version, constant heads). */
export async function imageVersions(): Promise<ImageVersions> {
  const m = await writeImageModelDir();
  const base = await readModelDir(m.dir);
  const latentDim = (base.card.image as { latentDim: number }).latentDim;
  return {
    latentDim,
    version(version, c, edit) {
      const card = structuredClone(base.card) as Record<string, unknown>;
      card.version = version;
      const files = new Map(base.files);
      files.set((card.heads as { file: string }).file, constantHeadsBytes(latentDim, c));
      edit?.(card, files);
      return { card: card as ModelBundle['card'], files };
    },
    cleanup: m.cleanup,
  };
}
