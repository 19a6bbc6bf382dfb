import type { Dataset, DatasetFile } from './dataset.js';
import type { DatasetMeta } from './dataset-meta.js';
import type { TransitionMessage } from './transition-message.js';

type Columns = Pick<Dataset, 'obs' | 'act' | 'cost' | 'nextObs' | 'done' | 'episode' | 'step' | 'nextAct' | 'hasNextAct'>;

/** Collects decoded transitions into column arrays that grow by doubling. */
export class DatasetBuilder {
  readonly obsDim: number;
  readonly actDim: number;
  #size = 0;
  #capacity = 0;
  #maxEpisode = -1;
  #c: Columns;

  constructor(obsDim: number, actDim: number, initialCapacity = 1024) {
    this.obsDim = obsDim;
    this.actDim = actDim;
    this.#c = this.#allocate(initialCapacity);
  }

  get size(): number {
    return this.#size;
  }

  /** Appends one transition; `episodeOffset` keeps episode ids unique across files. */
  push(m: TransitionMessage, episodeOffset: number): void {
    if (this.#size === this.#capacity) this.#grow();
    const i = this.#size++;
    const c = this.#c;
    c.obs.set(m.obs, i * this.obsDim);
    c.nextObs.set(m.next_obs, i * this.obsDim);
    c.act.set(m.act, i * this.actDim);
    c.cost[i] = m.cost;
    c.done[i] = m.done ? 1 : 0;
    const episode = m.episode + episodeOffset;
    c.episode[i] = episode;
    if (episode > this.#maxEpisode) this.#maxEpisode = episode;
    c.step[i] = m.step;
    if (m.has_next_act) {
      c.nextAct.set(m.next_act, i * this.actDim);
      c.hasNextAct[i] = 1;
    }
  }

  /** Largest episode id pushed so far, or -1. */
  maxEpisode(): number {
    return this.#maxEpisode;
  }

  /** The arrays trimmed to the transitions pushed. */
  finish(meta: DatasetMeta, files: readonly DatasetFile[]): Dataset {
    const n = this.#size;
    const c = this.#c;
    return {
      size: n,
      obsDim: this.obsDim,
      actDim: this.actDim,
      obs: c.obs.slice(0, n * this.obsDim),
      act: c.act.slice(0, n * this.actDim),
      cost: c.cost.slice(0, n),
      nextObs: c.nextObs.slice(0, n * this.obsDim),
      done: c.done.slice(0, n),
      episode: c.episode.slice(0, n),
      step: c.step.slice(0, n),
      nextAct: c.nextAct.slice(0, n * this.actDim),
      hasNextAct: c.hasNextAct.slice(0, n),
      meta,
      files,
    };
  }

  #allocate(capacity: number): Columns {
    this.#capacity = capacity;
    return {
      obs: new Float32Array(capacity * this.obsDim),
      act: new Float32Array(capacity * this.actDim),
      cost: new Float32Array(capacity),
      nextObs: new Float32Array(capacity * this.obsDim),
      done: new Uint8Array(capacity),
      episode: new Uint32Array(capacity),
      step: new Uint32Array(capacity),
      nextAct: new Float32Array(capacity * this.actDim),
      hasNextAct: new Uint8Array(capacity),
    };
  }

  #grow(): void {
    const old = this.#c;
    const next = this.#allocate(Math.max(16, this.#capacity * 2));
    next.obs.set(old.obs);
    next.act.set(old.act);
    next.cost.set(old.cost);
    next.nextObs.set(old.nextObs);
    next.done.set(old.done);
    next.episode.set(old.episode);
    next.step.set(old.step);
    next.nextAct.set(old.nextAct);
    next.hasNextAct.set(old.hasNextAct);
    this.#c = next;
  }
}
