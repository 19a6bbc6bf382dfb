/**
 * Fuses critic.onnx and recovery.onnx into one in-memory graph, so a tick is ONE session.run
 * instead of two (DESIGN.md decision 2: each run costs ~10 µs before any math). Inputs 'obs'
 * [N, ds] and 'act' [N, da]; outputs 'q_risk' and 'recovery'. Every other name is prefixed
 * ('critic/', 'recovery/') so the two graphs cannot clash, including inside subgraphs. The
 * select itself stays in src/core: it is three comparisons, and keeping it there keeps the
 * rule (with hysteresis) in one tested place for fused and separate models alike.
 */
import type { ModelCard } from '../config/model-card.js';
import { onnx, type IAttributeProto, type IGraphProto, type IModelProto, type INodeProto, type ModelProto } from '../nn/onnx-proto.js';

export const FUSED_OBS = 'obs';
export const FUSED_ACT = 'act';
export const FUSED_Q = 'q_risk';
export const FUSED_RECOVERY = 'recovery';

export type Rename = (name: string) => string;

function renameAttr(a: IAttributeProto, f: Rename): IAttributeProto {
  if (a.g != null) return { ...a, g: renameGraph(a.g, f) };
  if (a.graphs != null && a.graphs.length > 0) return { ...a, graphs: a.graphs.map((g) => renameGraph(g, f)) };
  return a;
}

function renameNode(n: INodeProto, f: Rename, prefix: string): INodeProto {
  return {
    ...n,
    name: n.name ? prefix + n.name : n.name,
    input: (n.input ?? []).map(f),
    output: (n.output ?? []).map(f),
    attribute: (n.attribute ?? []).map((a) => renameAttr(a, f)),
  };
}

/** Renames every value of a graph (subgraphs included); node names get `prefix`. */
export function renameGraph(g: IGraphProto, f: Rename, prefix = ''): IGraphProto {
  return {
    ...g,
    node: (g.node ?? []).map((n) => renameNode(n, f, prefix)),
    initializer: (g.initializer ?? []).map((t) => ({ ...t, name: f(t.name ?? '') })),
    sparseInitializer: (g.sparseInitializer ?? []).map((s) => ({
      ...s,
      values: s.values == null ? s.values : { ...s.values, name: f(s.values.name ?? '') },
    })),
    input: (g.input ?? []).map((v) => ({ ...v, name: f(v.name ?? '') })),
    output: (g.output ?? []).map((v) => ({ ...v, name: f(v.name ?? '') })),
    valueInfo: (g.valueInfo ?? []).map((v) => ({ ...v, name: f(v.name ?? '') })),
  };
}

/** Maps a name to `fixed`'s value or prefixes it. */
export function renamer(prefix: string, fixed: ReadonlyMap<string, string>): Rename {
  // '' marks an omitted optional input and must stay ''.
  return (name) => (name === '' ? '' : (fixed.get(name) ?? prefix + name));
}

export type FuseResult = { readonly ok: true; readonly model: IModelProto } | { readonly ok: false; readonly reason: string };

function opsets(m: ModelProto): Map<string, number> {
  return new Map((m.opsetImport ?? []).map((o) => [o.domain ?? '', Number(o.version ?? 0)]));
}

/**
 * Builds the fused model, or says why it cannot (then the caller runs two sessions). Graphs
 * written against different opsets of one domain cannot share a model: an op's semantics
 * depend on the opset (Clip's bounds moved from attributes to inputs at 11, for one).
 */
export function fuseModels(card: ModelCard, critic: ModelProto, recovery: ModelProto): FuseResult {
  const co = opsets(critic);
  const ro = opsets(recovery);
  for (const [domain, v] of co) {
    const w = ro.get(domain);
    if (w !== undefined && w !== v) {
      return { ok: false, reason: `critic uses opset ${v} of '${domain || 'ai.onnx'}', recovery uses ${w}` };
    }
  }
  const fnKey = (f: { domain?: string | null; name?: string | null }): string => `${f.domain ?? ''}:${f.name ?? ''}`;
  const criticFns = new Set((critic.functions ?? []).map(fnKey));
  for (const fn of recovery.functions ?? []) {
    if (criticFns.has(fnKey(fn))) return { ok: false, reason: `both models define function '${fnKey(fn)}'` };
  }
  if (critic.graph == null || recovery.graph == null) return { ok: false, reason: 'a model has no graph' };

  const cRen = renamer('critic/', new Map([[card.critic.inputs.obs, FUSED_OBS], [card.critic.inputs.act, FUSED_ACT]]));
  const rRen = renamer('recovery/', new Map([[card.recovery.input, FUSED_OBS]]));
  const cg = renameGraph(critic.graph, cRen, 'critic/');
  const rg = renameGraph(recovery.graph, rRen, 'recovery/');
  const inits = new Set([...(cg.initializer ?? []), ...(rg.initializer ?? [])].map((t) => t.name ?? ''));
  const F = onnx.TensorProto.DataType.FLOAT;
  const graph: IGraphProto = {
    name: 'rshield_fused',
    node: [
      ...(cg.node ?? []),
      ...(rg.node ?? []),
      { opType: 'Identity', input: [cRen(card.critic.output)], output: [FUSED_Q], name: 'fused/q_risk' },
      { opType: 'Identity', input: [rRen(card.recovery.output)], output: [FUSED_RECOVERY], name: 'fused/recovery' },
    ],
    initializer: [...(cg.initializer ?? []), ...(rg.initializer ?? [])],
    sparseInitializer: [...(cg.sparseInitializer ?? []), ...(rg.sparseInitializer ?? [])],
    input: [
      { name: FUSED_OBS, type: { tensorType: { elemType: F, shape: { dim: [{ dimParam: 'N' }, { dimValue: card.obsDim }] } } } },
      { name: FUSED_ACT, type: { tensorType: { elemType: F, shape: { dim: [{ dimParam: 'N' }, { dimValue: card.actDim }] } } } },
    ],
    output: [
      { name: FUSED_Q, type: { tensorType: { elemType: F } } },
      { name: FUSED_RECOVERY, type: { tensorType: { elemType: F } } },
    ],
    // Keep intermediate shape hints, minus those of the (now shared) inputs and initializers.
    valueInfo: [...(cg.valueInfo ?? []), ...(rg.valueInfo ?? [])].filter((v) => !inits.has(v.name ?? '') && v.name !== FUSED_OBS && v.name !== FUSED_ACT),
  };
  const opsetImport = new Map(co);
  for (const [d, v] of ro) opsetImport.set(d, v);
  return {
    ok: true,
    model: {
      // IR ≥ 4 lets initializers stay out of the input list, as they do here.
      irVersion: Math.max(Number(critic.irVersion ?? 0), Number(recovery.irVersion ?? 0), 4),
      producerName: 'rshield-fuse',
      opsetImport: [...opsetImport].map(([domain, version]) => ({ domain, version })),
      functions: [...(critic.functions ?? []), ...(recovery.functions ?? [])],
      graph,
    },
  };
}
