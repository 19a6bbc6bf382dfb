/**
 * A hostile critic for the watchdog tests: Q_risk = sigmoid(Σ[obs, act]) as usual, but first a
 * Loop node runs round(max(0, Σobs − threshold) · tripsPerUnit) empty iterations (~1 µs each on
 * ONNX Runtime). Below the threshold it is an ordinary model and passes the check batch; above
 * it, one run takes as long as the state says — seconds, or, with a large Σobs, days.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelCardInput } from '../../../src/config/model-card.js';
import { encodeModel, floatTensor, floatValueInfo, int64Tensor, model, node, onnx } from '../../../src/nn/onnx-proto.js';
import { cardFor, recoveryBytes } from './models.js';

const { INT64, BOOL } = onnx.TensorProto.DataType;
const scalar = (name: string, elemType: number) => ({ name, type: { tensorType: { elemType, shape: { dim: [] } } } });

export function loopingCriticBytes(threshold: number, tripsPerUnit: number): Uint8Array {
  const body = {
    name: 'spin',
    node: [node('Identity', ['cond_in'], ['cond_out']), node('Add', ['v_in', 'one'], ['v_out'])],
    initializer: [floatTensor('one', [1], [1])],
    input: [scalar('iter', INT64), scalar('cond_in', BOOL), floatValueInfo('v_in', [1])],
    output: [scalar('cond_out', BOOL), floatValueInfo('v_out', [1])],
  };
  const loop = node('Loop', ['trips', '', 'v0'], ['v_final']);
  loop.attribute = [{ name: 'body', type: onnx.AttributeProto.AttributeType.GRAPH, g: body }];
  return encodeModel(
    model({
      name: 'looping_critic',
      node: [
        node('ReduceSum', ['obs'], ['obs_sum'], { ints: { keepdims: 0 } }),
        node('Sub', ['obs_sum', 'threshold'], ['over']),
        node('Relu', ['over'], ['over_pos']),
        node('Mul', ['over_pos', 'trips_per_unit'], ['trips_f']),
        node('Cast', ['trips_f'], ['trips'], { ints: { to: INT64 } }),
        loop,
        // The loop's result feeds Q_risk (times 0), so no optimizer may drop it.
        node('Mul', ['v_final', 'zero'], ['v_zero']),
        node('Concat', ['obs', 'act'], ['x'], { ints: { axis: 1 } }),
        node('ReduceSum', ['x', 'axis1'], ['x_sum'], { ints: { keepdims: 1 } }),
        node('Add', ['x_sum', 'v_zero'], ['z']),
        node('Sigmoid', ['z'], ['q_risk']),
      ],
      initializer: [
        floatTensor('threshold', [], [threshold]),
        floatTensor('trips_per_unit', [], [tripsPerUnit]),
        floatTensor('v0', [1], [0]),
        floatTensor('zero', [1], [0]),
        int64Tensor('axis1', [1], [1]),
      ],
      input: [floatValueInfo('obs', ['N', 3]), floatValueInfo('act', ['N', 3])],
      output: [floatValueInfo('q_risk', ['N', 1])],
    }),
  );
}

/** A model directory whose critic loops when Σobs > threshold (obs 3, act 3, robot test-bot). */
export async function writeLoopingModel(dir: string, o: { threshold?: number; tripsPerUnit?: number; card?: Partial<ModelCardInput> } = {}): Promise<string> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'critic.onnx'), loopingCriticBytes(o.threshold ?? 100, o.tripsPerUnit ?? 1e6));
  await writeFile(join(dir, 'recovery.onnx'), recoveryBytes());
  await writeFile(join(dir, 'model.json'), JSON.stringify(cardFor({ card: { version: 'looping', ...o.card } }), null, 2));
  return dir;
}

/** Σobs above the threshold (100) that makes one run take about `seconds` (≈1 µs per trip at 1e6 trips per unit). */
export const obsLoopingFor = (seconds: number): number[] => [100 + seconds, 0, 0];
