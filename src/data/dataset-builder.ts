import type { Transition } from '../core/types.js';
import type { Dataset, DatasetFile } from './dataset.js';
import type { DatasetMeta } from './dataset-meta.js';
import { TransitionColumns } from './transition-columns.js';
import type { TransitionMessage } from './transition-message.js';

/**
 * Collects decoded transitions of several files into growable columns; episode ids are
 * offset per file so they stay unique across the dataset (see readDataset).
 */
export class DatasetBuilder {
  readonly #c: TransitionColumns;
  #maxEpisode = -1;

  constructor(obsDim: number, actDim: number, initialCapacity = 1024) {
    this.#c = TransitionColumns.growable(obsDim, actDim, initialCapacity);
  }

  get size(): number {
    return this.#c.size;
  }

  /** Appends one transition; `episodeOffset` keeps episode ids unique across files. */
  push(m: TransitionMessage, episodeOffset: number): void {
    const nextAct = m.has_next_act ? m.next_act : undefined;
    this.add({ obs: m.obs, act: m.act, cost: m.cost, nextObs: m.next_obs, done: m.done, episode: m.episode, step: m.step, nextAct }, episodeOffset);
  }

  /** Appends one transition (vectors copied); `episodeOffset` as for `push`. */
  add(t: Transition, episodeOffset: number): void {
    const episode = t.episode + episodeOffset;
    this.#c.push(episodeOffset === 0 ? t : { ...t, episode });
    if (episode > this.#maxEpisode) this.#maxEpisode = episode;
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
