import { RShieldError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import type { TransitionColumnsView } from '../data/index.js';

/** The columns a minibatch is drawn from (a Dataset, or the online replay buffer). */
export type SampledColumns = Pick<TransitionColumnsView, 'size' | 'obsDim' | 'actDim' | 'obs' | 'act' | 'cost' | 'nextObs' | 'done' | 'nextAct' | 'hasNextAct'>;

/** One preallocated minibatch, refilled in place by `sample`. */
export interface Batch {
  readonly obs: Float32Array;
  readonly act: Float32Array;
  readonly cost: Float32Array;
  readonly next_obs: Float32Array;
  readonly next_act: Float32Array;
  readonly done: Float32Array;
}

/**
 * Draws minibatches, optionally with a fixed share of violating transitions (the reference's
 * `pos_fraction`, used for maze). The TD target needs a′: the logged next action (the
 * behaviour of the controller being shielded); where a rollout was cut before a next action
 * was taken, a′ = a (the controller's last command continued).
 */
export class BatchSampler {
  readonly batch: Batch;
  /** The data rows of the last batch, in batch order (an image learner fetches their frames). */
  readonly rows: Uint32Array;
  private positives: Uint32Array = new Uint32Array(0);
  private negatives: Uint32Array = new Uint32Array(0);
  private indexedPool: Uint32Array | undefined;
  private indexedSize = -1;

  constructor(
    private readonly size: number,
    private readonly violationShare: number,
    obsDim: number,
    actDim: number,
  ) {
    this.batch = allocBatch(size, obsDim, actDim);
    this.rows = new Uint32Array(size);
  }

  /** Indices of the rows that may be drawn (e.g. the training split); all rows when omitted. */
  sample(data: SampledColumns, rng: Rng, rows?: Uint32Array): Batch {
    const pool = rows ?? this.allRows(data.size);
    if (pool.length === 0) throw new Error('cannot sample a batch from an empty dataset');
    const share = this.violationShare;
    if (share > 0) this.index(data, pool);
    const usePos = share > 0 && this.positives.length > 0 && this.negatives.length > 0;
    const nPos = usePos ? Math.round(this.size * share) : 0;
    for (let b = 0; b < this.size; b++) {
      let row: number;
      if (!usePos) row = pool[rng.int(pool.length)]!;
      else if (b < nPos) row = this.positives[rng.int(this.positives.length)]!;
      else row = this.negatives[rng.int(this.negatives.length)]!;
      copyRow(data, row, this.batch, b);
      this.rows[b] = row;
    }
    return this.batch;
  }

  private allRowsCache: Uint32Array = new Uint32Array(0);
  private allRows(n: number): Uint32Array {
    if (this.allRowsCache.length !== n) this.allRowsCache = Uint32Array.from({ length: n }, (_, i) => i);
    return this.allRowsCache;
  }

  private index(data: SampledColumns, pool: Uint32Array): void {
    if (this.indexedPool === pool && this.indexedSize === data.size) return;
    const pos: number[] = [];
    const neg: number[] = [];
    for (const r of pool) ((data.cost[r] ?? 0) > 0 ? pos : neg).push(r);
    this.positives = Uint32Array.from(pos);
    this.negatives = Uint32Array.from(neg);
    this.indexedPool = pool;
    this.indexedSize = data.size;
  }
}

/** How the online phase composes each critic batch (src/learn/online.ts). */
export interface BatchMix {
  /**
   * Share of every batch drawn from violating rows (cost > 0) of D_offline ∪ online; null: their
   * share of the rows there are (uniform sampling, the reference's pos_fraction -1).
   */
  readonly violationShare: number | null;
  /** Share of the non-violating rest drawn from D_offline; null: its share of the safe rows (uniform). */
  readonly offlineShare: number | null;
}

/** Rows of each kind in the batches drawn since the last `takeCounts()`. */
export interface BatchCounts {
  readonly rows: number;
  readonly violations: number;
  readonly offline: number;
}

/**
 * Online batches (thesis Algorithm 1, online phase) from two sources: D_offline (fixed, indexed
 * once) and the online replay ring. Shielded online data is almost all safe, so drawn uniformly
 * from their union the violating share of a batch falls as the buffer grows, and with it Q_risk
 * everywhere (docs/training.md "Online"). Here each batch holds a fixed share of violating rows
 * (uniform over both sources' violations) and a fixed share of D_offline among the safe rest
 * (its near-violation states carry the risk that bootstraps back along a trajectory).
 */
export class MixedBatchSampler {
  readonly batch: Batch;
  readonly #size: number;
  readonly #violationShare: number | null;
  readonly #offlineShare: number | null;
  readonly #offline: SampledColumns;
  readonly #offPos: Uint32Array;
  readonly #offNeg: Uint32Array;
  /** Online rows with cost > 0, and where each sits in that list (rows of a ring get overwritten). */
  readonly #onPos: number[] = [];
  readonly #onPosAt = new Map<number, number>();
  #rows = 0;
  #violations = 0;
  #fromOffline = 0;

  constructor(size: number, mix: BatchMix, offline: SampledColumns, offlineRows?: Uint32Array) {
    const v = mix.violationShare;
    const o = mix.offlineShare;
    if (v !== null && !(v >= 0 && v < 1)) throw new RShieldError('E_USAGE', `violationShare must be in [0, 1) or null, got ${v}`);
    if (o !== null && !(o >= 0 && o <= 1)) throw new RShieldError('E_USAGE', `offlineShare must be in [0, 1] or null, got ${o}`);
    this.batch = allocBatch(size, offline.obsDim, offline.actDim);
    this.#size = size;
    this.#violationShare = v;
    this.#offlineShare = o;
    this.#offline = offline;
    const pos: number[] = [];
    const neg: number[] = [];
    const rows = offlineRows ?? Uint32Array.from({ length: offline.size }, (_, i) => i);
    for (const r of rows) ((offline.cost[r] ?? 0) > 0 ? pos : neg).push(r);
    this.#offPos = Uint32Array.from(pos);
    this.#offNeg = Uint32Array.from(neg);
  }

  /** Call after writing row `row` of the online ring (a new row or an overwritten one). */
  noteOnlineRow(online: SampledColumns, row: number): void {
    const violating = (online.cost[row] ?? 0) > 0;
    const at = this.#onPosAt.get(row);
    if (violating && at === undefined) {
      this.#onPosAt.set(row, this.#onPos.length);
      this.#onPos.push(row);
    } else if (!violating && at !== undefined) {
      const last = this.#onPos.pop()!;
      if (last !== row) {
        this.#onPos[at] = last;
        this.#onPosAt.set(last, at);
      }
      this.#onPosAt.delete(row);
    }
  }

  /** Violating rows in the online ring. */
  get onlineViolations(): number {
    return this.#onPos.length;
  }

  sample(online: SampledColumns, rng: Rng): Batch {
    const offPos = this.#offPos.length;
    const onPos = this.#onPos.length;
    const onNeg = online.size - onPos;
    const offNeg = this.#offNeg.length;
    if (offPos + offNeg + online.size === 0) throw new RShieldError('E_DATA', 'no transitions to learn from yet');
    const B = this.#size;
    const pos = offPos + onPos;
    const neg = offNeg + onNeg;
    const v = this.#violationShare ?? pos / (pos + neg);
    // Without violations anywhere (or without safe rows) the batch is whatever there is.
    const nPos = pos === 0 ? 0 : neg === 0 ? B : Math.round(B * v);
    const nRest = B - nPos;
    const o = this.#offlineShare ?? offNeg / neg;
    const nOff = onNeg === 0 ? nRest : offNeg === 0 ? 0 : Math.round(nRest * o);
    for (let b = 0; b < B; b++) {
      if (b < nPos) {
        const k = rng.int(offPos + onPos);
        if (k < offPos) this.#take(this.#offline, this.#offPos[k]!, b, true);
        else this.#take(online, this.#onPos[k - offPos]!, b, false);
      } else if (b < nPos + nOff) {
        this.#take(this.#offline, this.#offNeg[rng.int(offNeg)]!, b, true);
      } else {
        this.#take(online, this.#safeOnlineRow(online, rng), b, false);
      }
    }
    return this.batch;
  }

  /** Counts since the last call (what the bench reports per exported version). */
  takeCounts(): BatchCounts {
    const c = { rows: this.#rows, violations: this.#violations, offline: this.#fromOffline };
    this.#rows = this.#violations = this.#fromOffline = 0;
    return c;
  }

  /** A uniform non-violating online row: rejection sampling, as violations are a small share. */
  #safeOnlineRow(online: SampledColumns, rng: Rng): number {
    for (;;) {
      const r = rng.int(online.size);
      if (!this.#onPosAt.has(r)) return r;
    }
  }

  #take(d: SampledColumns, row: number, b: number, offline: boolean): void {
    copyRow(d, row, this.batch, b);
    this.#rows++;
    if ((d.cost[row] ?? 0) > 0) this.#violations++;
    if (offline) this.#fromOffline++;
  }
}

function allocBatch(size: number, obsDim: number, actDim: number): Batch {
  return {
    obs: new Float32Array(size * obsDim),
    act: new Float32Array(size * actDim),
    cost: new Float32Array(size),
    next_obs: new Float32Array(size * obsDim),
    next_act: new Float32Array(size * actDim),
    done: new Float32Array(size),
  };
}

/** Copies row `row` of `d` into slot `b` of the batch. */
function copyRow(d: SampledColumns, row: number, B: Batch, b: number): void {
  const ds = d.obsDim;
  const da = d.actDim;
  B.obs.set(d.obs.subarray(row * ds, row * ds + ds), b * ds);
  B.next_obs.set(d.nextObs.subarray(row * ds, row * ds + ds), b * ds);
  B.act.set(d.act.subarray(row * da, row * da + da), b * da);
  const next = d.hasNextAct[row] === 1 ? d.nextAct : d.act;
  B.next_act.set(next.subarray(row * da, row * da + da), b * da);
  B.cost[b] = d.cost[row] ?? 0;
  // mask = 1 − done: no bootstrap past a violation or the end of an episode (thesis eq. 3.2).
  B.done[b] = d.done[row] === 1 || (d.cost[row] ?? 0) > 0 ? 1 : 0;
}
