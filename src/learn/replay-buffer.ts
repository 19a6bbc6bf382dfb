import type { Transition } from '../core/types.js';
import type { TransitionColumns } from './batch-sampler.js';
import { resized } from './resized.js';

/**
 * Transitions in column arrays that grow by doubling up to `capacity`, then overwrite the
 * oldest (the reference's recovery_memory, 1e6). Offline data and online experience share it,
 * as in Recovery RL's online phase (thesis Algorithm 1).
 */
export class ReplayBuffer implements TransitionColumns {
  size = 0;
  obs: Float32Array;
  act: Float32Array;
  cost: Float32Array;
  nextObs: Float32Array;
  done: Uint8Array;
  nextAct: Float32Array;
  hasNextAct: Uint8Array;
  private head = 0;
  private allocated: number;

  constructor(
    readonly obsDim: number,
    readonly actDim: number,
    readonly capacity = 1_000_000,
    initial = 4096,
  ) {
    this.allocated = Math.min(initial, capacity);
    this.obs = new Float32Array(this.allocated * obsDim);
    this.act = new Float32Array(this.allocated * actDim);
    this.cost = new Float32Array(this.allocated);
    this.nextObs = new Float32Array(this.allocated * obsDim);
    this.done = new Uint8Array(this.allocated);
    this.nextAct = new Float32Array(this.allocated * actDim);
    this.hasNextAct = new Uint8Array(this.allocated);
  }

  /** Appends column data (e.g. a Dataset) row by row; only `rows` of it when given. */
  addColumns(c: TransitionColumns, rows?: Uint32Array): void {
    const S = this.obsDim;
    const A = this.actDim;
    const n = rows?.length ?? c.size;
    for (let r = 0; r < n; r++) {
      const i = rows === undefined ? r : rows[r]!;
      const row = this.slot();
      this.obs.set(c.obs.subarray(i * S, i * S + S), row * S);
      this.nextObs.set(c.nextObs.subarray(i * S, i * S + S), row * S);
      this.act.set(c.act.subarray(i * A, i * A + A), row * A);
      this.nextAct.set(c.nextAct.subarray(i * A, i * A + A), row * A);
      this.cost[row] = c.cost[i] ?? 0;
      this.done[row] = c.done[i] ?? 0;
      this.hasNextAct[row] = c.hasNextAct[i] ?? 0;
    }
  }

  add(t: Transition): void {
    const row = this.slot();
    this.obs.set(t.obs, row * this.obsDim);
    this.nextObs.set(t.nextObs, row * this.obsDim);
    this.act.set(t.act, row * this.actDim);
    if (t.nextAct !== undefined) this.nextAct.set(t.nextAct, row * this.actDim);
    this.hasNextAct[row] = t.nextAct === undefined ? 0 : 1;
    this.cost[row] = t.cost;
    this.done[row] = t.done ? 1 : 0;
  }

  private slot(): number {
    if (this.size < this.capacity) {
      if (this.size === this.allocated) this.grow();
      return this.size++;
    }
    const row = this.head;
    this.head = (this.head + 1) % this.capacity;
    return row;
  }

  private grow(): void {
    const n = Math.min(this.allocated * 2, this.capacity);
    this.obs = resized(this.obs, n * this.obsDim);
    this.nextObs = resized(this.nextObs, n * this.obsDim);
    this.act = resized(this.act, n * this.actDim);
    this.nextAct = resized(this.nextAct, n * this.actDim);
    this.cost = resized(this.cost, n);
    this.done = resized(this.done, n);
    this.hasNextAct = resized(this.hasNextAct, n);
    this.allocated = n;
  }
}
