/**
 * Collects the shield's transitions tick by tick into preallocated fixed columns (the tick path
 * allocates nothing) and seals a full batch with the wire encoder of transition-codec.ts.
 */
import type { Transition } from '../../core/types.js';
import { TransitionColumns } from '../../data/transition-columns.js';
import { encodeTransitions } from './transition-codec.js';

const EMPTY = new Float32Array(0);

export class TransitionBatcher {
  readonly capacity: number;
  readonly obsDim: number;
  readonly actDim: number;
  readonly #columns: TransitionColumns;
  /** One row object reused for every add: its fields are overwritten each time. */
  readonly #row: { -readonly [K in keyof Transition]: Transition[K] } = {
    obs: EMPTY, act: EMPTY, cost: 0, nextObs: EMPTY, done: false, episode: 0, step: 0, nextAct: undefined,
  };

  constructor(options: { capacity: number; obsDim: number; actDim: number }) {
    const { capacity, obsDim, actDim } = options;
    this.capacity = capacity;
    this.obsDim = obsDim;
    this.actDim = actDim;
    this.#columns = TransitionColumns.fixed(obsDim, actDim, capacity);
  }

  get size(): number {
    return this.#columns.size;
  }

  get full(): boolean {
    return this.#columns.full;
  }

  /** Copies one transition in. Returns false (and copies nothing) when the batch is full. */
  add(obs: Float32Array, act: Float32Array, cost: number, nextObs: Float32Array, done: boolean, episode: number, step: number): boolean {
    if (this.#columns.full) return false;
    const r = this.#row;
    r.obs = obs;
    r.act = act;
    r.cost = cost > 0 ? 1 : 0;
    r.nextObs = nextObs;
    r.done = done;
    r.episode = episode;
    r.step = step;
    this.#columns.push(r);
    return true;
  }

  /**
   * Gives the last row its a′: the action the controller proposes at that row's s′ (`step` is
   * the step of s′ in `episode`). The critic's TD target wants the task policy's next action,
   * not the recovery action the shield may execute there (src/core/episode-runner.ts `nextAct`).
   * A row already sealed into a sent batch keeps none (the trainer then uses a′ = a).
   */
  setNextAct(episode: number, step: number, act: Float32Array): void {
    const c = this.#columns;
    const i = c.size - 1;
    if (i < 0 || c.episode[i] !== episode || c.step[i] !== step - 1) return;
    const A = this.actDim;
    for (let k = 0; k < A; k++) c.nextAct[i * A + k] = act[k] ?? 0;
    c.hasNextAct[i] = 1;
  }

  /** Seals the collected transitions into one wire batch (undefined when empty) and starts a new one. */
  seal(session: number, seq: number): Uint8Array | undefined {
    if (this.#columns.size === 0) return undefined;
    const out = encodeTransitions({ session, seq, columns: this.#columns });
    this.#columns.clear();
    return out;
  }
}
