/**
 * The task policy's replay buffer D_task (thesis Algorithm 1 line 15): (s, a_task, r, s′, mask)
 * rows in flat columns, a ring of `capacity` rows (reference 1e6) that doubles as it fills,
 * and a preallocated minibatch refilled in place by `sample`. The safety side keeps its own
 * columns (src/data/transition-columns.ts), which carry cost, not reward.
 */
import type { Rng } from '../../core/rng.js';

export interface SacBatch {
  readonly obs: Float32Array;
  readonly act: Float32Array;
  readonly reward: Float32Array;
  readonly next_obs: Float32Array;
  /** 0 where s′ is terminal (violation or goal); 1 at a time-limit cut, which still bootstraps. */
  readonly mask: Float32Array;
}

export class SacReplay {
  readonly batch: SacBatch;
  #obs: Float32Array;
  #act: Float32Array;
  #reward: Float32Array;
  #nextObs: Float32Array;
  #mask: Float32Array;
  #allocated: number;
  #size = 0;
  #head = 0;

  constructor(
    readonly obsDim: number,
    readonly actDim: number,
    readonly batchSize: number,
    readonly capacity = 1_000_000,
  ) {
    this.#allocated = Math.min(4096, capacity);
    this.#obs = new Float32Array(this.#allocated * obsDim);
    this.#act = new Float32Array(this.#allocated * actDim);
    this.#reward = new Float32Array(this.#allocated);
    this.#nextObs = new Float32Array(this.#allocated * obsDim);
    this.#mask = new Float32Array(this.#allocated);
    this.batch = {
      obs: new Float32Array(batchSize * obsDim),
      act: new Float32Array(batchSize * actDim),
      reward: new Float32Array(batchSize),
      next_obs: new Float32Array(batchSize * obsDim),
      mask: new Float32Array(batchSize),
    };
  }

  get size(): number {
    return this.#size;
  }

  push(obs: ArrayLike<number>, act: ArrayLike<number>, reward: number, nextObs: ArrayLike<number>, mask: number): void {
    let row: number;
    if (this.#size < this.capacity) {
      if (this.#size === this.#allocated) this.#grow();
      row = this.#size++;
    } else {
      row = this.#head;
      this.#head = (this.#head + 1) % this.capacity;
    }
    const S = this.obsDim;
    const A = this.actDim;
    for (let j = 0; j < S; j++) {
      this.#obs[row * S + j] = obs[j]!;
      this.#nextObs[row * S + j] = nextObs[j]!;
    }
    for (let j = 0; j < A; j++) this.#act[row * A + j] = act[j]!;
    this.#reward[row] = reward;
    this.#mask[row] = mask;
  }

  /** Uniform rows with replacement (the reference's `random.sample` of a large buffer). */
  sample(rng: Rng): SacBatch {
    if (this.#size === 0) throw new Error('cannot sample a batch from an empty SAC buffer');
    const S = this.obsDim;
    const A = this.actDim;
    const B = this.batch;
    // Element loops, not subarray views: a batch allocates nothing.
    for (let b = 0; b < this.batchSize; b++) {
      const r = rng.int(this.#size);
      for (let j = 0; j < S; j++) {
        B.obs[b * S + j] = this.#obs[r * S + j]!;
        B.next_obs[b * S + j] = this.#nextObs[r * S + j]!;
      }
      for (let j = 0; j < A; j++) B.act[b * A + j] = this.#act[r * A + j]!;
      B.reward[b] = this.#reward[r]!;
      B.mask[b] = this.#mask[r]!;
    }
    return B;
  }

  #grow(): void {
    const n = Math.min(this.capacity, this.#allocated * 2);
    const grow = (a: Float32Array, w: number): Float32Array => {
      const b = new Float32Array(n * w);
      b.set(a);
      return b;
    };
    this.#obs = grow(this.#obs, this.obsDim);
    this.#act = grow(this.#act, this.actDim);
    this.#reward = grow(this.#reward, 1);
    this.#nextObs = grow(this.#nextObs, this.obsDim);
    this.#mask = grow(this.#mask, 1);
    this.#allocated = n;
  }
}
