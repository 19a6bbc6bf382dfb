/**
 * SAC updates on a worker thread of their own (sac-worker.ts), so that the online loop can
 * run them while the main thread runs the safety update of the same step: onnxruntime-node
 * computes a session.run on the calling thread, so two updates on one thread never overlap.
 *
 * The worker builds the same SacAgent from the same options and seed (same initial weights,
 * same noise draws; checked at start) and owns the Q networks, the target and both Adam
 * states. Each update the batch (and, for a risk term, the safety critic's current weights)
 * go in through a SharedArrayBuffer, the policy's new weights come back the same way into the
 * caller's policy parameters, which the acting graph, SQRL's filter and the export read.
 * Nothing is allocated per update.
 */
import { Worker } from 'node:worker_threads';
import { RShieldError, type ErrorCode } from '../../core/errors.js';
import type { ParamSet } from '../../nn/index.js';
import { workerEntry } from '../../nn/worker-entry.js';
import type { NetworkSizes } from '../networks.js';
import type { SacBatch } from './sac-replay.js';
import type { SacOptions, SacRiskTerm, SacUpdateResult } from './sac-agent.js';

/** A parameter's place in the shared buffer, by name (both threads build their sets in the same order; names are checked). */
export interface SharedParam {
  readonly name: string;
  readonly size: number;
}

export interface SacWorkerInit {
  /** The agent's options on this side, less the risk term's live critic (weights come through `buffer`). */
  readonly opts: Omit<SacOptions, 'risk' | 'updateThread'>;
  readonly risk?: { readonly use: SacRiskTerm['use']; readonly sizes: NetworkSizes; readonly epsRisk: number; readonly critic: readonly SharedParam[] };
  readonly policy: readonly SharedParam[];
  readonly buffer: SharedArrayBuffer;
}

export type SacWorkerRequest = { readonly type: 'update'; readonly weight: number } | { readonly type: 'stop' };

export type SacWorkerReport =
  | { readonly type: 'ready' }
  | { readonly type: 'done'; readonly qLoss: number; readonly policyLoss: number; readonly risk: number }
  | { readonly type: 'failed'; readonly message: string; readonly code?: ErrorCode };

/** Views of the shared buffer: the batch columns (named as the graph's inputs), the critic's and the policy's weights. */
export interface SacShared {
  readonly batch: SacBatch;
  readonly critic: Float32Array;
  readonly policy: Float32Array;
}

/** The SAC batch's columns, in the shared buffer's order. */
export const SAC_BATCH_COLUMNS = ['obs', 'act', 'reward', 'next_obs', 'mask'] as const;

const total = (ps: readonly SharedParam[]): number => ps.reduce((n, p) => n + p.size, 0);

export function sharedBytes(obsDim: number, actDim: number, batch: number, critic: readonly SharedParam[], policy: readonly SharedParam[]): number {
  return 4 * (batch * (2 * obsDim + actDim + 2) + total(critic) + total(policy));
}

export function sharedViews(buffer: SharedArrayBuffer, obsDim: number, actDim: number, batch: number, critic: readonly SharedParam[], policy: readonly SharedParam[]): SacShared {
  let at = 0;
  const take = (n: number): Float32Array => {
    const v = new Float32Array(buffer, at * 4, n);
    at += n;
    return v;
  };
  const b: SacBatch = { obs: take(batch * obsDim), act: take(batch * actDim), reward: take(batch), next_obs: take(batch * obsDim), mask: take(batch) };
  return { batch: b, critic: take(total(critic)), policy: take(total(policy)) };
}

export const layoutOf = (ps: ParamSet): SharedParam[] => ps.list().map((p) => ({ name: p.name, size: p.size }));

/** Copies the values of `ps` into `flat` (`toFlat`) or back, in `layout` order; throws naming a parameter the set lacks or sizes differently. */
export function copyParams(ps: ParamSet, layout: readonly SharedParam[], flat: Float32Array, toFlat: boolean): void {
  const byName = new Map(ps.list().map((p) => [p.name, p]));
  let at = 0;
  for (const l of layout) {
    const p = byName.get(l.name);
    if (p === undefined || p.size !== l.size) {
      throw new RShieldError('E_GRAPH', `SAC update worker: parameter ${l.name} has ${p?.size ?? 'no'} values on one thread, ${l.size} on the other`, { param: l.name });
    }
    if (toFlat) flat.set(p.value, at);
    else p.value.set(flat.subarray(at, at + l.size));
    at += l.size;
  }
}

/** How long a stopped worker may take to release its sessions and exit before it is terminated (it is idle then, never inside ONNX Runtime). */
const EXIT_GRACE_MS = 2000;

export class SacUpdateWorker {
  readonly #worker: Worker;
  readonly #shared: SacShared;
  readonly #policy: ParamSet;
  readonly #critic: ParamSet | undefined;
  readonly #init: SacWorkerInit;
  readonly #result: SacUpdateResult = { qLoss: 0, policyLoss: 0, risk: Number.NaN };
  readonly #request: { type: 'update'; weight: number } = { type: 'update', weight: 0 };
  #pending: { resolve: (r: SacUpdateResult) => void; reject: (e: Error) => void } | undefined;
  #inFlight: Promise<SacUpdateResult> | undefined;
  /** Set once the worker failed or exited: every later update rejects with it. */
  #failure: RShieldError | undefined;
  #exited = false;
  readonly #exit: Promise<void>;

  private constructor(worker: Worker, init: SacWorkerInit, policy: ParamSet, critic: ParamSet | undefined) {
    this.#worker = worker;
    this.#init = init;
    this.#policy = policy;
    this.#critic = critic;
    const { obsDim: S, actDim: A } = init.opts;
    this.#shared = sharedViews(init.buffer, S, A, init.opts.batch ?? 256, init.risk?.critic ?? [], init.policy);
    this.#exit = new Promise((resolve) => worker.once('exit', () => resolve()));
  }

  /**
   * Starts the worker and waits until it built its agent; its initial policy must equal
   * `policy` bit for bit (the same options and seed on both threads). `critic` is the risk
   * term's live safety critic, read at each update.
   */
  static async start(opts: SacWorkerInit['opts'], policy: ParamSet, risk?: SacRiskTerm): Promise<SacUpdateWorker> {
    const policyLayout = layoutOf(policy);
    const criticLayout = risk === undefined ? [] : layoutOf(risk.critic);
    const { obsDim: S, actDim: A } = opts;
    const buffer = new SharedArrayBuffer(sharedBytes(S, A, opts.batch ?? 256, criticLayout, policyLayout));
    const init: SacWorkerInit = {
      opts,
      policy: policyLayout,
      buffer,
      ...(risk === undefined ? {} : { risk: { use: risk.use, sizes: risk.sizes, epsRisk: risk.epsRisk, critic: criticLayout } }),
    };
    const { entry, eval: isEval } = workerEntry(import.meta.url, 'sac-worker');
    const worker = new Worker(entry, { eval: isEval, workerData: init });
    const w = new SacUpdateWorker(worker, init, policy, risk?.critic);
    await w.#started();
    // The worker's own weights must be these: the runs stay reproducible whichever thread updates.
    const own = new Float32Array(w.#shared.policy.length);
    copyParams(policy, policyLayout, own, true);
    const differs = own.findIndex((v, i) => !Object.is(v, w.#shared.policy[i]));
    if (differs >= 0) {
      await w.close();
      throw new RShieldError('E_GRAPH', `SAC update worker: its initial policy differs from this thread's at value ${differs}`, {});
    }
    return w;
  }

  #started(): Promise<void> {
    const worker = this.#worker;
    return new Promise((resolve, reject) => {
      const onStart = (m: SacWorkerReport): void => {
        worker.off('message', onStart);
        if (m.type === 'ready') {
          this.#listen();
          worker.unref(); // idle between updates: a forgotten close() never keeps the process alive
          resolve();
        } else {
          const message = m.type === 'failed' ? m.message : `unexpected report '${m.type}'`;
          reject(this.#fail(new RShieldError(m.type === 'failed' ? (m.code ?? 'E_UNAVAILABLE') : 'E_UNAVAILABLE', `SAC update worker did not start: ${message}`)));
        }
      };
      worker.on('message', onStart);
      worker.once('error', (err) => {
        reject(this.#fail(new RShieldError('E_UNAVAILABLE', `SAC update worker failed: ${err.message}`, {}, { cause: err })));
      });
      worker.once('exit', (code) => {
        this.#exited = true;
        reject(this.#fail(new RShieldError('E_UNAVAILABLE', `SAC update worker exited (code ${code})`, { code }))); // no-op once started
      });
    });
  }

  #listen(): void {
    this.#worker.on('message', (m: SacWorkerReport) => {
      const p = this.#pending;
      this.#pending = undefined;
      this.#worker.unref();
      if (p === undefined) return;
      if (m.type === 'done') {
        copyParams(this.#policy, this.#init.policy, this.#shared.policy, false);
        this.#result.qLoss = m.qLoss;
        this.#result.policyLoss = m.policyLoss;
        this.#result.risk = m.risk;
        p.resolve(this.#result);
      } else if (m.type === 'failed') {
        p.reject(this.#fail(new RShieldError(m.code ?? 'E_UNAVAILABLE', `SAC update failed in its worker: ${m.message}`)));
      }
    });
  }

  /** Records the first failure, rejects an update in flight with it and returns it. */
  #fail(err: RShieldError): RShieldError {
    const first = (this.#failure ??= err);
    const p = this.#pending;
    this.#pending = undefined;
    p?.reject(first);
    return first;
  }

  /**
   * Starts one update on `batch` and resolves when the worker has done it and the policy's
   * new weights are in place. The batch (and the risk critic's weights) are copied before
   * this returns: the caller may refill its buffers and move the critic at once.
   */
  update(batch: SacBatch, weight: number): Promise<SacUpdateResult> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.#pending !== undefined) return Promise.reject(new RShieldError('E_USAGE', 'SAC update worker: an update is already running (await it first)'));
    const s = this.#shared.batch;
    for (const k of SAC_BATCH_COLUMNS) {
      if (batch[k].length !== s[k].length) return Promise.reject(new RShieldError('E_BAD_INPUT', `SAC batch column ${k} has ${batch[k].length} values, the worker expects ${s[k].length}`, { input: k }));
      s[k].set(batch[k]);
    }
    if (this.#critic !== undefined) copyParams(this.#critic, this.#init.risk!.critic, this.#shared.critic, true);
    this.#request.weight = weight;
    const run = new Promise<SacUpdateResult>((resolve, reject) => {
      this.#pending = { resolve, reject };
    });
    this.#inFlight = run;
    this.#worker.ref(); // an update in flight keeps the process alive until it is answered
    this.#worker.postMessage(this.#request);
    return run;
  }

  /** Waits for an update in flight, then stops the worker (it releases its sessions) and waits for it to exit. */
  async close(): Promise<void> {
    await this.#inFlight?.catch(() => undefined);
    this.#fail(new RShieldError('E_USAGE', 'SAC update worker is closed'));
    if (this.#exited) return;
    this.#worker.ref();
    this.#worker.postMessage({ type: 'stop' } satisfies SacWorkerRequest);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), EXIT_GRACE_MS);
    });
    if (await Promise.race([this.#exit.then(() => false), late])) await this.#worker.terminate();
    clearTimeout(timer);
  }
}
