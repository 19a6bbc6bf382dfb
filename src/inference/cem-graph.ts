/**
 * The whole CEM plan of model-based recovery as ONE in-memory ONNX graph (DESIGN.md decision
 * 11; reference notes §3.2, PETS): every iteration samples `population` action sequences from a
 * truncated normal inside the action bounds, rolls each out with TS-∞ particles through the
 * dynamics ensemble, scores them with the critic, and refits mean and variance to the elites —
 * all unrolled, so a plan is a single `session.run` and no JavaScript touches a sample.
 *
 * Cost of a sequence (a_0 … a_{H−1}), averaged over its particles (reference: the sum of
 * max(Q1, Q2)(ŝ_t, a_t) with ŝ_0 = s; NaN → 1e6):
 *     Σ_t [Q_t + C·max(0, Q_t − ε_risk)] + λ·‖(a_0 − a_task)/half‖² + μ·‖ŝ_{T−1}[goal dims] − goal‖
 * with Q_t = Q_risk(ŝ_t, a_t), t over the T = H·repeat model steps of the rollout (each planned
 * action held for `repeat` steps; 1 is the reference). C = λ = μ = 0 is the reference; λ, μ > 0
 * ask for the plan that serves the controller best while C keeps its steps at or below ε_risk.
 *
 * Inputs:  obs [1, S], proposed [1, A] (a_task, clamped), init_mean [H, A] (warm start).
 * Outputs: action [1, A] (first action of the final mean), plan [H, A] (the final mean),
 *          cost [1] (lowest cost of the last iteration; ≥ 1e6 when every sample was NaN).
 *
 * The critic and the dynamics are embedded once per use with their nodes renamed and their
 * initializers shared, so the graph holds one copy of each network's weights. Sampling uses
 * RandomNormal with fixed seeds: a session draws the same sequence every time it is created.
 */
import { RShieldError } from '../core/errors.js';
import type { ModelCard } from '../config/model-card.js';
import type { PlannerSettings } from '../config/planner-settings.js';
import { renameGraph, type Rename } from './merge.js';
import { floatTensor, floatValueInfo, int64Tensor, node, type IGraphProto, type IModelProto, type INodeProto, type ITensorProto, type ModelProto } from '../nn/onnx-proto.js';

export const CEM_OBS = 'obs';
export const CEM_PROPOSED = 'proposed';
export const CEM_INIT = 'init_mean';
export const CEM_ACTION = 'action';
export const CEM_PLAN = 'plan';
export const CEM_COST = 'cost';

/** Oldest default-domain opset the graph is written for (TopK with `largest`). */
export const CEM_MIN_OPSET = 11;
/** The reference's cost of a sample whose rollout produced NaN. */
export const NAN_COST = 1e6;
/** Truncation of the sampling normal, in standard deviations (reference: ±2σ). */
const TRUNC = 2;
/** Share of the action range a mean is taken to be inside the box at least when σ is capped. */
const CAP_MARGIN = 0.1;

function defaultOpset(m: ModelProto): number {
  return Number((m.opsetImport ?? []).find((o) => (o.domain ?? '') === '')?.version ?? 0);
}

/**
 * Embeds graph `g` under `tag`: its inputs and outputs wired by `io`, every other value named
 * `${tag}/${copy}/…`, initializers shared as `${tag}/…` (added once, by `shared`).
 */
class Embedder {
  readonly #g: IGraphProto;
  readonly #tag: string;
  readonly #inits: Set<string>;
  #copies = 0;

  constructor(g: IGraphProto, tag: string, shared: ITensorProto[]) {
    this.#g = g;
    this.#tag = tag;
    this.#inits = new Set((g.initializer ?? []).map((t) => t.name ?? ''));
    const f: Rename = (n) => `${tag}/${n}`;
    for (const t of g.initializer ?? []) shared.push({ ...t, name: f(t.name ?? '') });
    if ((g.sparseInitializer ?? []).length > 0) throw new RShieldError('E_MODEL', `${tag}: sparse initializers are not supported by the planner`);
  }

  /** The nodes of one copy with `io` (graph name → value name) wired in. */
  copy(io: ReadonlyMap<string, string>): INodeProto[] {
    const c = this.#copies++;
    const f: Rename = (n) => (n === '' ? '' : (io.get(n) ?? (this.#inits.has(n) ? `${this.#tag}/${n}` : `${this.#tag}/${c}/${n}`)));
    return renameGraph({ node: this.#g.node ?? [] }, f, `${this.#tag}/${c}/`).node ?? [];
  }
}

/** Builds the planner graph; throws E_MODEL when the card, critic and dynamics do not fit together. */
export function cemGraph(card: ModelCard, critic: ModelProto, dynamics: ModelProto, p: PlannerSettings): IModelProto {
  const dyn = card.dynamics;
  if (dyn === undefined) throw new RShieldError('E_MODEL', "model-based recovery needs the card's 'dynamics' part", { robot: card.robot });
  const S = card.obsDim;
  const A = card.actDim;
  const E = dyn.ensemble;
  const P = p.population;
  const H = p.horizon;
  const r = p.repeat;
  const T = H * r; // model steps of a rollout: each planned action is held for `repeat` of them
  const sparse = p.riskAt === 'action-start' && r > 1;
  const L = sparse ? H - 1 : T - 1; // later steps the critic scores, after ŝ_0
  const Ne = p.elites;
  if (p.particles % E !== 0) throw new RShieldError('E_MODEL', `planner particles ${p.particles} is not a multiple of the ensemble size ${E}`);
  if (Ne > P) throw new RShieldError('E_MODEL', `planner elites ${Ne} is more than the population ${P}`);
  const k = p.particles / E;
  const R = P * k; // rows per member
  const cOpset = defaultOpset(critic);
  const dOpset = defaultOpset(dynamics);
  if (cOpset !== dOpset) throw new RShieldError('E_MODEL', `critic uses opset ${cOpset}, ${dyn.file} opset ${dOpset}; the planner graph needs one opset`, { critic: cOpset, dynamics: dOpset });
  if (cOpset < CEM_MIN_OPSET) throw new RShieldError('E_MODEL', `model-based recovery needs opset ≥ ${CEM_MIN_OPSET}, the models use ${cOpset}`);
  const opset = cOpset;
  const cg = critic.graph;
  const dg = dynamics.graph;
  if (cg == null || dg == null) throw new RShieldError('E_MODEL', 'critic or dynamics has no graph');

  const low = Float32Array.from(card.actLow);
  const high = Float32Array.from(card.actHigh);
  const invHalf = low.map((l, i) => (high[i]! - l > 0 ? 2 / (high[i]! - l) : 0));
  const initVar = low.map((l, i) => (high[i]! - l) ** 2 / 16);

  const inits: ITensorProto[] = [];
  const nodes: INodeProto[] = [];
  let seq = 0;
  let seed = 1;
  const v = (name: string): string => `cem/${name}_${seq++}`;
  const c = (name: string, dims: readonly number[], values: Float32Array | readonly number[]): string => {
    inits.push(floatTensor(`cem/${name}`, dims, values));
    return `cem/${name}`;
  };
  const ci = (name: string, values: readonly number[], dims: readonly number[] = [values.length]): string => {
    inits.push(int64Tensor(`cem/${name}`, dims, values));
    return `cem/${name}`;
  };
  const op = (type: string, inputs: readonly string[], attrs: Parameters<typeof node>[3] = {}): string => {
    const out = v(type.toLowerCase());
    nodes.push(node(type, [...inputs], [out], attrs));
    return out;
  };
  // Reduce ops took their axes as an attribute before opset 13 (ReduceSum) / 18 (ReduceMean).
  const reduce = (type: 'ReduceSum' | 'ReduceMean', x: string, axes: number[], keep: 0 | 1): string => {
    const asInput = type === 'ReduceSum' ? opset >= 13 : opset >= 18;
    return asInput ? op(type, [x, ci(`axes_${seq}`, axes)], { ints: { keepdims: keep } }) : op(type, [x], { ints: { axes, keepdims: keep } });
  };
  const reshape = (x: string, dims: readonly number[]): string => op('Reshape', [x, ci(`shape_${seq}`, dims)]);
  const normal = (dims: readonly number[]): string => op('RandomNormal', [], { floats: { seed: seed++ }, ints: { shape: [...dims] } });

  const lb = c('low', [A], low);
  const ub = c('high', [A], high);
  const margin = c('cap_margin', [A], low.map((l, i) => CAP_MARGIN * (high[i]! - l)));
  const half2 = c('half2', [], [0.5]);
  const two = c('trunc', [], [TRUNC]);
  const negTwo = c('neg_trunc', [], [-TRUNC]);
  const alpha = c('alpha', [], [p.alpha]);
  const oneMinusAlpha = c('one_minus_alpha', [], [1 - p.alpha]);
  const nanCost = c('nan_cost', [], [NAN_COST]);
  const epsRisk = c('eps_risk', [], [card.epsRisk]);
  const riskPenalty = c('risk_penalty', [], [p.riskPenalty]);
  const critEmb = new Embedder(cg, 'critic', inits);
  const dynEmb = new Embedder(dg, 'dynamics', inits);
  const s0 = op('Expand', [CEM_OBS, ci('s0_shape', [E, R, S])]);

  let mean = CEM_INIT;
  let variance = c('init_var', [1, A], initVar);
  let bestCost = '';
  for (let it = 0; it < p.iterations; it++) {
    // Variance capped so ±2σ stays inside the bounds (PETS), then ±2σ truncated normal samples
    // by rejection: a draw outside is replaced by the next one, twice, then clamped (p ≈ 1e-4).
    // The cap is measured from at least CAP_MARGIN of the range inside the box: a mean on a
    // bound (a warm start from a saturated plan) would otherwise get σ = 0 and never move off it;
    // its samples beyond the bound are clamped onto it.
    const toLow = op('Div', [op('Max', [op('Sub', [mean, lb]), margin]), two]);
    const toHigh = op('Div', [op('Max', [op('Sub', [ub, mean]), margin]), two]);
    const cap = op('Min', [op('Mul', [toLow, toLow]), op('Mul', [toHigh, toHigh])]);
    const std = op('Sqrt', [op('Min', [cap, variance])]);
    const truncated = (dims: readonly number[]): string => {
      let z = normal(dims);
      for (let r = 0; r < 2; r++) z = op('Where', [op('Greater', [op('Abs', [z]), two]), normal(dims), z]);
      return op('Max', [op('Min', [z, two]), negTwo]);
    };
    let z = truncated([P, H, A]);
    if (p.correlation > 0) {
      const shared = op('Mul', [truncated([P, 1, A]), c(`rho_${it}`, [], [p.correlation])]);
      z = op('Max', [op('Min', [op('Add', [shared, op('Mul', [z, c(`rho_rest_${it}`, [], [Math.sqrt(1 - p.correlation ** 2)])])]), two]), negTwo]);
    }
    const samples = op('Max', [op('Min', [op('Add', [mean, op('Mul', [std, z])]), ub]), lb]); // [P, H, A]

    // ŝ_0 = s for every particle: Q_risk(s, a_0) is scored once per sample. Later steps are scored
    // per particle: actions [T−1, E, R, A], particle (e, p, j) follows sample p; model step t holds
    // the sample's action floor(t / repeat).
    const a0 = op('Gather', [samples, ci(`zero_${it}`, [0], [])], { ints: { axis: 1 } }); // [P, A]
    const states: string[] = [];
    let rows0Obs = op('Expand', [CEM_OBS, ci(`p_obs_shape_${it}`, [P, S])]);
    let rowsAct = a0;
    if (T > 1) {
      const byT = op('Transpose', [samples], { ints: { perm: [1, 0, 2] } });
      const byMember = reshape(op('Expand', [reshape(byT, [H, 1, P, 1, A]), ci(`acts_shape_${it}`, [H, E, P, k, A])]), [H, E, R, A]);
      const acts = r > 1 ? op('Gather', [byMember, ci(`held_${it}`, Array.from({ length: T }, (_, t) => Math.floor(t / r)))], { ints: { axis: 0 } }) : byMember; // [T, E, R, A]
      let s = s0;
      for (let t = 0; t < T - 1; t++) {
        const a = op('Gather', [acts, ci(`t_${it}_${t}`, [t], [])], { ints: { axis: 0 } });
        const m = v('dyn_mean');
        const lv = v('dyn_logvar');
        nodes.push(...dynEmb.copy(new Map([[dyn.inputs.obs, s], [dyn.inputs.act, a], [dyn.outputs.mean, m], [dyn.outputs.logvar, lv]])));
        // TS-∞: each particle samples its own member's Gaussian.
        s = op('Add', [m, op('Mul', [op('Exp', [op('Mul', [lv, half2])]), normal([E, R, S])])]);
        states.push(s);
      }
      // Scored later steps: every model step, or (riskAt 'action-start') the first step of each held action.
      const scored = states.filter((_, i) => sparse ? (i + 1) % r === 0 : true);
      const later = reshape(scored.length === 1 ? scored[0]! : op('Concat', scored, { ints: { axis: 0 } }), [L * E * R, S]);
      const laterActs = sparse
        ? reshape(op('Slice', [byMember, ci(`from1_${it}`, [1]), ci(`toH_${it}`, [H]), ci(`axis0_${it}`, [0])]), [L * E * R, A])
        : reshape(op('Slice', [acts, ci(`from1_${it}`, [1]), ci(`toT_${it}`, [T]), ci(`axis0_${it}`, [0])]), [L * E * R, A]);
      rows0Obs = op('Concat', [rows0Obs, later], { ints: { axis: 0 } });
      rowsAct = op('Concat', [a0, laterActs], { ints: { axis: 0 } });
    }
    const qRaw = v('q');
    nodes.push(...critEmb.copy(new Map([[card.critic.inputs.obs, rows0Obs], [card.critic.inputs.act, rowsAct], [card.critic.output, qRaw]])));
    let q = reshape(qRaw, [P + L * E * R]);
    if (p.riskPenalty > 0) q = op('Add', [q, op('Mul', [op('Relu', [op('Sub', [q, epsRisk])]), riskPenalty])]);
    // Σ_t Q_risk(ŝ_t, a_t), the later steps averaged over the particles of each sample.
    let risk = op('Slice', [q, ci(`q0_from_${it}`, [0]), ci(`q0_to_${it}`, [P])]);
    if (L > 0) {
      const qLater = reshape(op('Slice', [q, ci(`ql_from_${it}`, [P]), ci(`ql_to_${it}`, [P + L * E * R])]), [L, E, P, k]);
      risk = op('Add', [risk, reshape(reduce('ReduceMean', reduce('ReduceSum', qLater, [0], 0), [0, 2], 0), [P])]);
    }
    let cost = risk;
    if (p.taskWeight > 0) {
      const d = op('Mul', [op('Sub', [a0, CEM_PROPOSED]), c(`inv_half_${it}`, [A], invHalf)]);
      cost = op('Add', [cost, op('Mul', [reduce('ReduceSum', op('Mul', [d, d]), [1], 0), c(`task_w_${it}`, [], [p.taskWeight])])]);
    }
    if (p.goal !== undefined) {
      // The rollout's last state, ŝ_{T−1} (s itself when T = 1), mean over the particles.
      const end = states.at(-1);
      const last = end === undefined ? op('Expand', [CEM_OBS, ci(`p_obs_end_${it}`, [P, S])]) : reduce('ReduceMean', reshape(end, [E, P, k, S]), [0, 2], 0); // [P, S]
      const at = op('Gather', [last, ci(`goal_dims_${it}`, p.goal.dims)], { ints: { axis: 1 } });
      const d = op('Sub', [at, c(`goal_${it}`, [p.goal.target.length], p.goal.target)]);
      const dist = op('Sqrt', [reduce('ReduceSum', op('Mul', [d, d]), [1], 0)]);
      cost = op('Add', [cost, op('Mul', [dist, c(`goal_w_${it}`, [], [p.goal.weight])])]);
    }
    cost = op('Where', [op('IsNaN', [cost]), nanCost, cost]);

    // Elites: the Ne lowest costs (TopK of −cost), refitted with smoothing α.
    const vals = v('elite_neg_cost');
    const idx = v('elite_idx');
    nodes.push(node('TopK', [op('Neg', [cost]), ci(`k_${it}`, [Ne])], [vals, idx], { ints: { axis: 0, largest: 1, sorted: 1 } }));
    const elites = op('Gather', [samples, idx], { ints: { axis: 0 } });
    const eMean = reduce('ReduceMean', elites, [0], 0);
    const dev = op('Sub', [elites, eMean]);
    const eVar = reduce('ReduceMean', op('Mul', [dev, dev]), [0], 0);
    mean = op('Add', [op('Mul', [mean, alpha]), op('Mul', [eMean, oneMinusAlpha])]);
    variance = op('Add', [op('Mul', [variance, alpha]), op('Mul', [eVar, oneMinusAlpha])]);
    bestCost = op('Neg', [op('Slice', [vals, ci(`first_${it}`, [0]), ci(`one_${it}`, [1])])]);
    if (it === p.iterations - 1 && p.returns === 'best') {
      mean = reshape(op('Gather', [samples, op('Slice', [idx, ci('best_from', [0]), ci('best_to', [1])])], { ints: { axis: 0 } }), [H, A]);
    }
  }
  nodes.push(node('Slice', [mean, ci('a0_start', [0]), ci('a0_end', [1])], [CEM_ACTION]));
  nodes.push(node('Identity', [mean], [CEM_PLAN]));
  nodes.push(node('Identity', [bestCost], [CEM_COST]));
  return {
    irVersion: Math.max(Number(critic.irVersion ?? 0), Number(dynamics.irVersion ?? 0), 7),
    producerName: 'rshield-cem',
    opsetImport: [{ domain: '', version: opset }],
    functions: [...(critic.functions ?? []), ...(dynamics.functions ?? [])],
    graph: {
      name: 'rshield_cem',
      node: nodes,
      initializer: inits,
      input: [floatValueInfo(CEM_OBS, [1, S]), floatValueInfo(CEM_PROPOSED, [1, A]), floatValueInfo(CEM_INIT, [H, A])],
      output: [floatValueInfo(CEM_ACTION, [1, A]), floatValueInfo(CEM_PLAN, [H, A]), floatValueInfo(CEM_COST, [1])],
    },
  };
}

/** The middle of the action box: the warm start's fill for steps with no earlier plan. */
export function actionMid(card: ModelCard): Float32Array {
  return Float32Array.from(card.actLow, (l, i) => (l + card.actHigh[i]!) / 2);
}
