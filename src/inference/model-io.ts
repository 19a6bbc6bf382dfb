/**
 * Model IO validation at load: the card says which tensors carry obs, act, Q_risk and the
 * recovery action; the ONNX graphs must have them, as float32 of the card's sizes. Errors name
 * the file, the tensor and the mismatch ("critic input 'obs' has 3 columns, card says obsDim 4").
 */
import { RShieldError } from '../core/errors.js';
import type { ModelCard } from '../config/model-card.js';
import { onnx, type IGraphProto, type IValueInfoProto, type ModelProto } from '../nn/onnx-proto.js';

/** A dimension: a fixed size, a symbolic name (e.g. batch 'N'), or null when unknown. */
export type Dim = number | string | null;

export interface TensorInfo {
  readonly name: string;
  /** ONNX element type (1 = float32); 0 when the graph does not say. */
  readonly elemType: number;
  /** null when the graph declares no shape. */
  readonly dims: readonly Dim[] | null;
}

export interface GraphIO {
  readonly inputs: ReadonlyMap<string, TensorInfo>;
  readonly outputs: ReadonlyMap<string, TensorInfo>;
}

function info(v: IValueInfoProto): TensorInfo {
  const tt = v.type?.tensorType;
  const shape = tt?.shape;
  const dims =
    shape == null
      ? null
      : (shape.dim ?? []).map((d): Dim => {
          if (d.dimValue != null && Number(d.dimValue) > 0) return Number(d.dimValue);
          if (d.dimParam != null && d.dimParam !== '') return d.dimParam;
          return null;
        });
  return { name: v.name ?? '', elemType: tt?.elemType ?? 0, dims };
}

/** Graph inputs (minus initializers listed as inputs, as IR < 4 exporters do) and outputs. */
export function graphIO(graph: IGraphProto): GraphIO {
  const inits = new Set((graph.initializer ?? []).map((t) => t.name ?? ''));
  const inputs = new Map<string, TensorInfo>();
  for (const v of graph.input ?? []) if (!inits.has(v.name ?? '')) inputs.set(v.name ?? '', info(v));
  const outputs = new Map<string, TensorInfo>();
  for (const v of graph.output ?? []) outputs.set(v.name ?? '', info(v));
  return { inputs, outputs };
}

const FLOAT: number = onnx.TensorProto.DataType.FLOAT;

function fail(message: string, context: Record<string, unknown>): never {
  throw new RShieldError('E_MODEL', message, context);
}

function list(m: ReadonlyMap<string, TensorInfo>): string {
  return [...m.keys()].map((k) => `'${k}'`).join(', ') || 'none';
}

/**
 * Checks one tensor: present, float32, shape [N, width] (a batch dim then `width` columns) or,
 * for a single-column output, [N]. Unknown dims pass here and are caught by the check batch.
 */
function checkTensor(
  where: ReadonlyMap<string, TensorInfo>,
  role: string,
  kind: 'input' | 'output',
  name: string,
  width: number,
  cardField: string,
  ctx: Record<string, unknown>,
): TensorInfo {
  const t = where.get(name);
  if (t === undefined) fail(`${role} has no ${kind} '${name}' (its ${kind}s: ${list(where)}); fix the card or the model`, { ...ctx, name });
  if (t.elemType !== 0 && t.elemType !== FLOAT) {
    const type = onnx.TensorProto.DataType[t.elemType] ?? String(t.elemType);
    fail(`${role} ${kind} '${name}' is ${type}, the shield feeds float32`, { ...ctx, name });
  }
  if (t.dims === null) return t;
  const rankOk = t.dims.length === 2 || (t.dims.length === 1 && width === 1 && kind === 'output');
  if (!rankOk) fail(`${role} ${kind} '${name}' has rank ${t.dims.length}, expected [N, ${width}]`, { ...ctx, name });
  const batch = t.dims[0];
  if (typeof batch === 'number' && batch !== 1) {
    fail(`${role} ${kind} '${name}' has a fixed batch of ${batch}; the shield runs batch 1`, { ...ctx, name });
  }
  const cols = t.dims.length === 2 ? t.dims[1] : 1;
  if (typeof cols === 'number' && cols !== width) {
    fail(`${role} ${kind} '${name}' has ${cols} columns, card says ${cardField} ${width}`, { ...ctx, name });
  }
  return t;
}

function checkNoExtraInputs(io: GraphIO, role: string, wired: readonly string[], ctx: Record<string, unknown>): void {
  for (const name of io.inputs.keys()) {
    if (!wired.includes(name)) fail(`${role} has input '${name}' that the card does not wire (card wires ${wired.map((w) => `'${w}'`).join(', ')})`, ctx);
  }
}

export interface CheckedIO {
  /** Rank of the critic output: 2 for [N, 1], 1 for [N]. */
  readonly criticOutputRank: number;
}

/** Validates critic and recovery graphs against the card; throws E_MODEL naming the mismatch. */
export function checkModelIO(card: ModelCard, critic: ModelProto, recovery: ModelProto): CheckedIO {
  const ctx = { robot: card.robot, version: card.version };
  const cg = critic.graph;
  const rg = recovery.graph;
  if (cg == null) fail(`critic (${card.critic.file}) has no graph`, ctx);
  if (rg == null) fail(`recovery (${card.recovery.file}) has no graph`, ctx);
  const cio = graphIO(cg);
  const rio = graphIO(rg);
  const c = card.critic;
  const r = card.recovery;
  checkTensor(cio.inputs, 'critic', 'input', c.inputs.obs, card.obsDim, 'obsDim', ctx);
  checkTensor(cio.inputs, 'critic', 'input', c.inputs.act, card.actDim, 'actDim', ctx);
  checkNoExtraInputs(cio, 'critic', [c.inputs.obs, c.inputs.act], ctx);
  const q = checkTensor(cio.outputs, 'critic', 'output', c.output, 1, 'Q_risk width', ctx);
  checkTensor(rio.inputs, 'recovery', 'input', r.input, card.obsDim, 'obsDim', ctx);
  checkNoExtraInputs(rio, 'recovery', [r.input], ctx);
  checkTensor(rio.outputs, 'recovery', 'output', r.output, card.actDim, 'actDim', ctx);
  return { criticOutputRank: q.dims?.length ?? 2 };
}

/** Checks one tensor of dynamics.onnx: float32, shape [E, N, width] with E the card's ensemble. */
function checkDynamicsTensor(where: ReadonlyMap<string, TensorInfo>, kind: 'input' | 'output', name: string, width: number, field: string, ensemble: number, ctx: Record<string, unknown>): void {
  const role = `dynamics (${String(ctx.file)})`;
  const t = where.get(name);
  if (t === undefined) fail(`${role} has no ${kind} '${name}' (its ${kind}s: ${list(where)}); fix the card's dynamics part or the model`, { ...ctx, name });
  if (t.elemType !== 0 && t.elemType !== FLOAT) fail(`${role} ${kind} '${name}' is ${onnx.TensorProto.DataType[t.elemType] ?? String(t.elemType)}, the planner feeds float32`, { ...ctx, name });
  if (t.dims === null) return;
  if (t.dims.length !== 3) fail(`${role} ${kind} '${name}' has rank ${t.dims.length}, expected [ensemble ${ensemble}, N, ${width}]`, { ...ctx, name });
  const e = t.dims[0];
  if (typeof e === 'number' && e !== ensemble) fail(`${role} ${kind} '${name}' has ${e} ensemble members, card says dynamics.ensemble ${ensemble}`, { ...ctx, name });
  const cols = t.dims[2];
  if (typeof cols === 'number' && cols !== width) fail(`${role} ${kind} '${name}' has ${cols} columns, card says ${field} ${width}`, { ...ctx, name });
}

/** Validates dynamics.onnx against the card's `dynamics` part; throws E_MODEL naming the mismatch. */
export function checkDynamicsIO(card: ModelCard, dynamics: ModelProto): void {
  const d = card.dynamics;
  if (d === undefined) fail("the card has no 'dynamics' part", { robot: card.robot });
  const ctx = { robot: card.robot, version: card.version, file: d.file };
  const g = dynamics.graph;
  if (g == null) fail(`dynamics (${d.file}) has no graph`, ctx);
  const io = graphIO(g);
  checkDynamicsTensor(io.inputs, 'input', d.inputs.obs, card.obsDim, 'obsDim', d.ensemble, ctx);
  checkDynamicsTensor(io.inputs, 'input', d.inputs.act, card.actDim, 'actDim', d.ensemble, ctx);
  checkNoExtraInputs(io, `dynamics (${d.file})`, [d.inputs.obs, d.inputs.act], ctx);
  checkDynamicsTensor(io.outputs, 'output', d.outputs.mean, card.obsDim, 'obsDim', d.ensemble, ctx);
  checkDynamicsTensor(io.outputs, 'output', d.outputs.logvar, card.obsDim, 'obsDim', d.ensemble, ctx);
}
