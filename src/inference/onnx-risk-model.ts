/**
 * RiskModel implementations on ONNX Runtime. Input and output tensors are created once over
 * Float32Arrays the model owns; each tick copies obs/act into them and passes the output
 * tensors as fetches, so ORT writes results in place (no tensor allocation per tick). With a
 * direct session (direct-run.ts) beside the public one, a tick runs synchronously; the public
 * session stays for the check that the two agree and for closing.
 */
import * as ort from 'onnxruntime-node';
import type { RiskModel } from '../core/risk-model.js';
import type { DirectSession } from './direct-run.js';
import { FUSED_ACT, FUSED_OBS, FUSED_Q, FUSED_RECOVERY } from './merge.js';
import { copyInto } from './copy-into.js';

export interface TensorWiring {
  readonly obsDim: number;
  readonly actDim: number;
  /** Rank of the critic's Q_risk output: [1, 1] or [1]. */
  readonly qRank: number;
}

/** A public session and, when it could be opened, its direct twin. */
export interface TickSession {
  readonly session: ort.InferenceSession;
  readonly direct: DirectSession | null;
}

/**
 * Inputs on which a direct session must reproduce its public twin bit for bit before ticks use
 * it: zeros, and values spread over [-2, 2] per element.
 */
function probeValues(n: number, k: number): number[] {
  return Array.from({ length: n }, (_, i) => (k === 0 ? 0 : Math.sin(1 + 3.7 * i + 1.3 * k) * 2));
}

const sameBits = (a: Float32Array, b: Float32Array): boolean => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

/**
 * Runs `public` and `direct` on the same inputs (written by `fill(k)`); returns why they differ,
 * or null. `outputs` are the arrays the fetches write.
 */
async function compareRuns(
  t: TickSession & { direct: DirectSession },
  feeds: Record<string, ort.Tensor>,
  fetches: Record<string, ort.Tensor>,
  fill: (k: number) => void,
  outputs: readonly Float32Array[],
): Promise<string | null> {
  for (let k = 0; k < 3; k++) {
    fill(k);
    await t.session.run(feeds, fetches);
    const want = outputs.map((o) => o.slice());
    t.direct.run(feeds, fetches);
    if (!outputs.every((o, i) => sameBits(o, want[i] as Float32Array))) return `its outputs differ from the public session's on probe ${k}`;
  }
  return null;
}

/** One session computing Q_risk(s, a) and π_rec(s) together (merge.ts). */
export class FusedRiskModel implements RiskModel {
  readonly obsDim: number;
  readonly actDim: number;
  readonly #session: ort.InferenceSession;
  #direct: DirectSession | null;
  readonly #obs: Float32Array;
  readonly #act: Float32Array;
  readonly #q = new Float32Array(1);
  readonly #rec: Float32Array;
  readonly #feeds: Record<string, ort.Tensor>;
  readonly #fetches: Record<string, ort.Tensor>;

  constructor(t: TickSession, w: TensorWiring) {
    this.#session = t.session;
    this.#direct = t.direct;
    this.obsDim = w.obsDim;
    this.actDim = w.actDim;
    this.#obs = new Float32Array(w.obsDim);
    this.#act = new Float32Array(w.actDim);
    this.#rec = new Float32Array(w.actDim);
    this.#feeds = {
      [FUSED_OBS]: new ort.Tensor('float32', this.#obs, [1, w.obsDim]),
      [FUSED_ACT]: new ort.Tensor('float32', this.#act, [1, w.actDim]),
    };
    this.#fetches = {
      [FUSED_Q]: new ort.Tensor('float32', this.#q, w.qRank === 1 ? [1] : [1, 1]),
      [FUSED_RECOVERY]: new ort.Tensor('float32', this.#rec, [1, w.actDim]),
    };
  }

  /** Whether ticks run synchronously on the direct session. */
  get direct(): boolean {
    return this.#direct !== null;
  }

  /** Keeps the direct session only if it agrees with the public one; returns why not, or null. */
  async checkDirect(): Promise<string | null> {
    const direct = this.#direct;
    if (direct === null) return null;
    const why = await compareRuns({ session: this.#session, direct }, this.#feeds, this.#fetches, (k) => {
      this.#obs.set(probeValues(this.obsDim, k));
      this.#act.set(probeValues(this.actDim, k + 5));
    }, [this.#q, this.#rec]);
    if (why !== null) this.#dropDirect();
    return why;
  }

  #dropDirect(): void {
    this.#direct?.dispose();
    this.#direct = null;
  }

  risk(obs: ArrayLike<number>, act: ArrayLike<number>): number | Promise<number> {
    copyInto(this.#obs, obs);
    copyInto(this.#act, act);
    if (this.#direct !== null) {
      this.#direct.run(this.#feeds, this.#fetches);
      return this.#q[0] as number;
    }
    return this.#session.run(this.#feeds, this.#fetches).then(() => this.#q[0] as number);
  }

  /** Already computed by risk() in the same run. */
  recovery(): Float32Array {
    return this.#rec;
  }

  async close(): Promise<void> {
    this.#dropDirect();
    await this.#session.release();
  }
}

export interface SeparateNames {
  readonly criticObs: string;
  readonly criticAct: string;
  readonly criticOut: string;
  readonly recoveryIn: string;
  readonly recoveryOut: string;
}

/** Two sessions, as the card wires them: π_rec(s) runs only on ticks that need it. */
export class SeparateRiskModel implements RiskModel {
  readonly obsDim: number;
  readonly actDim: number;
  readonly #critic: ort.InferenceSession;
  readonly #recovery: ort.InferenceSession;
  #cDirect: DirectSession | null;
  #rDirect: DirectSession | null;
  readonly #obs: Float32Array;
  readonly #act: Float32Array;
  readonly #q = new Float32Array(1);
  readonly #rec: Float32Array;
  readonly #cFeeds: Record<string, ort.Tensor>;
  readonly #cFetches: Record<string, ort.Tensor>;
  readonly #rFeeds: Record<string, ort.Tensor>;
  readonly #rFetches: Record<string, ort.Tensor>;

  constructor(critic: TickSession, recovery: TickSession, w: TensorWiring, n: SeparateNames) {
    this.#critic = critic.session;
    this.#recovery = recovery.session;
    this.#cDirect = critic.direct;
    this.#rDirect = recovery.direct;
    this.obsDim = w.obsDim;
    this.actDim = w.actDim;
    this.#obs = new Float32Array(w.obsDim);
    this.#act = new Float32Array(w.actDim);
    this.#rec = new Float32Array(w.actDim);
    // Both sessions read the same obs buffer: the recovery obs is the one last given to risk().
    const obsT = new ort.Tensor('float32', this.#obs, [1, w.obsDim]);
    this.#cFeeds = { [n.criticObs]: obsT, [n.criticAct]: new ort.Tensor('float32', this.#act, [1, w.actDim]) };
    this.#cFetches = { [n.criticOut]: new ort.Tensor('float32', this.#q, w.qRank === 1 ? [1] : [1, 1]) };
    this.#rFeeds = { [n.recoveryIn]: obsT };
    this.#rFetches = { [n.recoveryOut]: new ort.Tensor('float32', this.#rec, [1, w.actDim]) };
  }

  /** Whether ticks run synchronously on the direct sessions (both, or neither). */
  get direct(): boolean {
    return this.#cDirect !== null;
  }

  /** Keeps the direct sessions only if both agree with the public ones; returns why not, or null. */
  async checkDirect(): Promise<string | null> {
    const c = this.#cDirect;
    const r = this.#rDirect;
    if (c === null || r === null) {
      const why = c === null && r === null ? null : 'only one of the two sessions opened directly';
      this.#dropDirect();
      return why;
    }
    const fill = (k: number): void => {
      this.#obs.set(probeValues(this.obsDim, k));
      this.#act.set(probeValues(this.actDim, k + 5));
    };
    const why =
      (await compareRuns({ session: this.#critic, direct: c }, this.#cFeeds, this.#cFetches, fill, [this.#q])) ??
      (await compareRuns({ session: this.#recovery, direct: r }, this.#rFeeds, this.#rFetches, fill, [this.#rec]));
    if (why !== null) this.#dropDirect();
    return why;
  }

  #dropDirect(): void {
    this.#cDirect?.dispose();
    this.#rDirect?.dispose();
    this.#cDirect = null;
    this.#rDirect = null;
  }

  risk(obs: ArrayLike<number>, act: ArrayLike<number>): number | Promise<number> {
    copyInto(this.#obs, obs);
    copyInto(this.#act, act);
    if (this.#cDirect !== null) {
      this.#cDirect.run(this.#cFeeds, this.#cFetches);
      return this.#q[0] as number;
    }
    return this.#critic.run(this.#cFeeds, this.#cFetches).then(() => this.#q[0] as number);
  }

  recovery(): Float32Array | Promise<Float32Array> {
    if (this.#rDirect !== null) {
      this.#rDirect.run(this.#rFeeds, this.#rFetches);
      return this.#rec;
    }
    return this.#recovery.run(this.#rFeeds, this.#rFetches).then(() => this.#rec);
  }

  async close(): Promise<void> {
    this.#dropDirect();
    await Promise.all([this.#critic.release(), this.#recovery.release()]);
  }
}
