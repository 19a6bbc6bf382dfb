import type { Transition } from '../core/types.js';
import type { Dataset, DatasetFile } from './dataset.js';
import type { DatasetMeta } from './dataset-meta.js';
import { TransitionColumns } from './transition-columns.js';
import type { TransitionMessage } from './transition-message.js';

const EMPTY = new Float32Array(0);

/**
 * Collects decoded transitions of several files into growable columns; episode ids are
 * offset per file so they stay unique across the dataset (see readDataset).
 */
export class DatasetBuilder {
  readonly #c: TransitionColumns;
  #maxEpisode = -1;
  /** One row object reused for every push: its fields are overwritten each time. */
  readonly #row: { -readonly [K in keyof Transition]: Transition[K] } = {
    obs: EMPTY, act: EMPTY, cost: 0, nextObs: EMPTY, done: false, episode: 0, step: 0, nextAct: undefined,
  };

  constructor(obsDim: number, actDim: number, initialCapacity = 1024) {
    this.#c = TransitionColumns.growable(obsDim, actDim, initialCapacity);
  }

  get size(): number {
    return this.#c.size;
  }

  /** Appends one transition; `episodeOffset` keeps episode ids unique across files. */
  push(m: TransitionMessage, episodeOffset: number): void {
    const r = this.#row;
    r.obs = m.obs;
    r.act = m.act;
    r.cost = m.cost;
    r.nextObs = m.next_obs;
    r.done = m.done;
    r.episode = m.episode + episodeOffset;
    r.step = m.step;
    r.nextAct = m.has_next_act ? m.next_act : undefined;
    this.#c.push(r);
    if (r.episode > this.#maxEpisode) this.#maxEpisode = r.episode;
  }

  /** Largest episode id pushed so far, or -1. */
  maxEpisode(): number {
    return this.#maxEpisode;
  }

  /** The columns trimmed to the transitions pushed. */
  finish(meta: DatasetMeta, files: readonly DatasetFile[]): Dataset {
    return { ...this.#c.trimmed(), meta, files };
  }
}
