/**
 * GraphBuilder → ONNX ModelProto bytes (onnx-proto's protobufjs classes), opset 17, IR 8.
 * Only nodes that an output or a state update depends on are written.
 */
import type { GraphBuilder } from './graph.js';
import { onnx, SHIELD_IR_VERSION, SHIELD_OPSET, valueInfo, type IAttributeProto, type IGraphProto, type INodeProto, type ITensorProto, type IValueInfoProto } from './onnx-proto.js';
import { Int64s, Tensor, type Attr } from './tensor.js';

export const OPSET = SHIELD_OPSET;
export const IR_VERSION = SHIELD_IR_VERSION;

/** Name of the graph output that carries the new value of state input `name`. */
export function nextName(name: string): string {
  return `${name}.next`;
}

const FLOAT = 1;
const BOOL = 9;
const INT64 = 7;
const DOUBLE = 11;
const UINT8 = 2;

function attribute(name: string, a: Attr): IAttributeProto {
  if ('i' in a) return { name, type: onnx.AttributeProto.AttributeType.INT, i: a.i };
  if ('f' in a) return { name, type: onnx.AttributeProto.AttributeType.FLOAT, f: a.f };
  if ('ints' in a) return { name, type: onnx.AttributeProto.AttributeType.INTS, ints: [...a.ints] };
  return { name, type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode(a.s) };
}

function floatBytes(values: ArrayLike<number>, f64: boolean): Uint8Array {
  const arr = f64 ? Float64Array.from(values) : Float32Array.from(values);
  return new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
}

export function serialize(g: GraphBuilder, opts: { docString?: string } = {}): Uint8Array {
  const f64 = g.dtype === 'float64';
  const floatType = f64 ? DOUBLE : FLOAT;
  const typeOf = (t: Tensor): number => (t.type === 'bool' ? BOOL : t.type === 'uint8' ? UINT8 : t.type === 'int64' ? INT64 : floatType);

  const roots: Tensor[] = [...g.outputs.values(), ...g.updates.values()];
  const needed = new Set<number>(roots.map((t) => t.id));
  const keep: boolean[] = new Array<boolean>(g.nodes.length).fill(false);
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i]!;
    if (!needed.has(n.output.id)) continue;
    keep[i] = true;
    for (const t of n.inputs) if (t instanceof Tensor) needed.add(t.id);
  }

  const initializers: ITensorProto[] = [];
  const int64Names = new Map<string, string>();
  const int64 = (v: Int64s): string => {
    const key = v.values.join(',');
    let name = int64Names.get(key);
    if (name === undefined) {
      name = `i64_${int64Names.size}`;
      int64Names.set(key, name);
      const arr = BigInt64Array.from(v.values.map((x) => BigInt(x)));
      initializers.push({ name, dataType: INT64, dims: [v.values.length], rawData: new Uint8Array(arr.buffer) });
    }
    return name;
  };

  // A node whose value is a graph output is named after that output (no Identity copy);
  // values that are not node outputs, or back a second output, go through Identity.
  const outputs: IValueInfoProto[] = [];
  const renamed = new Map<number, string>();
  const identities: [string, Tensor][] = [];
  const declare = (name: string, t: Tensor): void => {
    outputs.push(valueInfo(name, t.shape, typeOf(t)));
    if (t.producer !== undefined && !renamed.has(t.id)) renamed.set(t.id, name);
    else identities.push([name, t]);
  };
  for (const [name, t] of g.outputs) declare(name, t);
  for (const [name, t] of g.updates) declare(nextName(name), t);
  const nameOf = (t: Tensor): string => renamed.get(t.id) ?? t.name;

  const nodes: INodeProto[] = [];
  g.nodes.forEach((n, i) => {
    if (!keep[i]) return;
    const inputs = n.inputs.map((t) => (t === null ? '' : t instanceof Int64s ? int64(t) : nameOf(t)));
    // Trailing omitted optional inputs are dropped; inner ones stay as ''.
    while (inputs.length > 0 && inputs[inputs.length - 1] === '') inputs.pop();
    nodes.push({
      opType: n.op,
      name: n.output.name,
      input: inputs,
      output: [nameOf(n.output)],
      attribute: Object.entries(n.attrs).map(([k, a]) => attribute(k, a)),
    });
  });

  for (const [t, c] of g.constants) {
    if (!needed.has(t.id)) continue;
    const values = typeof c.values === 'function' ? c.values() : c.values;
    initializers.push({ name: t.name, dataType: floatType, dims: t.shape as number[], rawData: floatBytes(values, f64) });
  }

  for (const [name, t] of identities) nodes.push({ opType: 'Identity', name, input: [nameOf(t)], output: [name] });

  const graph: IGraphProto = {
    name: g.name,
    node: nodes,
    initializer: initializers,
    input: [...g.inputs.values()].map((i) => valueInfo(i.tensor.name, i.tensor.shape, typeOf(i.tensor))),
    output: outputs,
  };
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    producerName: 'rshield',
    producerVersion: '0.1.0',
    docString: opts.docString ?? '',
    opsetImport: [{ domain: '', version: OPSET }],
    graph,
  });
  return onnx.ModelProto.encode(model).finish();
}
