import { readFile } from 'node:fs/promises';
import { RShieldError } from '../core/errors.js';
import { onnx } from '../nn/onnx-proto.js';

/**
 * The float32 initializers of an ONNX file by name. Models exported by src/nn name their
 * initializers after the parameters, so a trainer can continue from a shipped model.
 */
export async function readOnnxWeights(path: string): Promise<Map<string, Float32Array>> {
  let model;
  try {
    model = onnx.ModelProto.decode(await readFile(path));
  } catch (err) {
    throw new RShieldError('E_MODEL', `${path}: cannot read ONNX model: ${(err as Error).message}`, { path }, { cause: err });
  }
  const out = new Map<string, Float32Array>();
  for (const t of model.graph?.initializer ?? []) {
    if (t.dataType !== onnx.TensorProto.DataType.FLOAT || typeof t.name !== 'string') continue;
    if (t.rawData !== null && t.rawData !== undefined && t.rawData.length > 0) {
      const bytes = Uint8Array.from(t.rawData);
      out.set(t.name, new Float32Array(bytes.buffer, 0, bytes.length / 4));
    } else if (t.floatData !== null && t.floatData !== undefined) {
      out.set(t.name, Float32Array.from(t.floatData));
    }
  }
  return out;
}
