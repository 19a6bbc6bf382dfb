/**
 * Collects the shield's transitions tick by tick into preallocated blocks (the tick path
 * allocates nothing) and seals a full batch into the wire format of transition-codec.ts.
 */
import { BATCH_HEADER_BYTES, batchByteLength, writeHeader } from './transition-codec.js';

export class TransitionBatcher {
  readonly capacity: number;
  readonly obsDim: number;
  readonly actDim: number;
  private readonly obs: Float32Array;
  private readonly act: Float32Array;
  private readonly cost: Float32Array;
  private readonly nextObs: Float32Array;
  private readonly done: Float32Array;
  private readonly episode: Uint32Array;
  private readonly step: Uint32Array;
  private n = 0;

  constructor(options: { capacity: number; obsDim: number; actDim: number }) {
    const { capacity, obsDim, actDim } = options;
    this.capacity = capacity;
    this.obsDim = obsDim;
    this.actDim = actDim;
    this.obs = new Float32Array(capacity * obsDim);
    this.act = new Float32Array(capacity * actDim);
    this.cost = new Float32Array(capacity);
    this.nextObs = new Float32Array(capacity * obsDim);
    this.done = new Float32Array(capacity);
    this.episode = new Uint32Array(capacity);
    this.step = new Uint32Array(capacity);
  }

  get size(): number {
    return this.n;
  }

  get full(): boolean {
    return this.n >= this.capacity;
  }

  /** Copies one transition in. Returns false (and copies nothing) when the batch is full. */
  add(obs: Float32Array, act: Float32Array, cost: number, nextObs: Float32Array, done: boolean, episode: number, step: number): boolean {
    const i = this.n;
    if (i >= this.capacity) return false;
    this.obs.set(obs.subarray(0, this.obsDim), i * this.obsDim);
    this.act.set(act.subarray(0, this.actDim), i * this.actDim);
    this.cost[i] = cost > 0 ? 1 : 0;
    this.nextObs.set(nextObs.subarray(0, this.obsDim), i * this.obsDim);
    this.done[i] = done ? 1 : 0;
    this.episode[i] = episode;
    this.step[i] = step;
    this.n = i + 1;
    return true;
  }

  /** Seals the collected transitions into one wire batch (undefined when empty) and starts a new one. */
  seal(session: number, seq: number): Uint8Array | undefined {
    const count = this.n;
    if (count === 0) return undefined;
    const { obsDim, actDim } = this;
    const out = new Uint8Array(batchByteLength(count, obsDim, actDim, false));
    const view = new DataView(out.buffer);
    writeHeader(view, session, seq, count, obsDim, actDim, 0);
    let off = BATCH_HEADER_BYTES;
    const put = (src: Float32Array | Uint32Array, len: number, float: boolean): void => {
      for (let k = 0; k < len; k++, off += 4) {
        if (float) view.setFloat32(off, src[k] ?? 0, true);
        else view.setUint32(off, src[k] ?? 0, true);
      }
    };
    put(this.obs, count * obsDim, true);
    put(this.act, count * actDim, true);
    put(this.cost, count, true);
    put(this.nextObs, count * obsDim, true);
    put(this.done, count, true);
    put(this.episode, count, false);
    put(this.step, count, false);
    this.n = 0;
    return out;
  }
}
