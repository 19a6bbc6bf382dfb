import { RShieldError } from '../core/errors.js';
import type { Transition } from '../core/types.js';

/**
 * Transitions of one robot as column arrays, row i of each belonging to transition i:
 * `obs[i*obsDim .. (i+1)*obsDim)`, `act[i*actDim ..]`, `cost[i]`, … The layout the trainer
 * copies into ONNX tensors and the wire format (transport/mqtt/transition-codec.ts) carries
 * without per-row work. Rows at and beyond `size` are not transitions.
 */
export interface TransitionColumnsView {
  readonly size: number;
  readonly obsDim: number;
  readonly actDim: number;
  readonly obs: Float32Array;
  readonly act: Float32Array;
  /** Constraint cost c ∈ {0, 1}. */
  readonly cost: Float32Array;
  readonly nextObs: Float32Array;
  /** 1 where the episode ended at nextObs. */
  readonly done: Uint8Array;
  readonly episode: Uint32Array;
  readonly step: Uint32Array;
  /** The action taken at nextObs; zeros where hasNextAct[i] is 0. */
  readonly nextAct: Float32Array;
  readonly hasNextAct: Uint8Array;
}

/**
 * - `fixed`: `capacity` rows allocated up front; one more is an error (the tick-path batch).
 * - `growable`: doubles as needed, keeps everything (datasets, the held-out set).
 * - `ring`: doubles up to `capacity`, then each new row overwrites the oldest (the replay buffer).
 */
export type ColumnsMode = 'fixed' | 'growable' | 'ring';

type Columns = Omit<TransitionColumnsView, 'size' | 'obsDim' | 'actDim'>;
type ColumnName = keyof Columns;
const COLUMN_NAMES: readonly ColumnName[] = ['obs', 'act', 'cost', 'nextObs', 'done', 'episode', 'step', 'nextAct', 'hasNextAct'];

/**
 * Columns for `n` rows carved from one ArrayBuffer: a small batch costs one allocation, not nine
 * (the 4-byte columns first, so every view is aligned).
 */
function allocate(n: number, S: number, A: number): Columns {
  const buf = new ArrayBuffer(4 * n * (2 * S + 2 * A + 3) + 2 * n);
  let off = 0;
  const f32 = (len: number): Float32Array => {
    const a = new Float32Array(buf, off, len);
    off += 4 * len;
    return a;
  };
  const u32 = (len: number): Uint32Array => {
    const a = new Uint32Array(buf, off, len);
    off += 4 * len;
    return a;
  };
  const u8 = (len: number): Uint8Array => {
    const a = new Uint8Array(buf, off, len);
    off += len;
    return a;
  };
  return { obs: f32(n * S), act: f32(n * A), cost: f32(n), nextObs: f32(n * S), nextAct: f32(n * A), episode: u32(n), step: u32(n), done: u8(n), hasNextAct: u8(n) };
}

/** Copies `n` values from `src[from..]` to `dst[to..]` element by element: no subarray view, so no allocation on the tick path. */
function copy(dst: Float32Array, to: number, src: ArrayLike<number>, from: number, n: number): void {
  for (let k = 0; k < n; k++) dst[to + k] = src[from + k] ?? 0;
}

/** The one column store of transitions: datasets, the replay buffer, the held-out set and the MQTT batch. */
export class TransitionColumns implements TransitionColumnsView {
  readonly obsDim: number;
  readonly actDim: number;
  readonly mode: ColumnsMode;
  /** Most rows held at once (Infinity when growable). */
  readonly capacity: number;
  // Assigned together from one allocation (constructor, #grow); callers read, never assign.
  obs!: Float32Array;
  act!: Float32Array;
  cost!: Float32Array;
  nextObs!: Float32Array;
  done!: Uint8Array;
  episode!: Uint32Array;
  step!: Uint32Array;
  nextAct!: Float32Array;
  hasNextAct!: Uint8Array;
  #size = 0;
  /** Ring mode: the row the next push overwrites once the ring is full. */
  #head = 0;
  #allocated: number;

  private constructor(obsDim: number, actDim: number, mode: ColumnsMode, capacity: number, initial: number) {
    if (!Number.isInteger(obsDim) || obsDim < 1 || !Number.isInteger(actDim) || actDim < 1) {
      throw new RShieldError('E_USAGE', `transition columns need obsDim and actDim ≥ 1, got ${obsDim} and ${actDim}`);
    }
    if (mode !== 'growable' && (!Number.isInteger(capacity) || capacity < 1)) {
      throw new RShieldError('E_USAGE', `${mode} transition columns need a capacity ≥ 1, got ${capacity}`);
    }
    this.obsDim = obsDim;
    this.actDim = actDim;
    this.mode = mode;
    this.capacity = capacity;
    this.#allocated = Math.max(1, Math.min(initial, capacity));
    Object.assign(this, allocate(this.#allocated, obsDim, actDim));
  }


  static fixed(obsDim: number, actDim: number, capacity: number): TransitionColumns {
    return new TransitionColumns(obsDim, actDim, 'fixed', capacity, capacity);
  }

  static growable(obsDim: number, actDim: number, initial = 1024): TransitionColumns {
    return new TransitionColumns(obsDim, actDim, 'growable', Number.POSITIVE_INFINITY, initial);
  }

  static ring(obsDim: number, actDim: number, capacity: number, initial = 4096): TransitionColumns {
    return new TransitionColumns(obsDim, actDim, 'ring', capacity, initial);
  }

  /** Fixed columns holding `ts` (tests, tools; the tick path pushes row by row). */
  static from(obsDim: number, actDim: number, ts: readonly Transition[]): TransitionColumns {
    const c = TransitionColumns.fixed(obsDim, actDim, Math.max(1, ts.length));
    for (const t of ts) c.push(t);
    return c;
  }

  /** Rows holding transitions: those pushed, at most `capacity`. */
  get size(): number {
    return this.#size;
  }

  /** True when a fixed store takes no more rows (a ring and a growable store never are). */
  get full(): boolean {
    return this.mode === 'fixed' && this.#size === this.capacity;
  }

  /** Appends one transition; vectors longer than the dimensions are cut to them. Returns its row. */
  push(t: Transition): number {
    const i = this.#slot();
    const S = this.obsDim;
    const A = this.actDim;
    copy(this.obs, i * S, t.obs, 0, S);
    copy(this.act, i * A, t.act, 0, A);
    this.cost[i] = t.cost;
    copy(this.nextObs, i * S, t.nextObs, 0, S);
    this.done[i] = t.done ? 1 : 0;
    this.episode[i] = t.episode;
    this.step[i] = t.step;
    if (t.nextAct === undefined) {
      this.nextAct.fill(0, i * A, i * A + A);
      this.hasNextAct[i] = 0;
    } else {
      copy(this.nextAct, i * A, t.nextAct, 0, A);
      this.hasNextAct[i] = 1;
    }
    return i;
  }

  /** Appends row `r` of `src` (same dimensions). Returns its row here. */
  pushRow(src: TransitionColumnsView, r: number): number {
    const i = this.#slot();
    const S = this.obsDim;
    const A = this.actDim;
    copy(this.obs, i * S, src.obs, r * S, S);
    copy(this.act, i * A, src.act, r * A, A);
    this.cost[i] = src.cost[r] ?? 0;
    copy(this.nextObs, i * S, src.nextObs, r * S, S);
    this.done[i] = src.done[r] ?? 0;
    this.episode[i] = src.episode[r] ?? 0;
    this.step[i] = src.step[r] ?? 0;
    copy(this.nextAct, i * A, src.nextAct, r * A, A);
    this.hasNextAct[i] = src.hasNextAct[r] ?? 0;
    return i;
  }

  /** Appends every row of `src`, or only `rows` of it, in order: contiguous blocks are copied whole. */
  append(src: TransitionColumnsView, rows?: Uint32Array): void {
    this.#checkDims(src);
    if (rows !== undefined) {
      for (const r of rows) this.pushRow(src, r);
      return;
    }
    let from = 0;
    while (from < src.size) {
      const to = this.#reserve(src.size - from);
      const n = Math.min(src.size - from, this.#blockEnd(to) - to);
      this.#copyBlock(src, from, to, n);
      this.#commit(to, n);
      from += n;
    }
  }

  /** The first `n` rows were written straight into the arrays (a decoder does): they now count as pushed. */
  markFilled(n: number): void {
    if (!Number.isInteger(n) || n < 0 || n > this.#allocated) throw new RShieldError('E_USAGE', `cannot mark ${n} rows filled: ${this.#allocated} are allocated`);
    this.#size = n;
    this.#head = 0;
  }

  /** Forgets every row (the arrays are kept). */
  clear(): void {
    this.#size = 0;
    this.#head = 0;
  }

  /** The columns cut to `size` rows, in arrays of their own: what a finished Dataset holds. */
  trimmed(): TransitionColumnsView {
    const n = this.#size;
    const out = allocate(n, this.obsDim, this.actDim);
    for (const k of COLUMN_NAMES) out[k].set(this[k].subarray(0, n * this.#width(k)));
    return { size: n, obsDim: this.obsDim, actDim: this.actDim, ...out };
  }

  #checkDims(src: TransitionColumnsView): void {
    if (src.obsDim !== this.obsDim || src.actDim !== this.actDim) {
      throw new RShieldError('E_DATA', `columns have obsDim ${src.obsDim}, actDim ${src.actDim}; these hold ${this.obsDim}, ${this.actDim}`);
    }
  }

  /** The row one push writes, growing or wrapping as the mode says. */
  #slot(): number {
    const i = this.#reserve(1);
    this.#commit(i, 1);
    return i;
  }

  /** First row of the next write of up to `n` rows (allocating room for them where the mode allows). */
  #reserve(n: number): number {
    if (this.#size < this.capacity) {
      const want = Math.min(this.#size + n, this.capacity);
      if (want > this.#allocated) this.#grow(want);
      return this.#size;
    }
    if (this.mode === 'fixed') this.#overflow();
    return this.#head;
  }

  /** End (exclusive) of the rows writable in one contiguous block from `to`. */
  #blockEnd(to: number): number {
    return to < this.#size || this.#size === this.capacity ? this.capacity : this.#allocated;
  }

  #commit(to: number, n: number): void {
    if (this.#size < this.capacity) {
      this.#size = to + n;
      if (this.#size === this.capacity) this.#head = 0;
    } else {
      this.#head = (to + n) % this.capacity;
    }
  }

  #overflow(): never {
    throw new RShieldError('E_DATA', `fixed transition columns hold at most ${this.capacity} rows; row ${this.capacity + 1} does not fit`, { capacity: this.capacity });
  }

  #grow(atLeast: number): void {
    let n = this.#allocated;
    while (n < atLeast) n *= 2;
    n = Math.min(n, this.capacity);
    const next = allocate(n, this.obsDim, this.actDim);
    for (const k of COLUMN_NAMES) next[k].set(this[k]);
    Object.assign(this, next);
    this.#allocated = n;
  }

  #copyBlock(src: TransitionColumnsView, from: number, to: number, n: number): void {
    for (const k of COLUMN_NAMES) {
      const w = this.#width(k);
      this[k].set(src[k].subarray(from * w, (from + n) * w), to * w);
    }
  }

  /** Values per row of column `k`. */
  #width(k: ColumnName): number {
    return k === 'obs' || k === 'nextObs' ? this.obsDim : k === 'act' || k === 'nextAct' ? this.actDim : 1;
  }
}

/** Row `i` of `c` as a Transition (copies; for tests and tools, not for hot paths). */
export function transitionAt(c: TransitionColumnsView, i: number): Transition {
  if (!Number.isInteger(i) || i < 0 || i >= c.size) throw new RShieldError('E_USAGE', `row ${i} is outside 0..${c.size - 1}`);
  const S = c.obsDim;
  const A = c.actDim;
  return {
    obs: c.obs.slice(i * S, i * S + S),
    act: c.act.slice(i * A, i * A + A),
    cost: c.cost[i] ?? 0,
    nextObs: c.nextObs.slice(i * S, i * S + S),
    done: c.done[i] === 1,
    episode: c.episode[i] ?? 0,
    step: c.step[i] ?? 0,
    ...(c.hasNextAct[i] === 1 ? { nextAct: c.nextAct.slice(i * A, i * A + A) } : {}),
  };
}

/** Every row of `c` as a Transition, in row order (tests and tools). */
export function transitionsOf(c: TransitionColumnsView): Transition[] {
  return Array.from({ length: c.size }, (_, i) => transitionAt(c, i));
}
