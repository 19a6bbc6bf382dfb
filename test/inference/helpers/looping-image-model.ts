/**
 * Hostile image models for the watchdog tests, built by hand like looping-critic.ts: the small
 * image model of image-model.ts with its heads or its encoder replaced by a graph that first runs
 * a Loop of empty iterations (~1 µs each on ONNX Runtime). The heads loop when Σobs > 100
 * (obsLoopingFor, as the looping critic); the encoder loops on a bright frame (mean pixel above
 * 250: a white frame). Otherwise both answer at once, so each passes its worker's check.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeModel, floatTensor, floatValueInfo, int64Tensor, model, node, onnx, valueInfo } from '../../../src/nn/onnx-proto.js';
import { writeImageModelDir } from './image-model.js';

const { INT64, BOOL, UINT8, FLOAT } = onnx.TensorProto.DataType;
const scalar = (name: string, elemType: number) => ({ name, type: { tensorType: { elemType, shape: { dim: [] } } } });

/** Nodes computing `v_zero` = 0 · (result of round(max(0, x − threshold) · tripsPerUnit) loop trips), x a scalar. */
function loopNodes(x: string): ReturnType<typeof node>[] {
  const body = {
    name: 'spin',
    node: [node('Identity', ['cond_in'], ['cond_out']), node('Add', ['v_in', 'one'], ['v_out'])],
    initializer: [floatTensor('one', [1], [1])],
    input: [scalar('iter', INT64), scalar('cond_in', BOOL), floatValueInfo('v_in', [1])],
    output: [scalar('cond_out', BOOL), floatValueInfo('v_out', [1])],
  };
  const loop = node('Loop', ['trips', '', 'v0'], ['v_final']);
  loop.attribute = [{ name: 'body', type: onnx.AttributeProto.AttributeType.GRAPH, g: body }];
  return [
    node('Sub', [x, 'threshold'], ['over']),
    node('Relu', ['over'], ['over_pos']),
    node('Mul', ['over_pos', 'trips_per_unit'], ['trips_f']),
    node('Cast', ['trips_f'], ['trips'], { ints: { to: INT64 } }),
    loop,
    // The loop's result feeds the outputs (times 0), so no optimizer may drop it.
    node('Mul', ['v_final', 'zero'], ['v_zero']),
  ];
}

const loopInits = (threshold: number, tripsPerUnit: number) => [
  floatTensor('threshold', [], [threshold]),
  floatTensor('trips_per_unit', [], [tripsPerUnit]),
  floatTensor('v0', [1], [0]),
  floatTensor('zero', [1], [0]),
];

/** Heads: Q_risk = sigmoid(Σ[obs, act] + 0·Σlatent), action = 0, after Σobs − 100 (×1e6) loop trips. */
export function loopingHeadsBytes(latentDim: number): Uint8Array {
  return encodeModel(
    model({
      name: 'looping_heads',
      node: [
        node('ReduceSum', ['obs'], ['obs_sum'], { ints: { keepdims: 0 } }),
        ...loopNodes('obs_sum'),
        node('ReduceSum', ['latent'], ['latent_sum'], { ints: { keepdims: 0 } }),
        node('Mul', ['latent_sum', 'zero'], ['latent_zero']),
        node('Concat', ['obs', 'act'], ['x'], { ints: { axis: 1 } }),
        node('ReduceSum', ['x', 'axis1'], ['x_sum'], { ints: { keepdims: 1 } }),
        node('Add', ['x_sum', 'v_zero'], ['z0']),
        node('Add', ['z0', 'latent_zero'], ['z']),
        node('Sigmoid', ['z'], ['q_risk']),
        node('Mul', ['act', 'zero'], ['action']),
      ],
      initializer: [...loopInits(100, 1e6), int64Tensor('axis1', [1], [1])],
      input: [floatValueInfo('latent', ['N', latentDim]), floatValueInfo('obs', ['N', 3]), floatValueInfo('act', ['N', 3])],
      output: [floatValueInfo('q_risk', ['N', 1]), floatValueInfo('action', ['N', 3])],
    }),
  );
}

/** Encoder: latent = 0 (one frame), after (mean pixel − 250) · tripsPerUnit loop trips: a white frame loops `whiteSeconds`. */
export function loopingEncoderBytes(latentDim: number, whiteSeconds: number): Uint8Array {
  return encodeModel(
    model({
      name: 'looping_encoder',
      node: [
        node('Cast', ['image'], ['image_f'], { ints: { to: FLOAT } }),
        node('ReduceMean', ['image_f'], ['mean'], { ints: { keepdims: 0 } }),
        ...loopNodes('mean'),
        node('Mul', ['latent_zeros', 'mean'], ['latent_0']),
        node('Mul', ['latent_0', 'zero'], ['latent_1']),
        node('Add', ['latent_1', 'v_zero'], ['latent']),
      ],
      initializer: [...loopInits(250, (whiteSeconds * 1e6) / 5), floatTensor('latent_zeros', [1, latentDim], new Array<number>(latentDim).fill(0))],
      input: [valueInfo('image', ['N', 'H', 'W', 3], UINT8)],
      output: [floatValueInfo('latent', [1, latentDim])],
    }),
  );
}

/** A dvrk-reacher-image model directory whose heads loop (obsLoopingFor) or whose encoder loops on a white frame. */
export async function writeLoopingImageModel(part: 'heads' | 'encoder', o: { whiteSeconds?: number } = {}): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const m = await writeImageModelDir();
  const card = JSON.parse(await readFile(join(m.dir, 'model.json'), 'utf8')) as { image: { latentDim: number } };
  const { latentDim } = card.image;
  if (part === 'heads') await writeFile(join(m.dir, 'heads.onnx'), loopingHeadsBytes(latentDim));
  else await writeFile(join(m.dir, 'encoder.onnx'), loopingEncoderBytes(latentDim, o.whiteSeconds ?? 3));
  return m;
}
