/**
 * The one ONNX protobuf access (onnx-proto, a CommonJS package) and the few builders graphs are
 * assembled with: the training engine's serializer (serialize.ts), the shield's fused decision
 * graph (inference/merge.ts), the hand-written test models and the bench models. A leaf file that
 * imports nothing of src/nn, so inference may use it and still run models from other tools.
 */
import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';

export const onnx = onnxProto.onnx;
export type ModelProto = OnnxTypes.ModelProto;
export type IModelProto = OnnxTypes.IModelProto;
export type IGraphProto = OnnxTypes.IGraphProto;
export type INodeProto = OnnxTypes.INodeProto;
export type ITensorProto = OnnxTypes.ITensorProto;
export type IValueInfoProto = OnnxTypes.IValueInfoProto;
export type IAttributeProto = OnnxTypes.IAttributeProto;

/** Default-domain opset the shield's own graphs are written against. */
export const SHIELD_OPSET = 17;
/** IR version 8 goes with opset 17 (onnx/onnx docs/Versioning.md). */
export const SHIELD_IR_VERSION = 8;

/** A float32 initializer (raw little-endian bytes: what every exporter writes). */
export function floatTensor(name: string, dims: readonly number[], values: Float32Array | readonly number[]): ITensorProto {
  const data = values instanceof Float32Array ? values : Float32Array.from(values);
  const expected = dims.reduce((a, b) => a * b, 1);
  if (data.length !== expected) {
    throw new RangeError(`initializer '${name}' has ${data.length} values, dims [${dims.join(', ')}] need ${expected}`);
  }
  return {
    name,
    dims: [...dims],
    dataType: onnx.TensorProto.DataType.FLOAT,
    rawData: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)),
  };
}

/** An int64 initializer (shapes, axes). */
export function int64Tensor(name: string, dims: readonly number[], values: readonly number[]): ITensorProto {
  return { name, dims: [...dims], dataType: onnx.TensorProto.DataType.INT64, int64Data: [...values] };
}

/** A value info of element type `elemType` (onnx.TensorProto.DataType); a string dim is symbolic (e.g. 'N' for the batch). */
export function valueInfo(name: string, dims: readonly (number | string)[], elemType: number): IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  };
}

/** A float32 value info. */
export function floatValueInfo(name: string, dims: readonly (number | string)[]): IValueInfoProto {
  return valueInfo(name, dims, onnx.TensorProto.DataType.FLOAT);
}

export type AttrValue = number | readonly number[] | string;

/** A node; integer attributes are given as integers, float attributes via `floatAttrs`. */
export function node(
  opType: string,
  inputs: readonly string[],
  outputs: readonly string[],
  attrs: { ints?: Record<string, number | readonly number[]>; floats?: Record<string, number> } = {},
): INodeProto {
  const attribute: IAttributeProto[] = [];
  const T = onnx.AttributeProto.AttributeType;
  for (const [name, v] of Object.entries(attrs.ints ?? {})) {
    attribute.push(typeof v === 'number' ? { name, type: T.INT, i: v } : { name, type: T.INTS, ints: [...v] });
  }
  for (const [name, v] of Object.entries(attrs.floats ?? {})) attribute.push({ name, type: T.FLOAT, f: v });
  return { opType, input: [...inputs], output: [...outputs], attribute, name: `${opType}_${outputs[0] ?? ''}` };
}

/** Wraps a graph into a model with the shield's opset and IR version. */
export function model(graph: IGraphProto, opset = SHIELD_OPSET, irVersion = SHIELD_IR_VERSION): ModelProto {
  return onnx.ModelProto.create({
    irVersion,
    producerName: 'rshield',
    opsetImport: [{ domain: '', version: opset }],
    graph,
  });
}

export function encodeModel(m: IModelProto): Uint8Array {
  return onnx.ModelProto.encode(m).finish();
}

/** Decodes ONNX bytes; throws whatever protobufjs throws on truncated or foreign data. */
export function decodeModel(bytes: Uint8Array): ModelProto {
  return onnx.ModelProto.decode(bytes);
}
