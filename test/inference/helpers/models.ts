/**
 * Hand-written ONNX models for the shield tests, built with onnx-proto directly (not src/nn):
 * the "models from other tools" check. The critic is sigmoid(w·[obs, act] + b), so a test
 * knows exactly which inputs exceed ε; the recovery policy is linear, W·obs + c.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelCardInput } from '../../../src/config/model-card.js';
import { encodeModel, floatTensor, floatValueInfo, model, node } from '../../../src/nn/onnx-proto.js';

export interface TestModelSpec {
  obsDim?: number;
  actDim?: number;
  /** Critic weights over [obs, act] (obsDim + actDim values) and bias. */
  w?: number[];
  b?: number;
  /** Recovery: W (obsDim × actDim, row-major) and c (actDim). Default: W = 0, c = 0.5. */
  recW?: number[];
  recC?: number[];
  names?: { obs?: string; act?: string; q?: string; recIn?: string; recOut?: string };
  criticOpset?: number;
  recoveryOpset?: number;
  /** Leave out the critic's Sigmoid (Q_risk then leaves [0, 1]). */
  noSigmoid?: boolean;
  card?: Partial<ModelCardInput>;
  /** File names the card gives (a PyTorch export's, say); default critic.onnx and recovery.onnx. */
  files?: { critic?: string; recovery?: string };
}

export const DEFAULTS = { obsDim: 3, actDim: 3 };

export function criticBytes(s: TestModelSpec = {}): Uint8Array {
  const ds = s.obsDim ?? DEFAULTS.obsDim;
  const da = s.actDim ?? DEFAULTS.actDim;
  const n = { obs: 'obs', act: 'act', q: 'q_risk', ...s.names };
  const w = s.w ?? new Array<number>(ds + da).fill(1);
  const nodes = [
    node('Concat', [n.obs, n.act], ['x'], { ints: { axis: 1 } }),
    node('MatMul', ['x', 'W'], ['z0']),
    node('Add', ['z0', 'B'], [s.noSigmoid ? n.q : 'z']),
  ];
  if (!s.noSigmoid) nodes.push(node('Sigmoid', ['z'], [n.q]));
  return encodeModel(
    model(
      {
        name: 'critic',
        node: nodes,
        initializer: [floatTensor('W', [ds + da, 1], w), floatTensor('B', [1], [s.b ?? 0])],
        input: [floatValueInfo(n.obs, ['N', ds]), floatValueInfo(n.act, ['N', da])],
        output: [floatValueInfo(n.q, ['N', 1])],
      },
      s.criticOpset,
    ),
  );
}

export function recoveryBytes(s: TestModelSpec = {}): Uint8Array {
  const ds = s.obsDim ?? DEFAULTS.obsDim;
  const da = s.actDim ?? DEFAULTS.actDim;
  const n = { recIn: 'obs', recOut: 'action', ...s.names };
  // Same initializer names as the critic on purpose: fusion must keep them apart.
  return encodeModel(
    model(
      {
        name: 'recovery',
        node: [node('MatMul', [n.recIn, 'W'], ['y0']), node('Add', ['y0', 'B'], [n.recOut])],
        initializer: [floatTensor('W', [ds, da], s.recW ?? new Array<number>(ds * da).fill(0)), floatTensor('B', [da], s.recC ?? new Array<number>(da).fill(0.5))],
        input: [floatValueInfo(n.recIn, ['N', ds])],
        output: [floatValueInfo(n.recOut, ['N', da])],
      },
      s.recoveryOpset,
    ),
  );
}

export function cardFor(s: TestModelSpec = {}): ModelCardInput {
  const ds = s.obsDim ?? DEFAULTS.obsDim;
  const da = s.actDim ?? DEFAULTS.actDim;
  const n = { obs: 'obs', act: 'act', q: 'q_risk', recIn: 'obs', recOut: 'action', ...s.names };
  return {
    format: 'rshield-model/1',
    robot: 'test-bot',
    version: '1',
    createdAt: '2024-01-01T00:00:00Z',
    obsDim: ds,
    actDim: da,
    actLow: new Array<number>(da).fill(-1),
    actHigh: new Array<number>(da).fill(1),
    gammaRisk: 0.5,
    epsRisk: 0.5,
    critic: { file: s.files?.critic ?? 'critic.onnx', inputs: { obs: n.obs, act: n.act }, output: n.q },
    recovery: { file: s.files?.recovery ?? 'recovery.onnx', input: n.recIn, output: n.recOut },
    ...s.card,
  };
}

/** Writes the critic, the recovery policy (critic.onnx, recovery.onnx unless `files` says) and model.json into `dir` (created). */
export async function writeModelDir(dir: string, s: TestModelSpec = {}): Promise<string> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, s.files?.critic ?? 'critic.onnx'), criticBytes(s));
  await writeFile(join(dir, s.files?.recovery ?? 'recovery.onnx'), recoveryBytes(s));
  await writeFile(join(dir, 'model.json'), JSON.stringify(cardFor(s), null, 2));
  return dir;
}
