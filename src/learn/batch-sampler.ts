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
    this.batch = {
      obs: new Float32Array(size * obsDim),
      act: new Float32Array(size * actDim),
      cost: new Float32Array(size),
      next_obs: new Float32Array(size * obsDim),
      next_act: new Float32Array(size * actDim),
      done: new Float32Array(size),
    };
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
      this.copyRow(data, row, b);
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

  private copyRow(d: SampledColumns, row: number, b: number): void {
    const ds = d.obsDim;
    const da = d.actDim;
    const B = this.batch;
    B.obs.set(d.obs.subarray(row * ds, row * ds + ds), b * ds);
    B.next_obs.set(d.nextObs.subarray(row * ds, row * ds + ds), b * ds);
    B.act.set(d.act.subarray(row * da, row * da + da), b * da);
    const next = d.hasNextAct[row] === 1 ? d.nextAct : d.act;
    B.next_act.set(next.subarray(row * da, row * da + da), b * da);
    B.cost[b] = d.cost[row] ?? 0;
    // mask = 1 − done: no bootstrap past a violation or the end of an episode (thesis eq. 3.2).
    B.done[b] = d.done[row] === 1 || (d.cost[row] ?? 0) > 0 ? 1 : 0;
  }
}
