/**
 * The I/O side of inference (DESIGN.md decision 8): a RiskModel whose every call is a hand-off
 * to an inference worker (inference-worker.ts) with the tick's deadline. A late answer is a
 * LateInference (the core publishes the 'deadline' fail-safe); while the worker is still busy
 * with a late request every call fails at once, without waiting again; a worker busy for longer
 * than `stuckAfterMs` is retired (told to stop when its run returns) and replaced by a fresh one
 * loaded from the same bytes.
 *
 * A thread stuck inside ONNX Runtime's native code cannot be stopped by Node (terminate() would
 * take effect only when the graph returns, and then abort the process): it is told to stop and
 * left to finish; until then it keeps a core busy and blocks a normal process exit. Such threads are counted (`stuckInferenceThreads`); at most
 * `maxStuckThreads` may exist before replacements wait for one to end, and `exitProcess`
 * ends a process that has one without joining it.
 */
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { RShieldError } from '../core/errors.js';
import { systemClock, type Clock } from '../core/clock.js';
import { LateInference, type RiskModel } from '../core/risk-model.js';
import { workerEntry } from '../nn/worker-entry.js';
import { ASLEEP, CMD, CMD_NEAREST, CMD_PLAN, CMD_RECOVERY, CMD_RISK, CMD_STOP, DONE, EPISODE, MB_INVALID, MB_PLANS, MB_WARM, NS_FALLBACKS, NS_SEARCHES, REC_OF, REQ, SPIN_CHECK, STATUS, WAKE_PREDICTED, WAKE_SLEPT, WAKE_SPUN, handoff, waitAsync, type Handoff } from './handoff.js';
import type { Logger } from './session-factory.js';
import type { WorkerInit, WorkerLoad, WorkerMessage } from './inference-worker.js';
import type { ModelSource } from './model-source.js';
import type { WakeSettings } from './request-wait.js';

export interface WatchdogOptions {
  /** A hand-off answer later than this after the tick's first request is a LateInference. */
  readonly deadlineUs: number;
  /** A worker still busy with a late request this long is replaced. */
  readonly stuckAfterMs: number;
  /** Time limit of a worker's start: load, IO check and check batch (quarantine). */
  readonly startTimeoutMs: number;
  /** Spin about this long on the answer before sleeping in Atomics.wait (bench/shield.ts measures both). */
  readonly spinUs: number;
  /** How the worker waits for the next request: spin after an answer, predictive wake (request-wait.ts). */
  readonly wake: WakeSettings;
  /** Heap limits of each worker (V8 only: ONNX Runtime's native memory is not covered). */
  readonly resourceLimits: ResourceLimits;
  /** Receives the workers' warnings (a CUDA fallback). */
  readonly logger: Logger;
  readonly clock?: Clock;
}

export type ReadyInfo = Extract<WorkerMessage, { type: 'ready' }>;

export type WorkerStartOptions = Pick<WatchdogOptions, 'startTimeoutMs' | 'resourceLimits' | 'logger' | 'wake'>;

/** Defaults: a worker's heap needs the protobuf of its model, a few MB for shipped models. */
export const WORKER_RESOURCE_LIMITS: ResourceLimits = { maxOldGenerationSizeMb: 256, maxYoungGenerationSizeMb: 32 };
/** Stuck inference threads allowed to exist at once before replacements wait. */
export const MAX_STUCK_THREADS = 2;
/** How long a stopped worker may take to exit before close() stops waiting for it. */
const EXIT_GRACE_MS = 500;

/** How the current worker met its requests (request-wait.ts); counted from its start. */
export interface WakeStats {
  /** During the spin after its previous answer. */
  readonly spun: number;
  /** During the spin around the predicted time of the tick. */
  readonly predicted: number;
  /** Woken from a sleep by the request: a thread wake-up paid by the tick. */
  readonly slept: number;
}

export interface WatchdogStats {
  /** Hand-offs that missed the deadline, and calls refused because the worker was still busy. */
  readonly late: number;
  readonly busy: number;
  /** Workers replaced after being stuck. */
  readonly replacements: number;
  /** Whether the model currently has no worker ready (stuck, or a replacement starting). */
  readonly stuck: boolean;
}

/**
 * Workers told to stop that have not exited yet. A worker is never terminate()d while it may be
 * inside ONNX Runtime: when the native call returned into a terminated thread, node-addon-api
 * would abort the whole process. A busy worker is left to finish its run and is stopped then.
 */
const retiring = new Set<Worker>();

/** Inference threads told to stop that have not ended (most often: stuck in a graph). They block a normal exit. */
export function stuckInferenceThreads(): number {
  return retiring.size;
}

/**
 * Ends the process with `code` — at once (SIGKILL) when a stuck inference thread would make a
 * normal exit wait for it forever. Call after the fail-safe was published and recordings
 * flushed. Returns normally when no thread is stuck (the caller then exits as usual).
 */
export async function exitProcess(code: number): Promise<void> {
  if (retiring.size > 0) await new Promise((r) => setTimeout(r, EXIT_GRACE_MS).unref());
  if (retiring.size === 0) return;
  console.error(`rshield: ${retiring.size} inference thread(s) stuck in a model graph cannot be joined; ending the process (exit code ${code} intended)`);
  process.kill(process.pid, 'SIGKILL');
}

/** Asks an idle serving worker to stop: it closes its sessions and ends by itself. */
function sendStop(h: Handoff): void {
  h.ctrl[CMD] = CMD_STOP;
  Atomics.store(h.ctrl, REQ, (Atomics.load(h.ctrl, REQ) + 1) | 0);
  Atomics.notify(h.ctrl, REQ);
}

/**
 * Stops a worker: now when it is idle; when it is busy with request `busySeq`, as soon as that
 * run returns (which, for a graph stuck for good, is never: it stays counted). Resolves when
 * the worker exited, or false after EXIT_GRACE_MS.
 */
export function retire(w: Worker, h: Handoff, busySeq: number | null): Promise<boolean> {
  retiring.add(w);
  w.ref(); // close() awaits the exit: the event loop must wait for it too
  const exited = new Promise<boolean>((resolve) => {
    const t = setTimeout(() => resolve(false), EXIT_GRACE_MS);
    t.unref();
    w.once('exit', () => {
      retiring.delete(w);
      clearTimeout(t);
      resolve(true);
    });
  });
  if (busySeq === null) sendStop(h);
  else {
    const done = Atomics.load(h.ctrl, DONE);
    if (done === busySeq) sendStop(h);
    else {
      const r = waitAsync(h.ctrl, DONE, done);
      if (r.async) void r.value.then(() => sendStop(h));
      else sendStop(h);
    }
  }
  // Not unref()'d: an exit while the run is in native code would stop the thread under it and
  // abort when the run returns. The process waits for the run instead; exitProcess() does not.
  return exited;
}

/** One started worker with its model loaded and checked. */
export class InferenceWorker {
  readonly worker: Worker;
  readonly h: Handoff;
  readonly info: ReadyInfo;
  /** The message of the last request that threw in the worker (or of the worker's own failure). */
  lastError: string | null = null;

  private constructor(worker: Worker, h: Handoff, info: ReadyInfo) {
    this.worker = worker;
    this.h = h;
    this.info = info;
  }

  /**
   * Starts a worker on `source` and waits until it loaded and checked the model. Refuses with
   * E_MODEL when the worker refused it, ran out of memory, died, or took longer than the limit.
   * The worker's warnings (a CUDA fallback) go to `logger`.
   */
  static start(source: ModelSource, load: WorkerLoad, o: WorkerStartOptions): Promise<InferenceWorker> {
    const label = `${source.card.robot} model ${source.card.version} (${source.dir})`;
    const h = handoff(source.card.obsDim, source.card.actDim, undefined, source.card.image?.latentDim ?? 0);
    const { entry, eval: isEval } = workerEntry(import.meta.url, 'inference-worker');
    const init: WorkerInit = { source, load, buffer: h.buffer, wake: o.wake };
    const worker = new Worker(entry, { eval: isEval, workerData: init, resourceLimits: o.resourceLimits, stdout: false, stderr: false });
    let started: InferenceWorker | null = null;
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (message: string, code: 'E_MODEL' | 'E_UNAVAILABLE' = 'E_MODEL'): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        // Perhaps still inside ONNX Runtime: stopped once it reports, never terminated mid-call.
        retiring.add(worker);
        worker.once('exit', () => retiring.delete(worker));
        reject(new RShieldError(code, message, { model: source.card.version, dir: source.dir }));
      };
      const timer = setTimeout(() => fail(`${label}: refused: loading and checking it took longer than the ${o.startTimeoutMs} ms time limit (a graph that runs too long?)`), o.startTimeoutMs);
      timer.unref();
      worker.on('message', (m: WorkerMessage) => {
        switch (m.type) {
          case 'warning':
            return o.logger.warn(m.message);
          case 'inference-error':
            if (started !== null) started.lastError = m.message;
            return;
          case 'latent':
          case 'encode-error':
            return; // an encoder worker's answers: its WatchedEncoder listens for them
          case 'refused':
            return fail(m.message, m.code === 'E_UNAVAILABLE' ? 'E_UNAVAILABLE' : 'E_MODEL');
          case 'ready':
            if (settled) return sendStop(h); // ready after the time limit: refused already, stop it
            settled = true;
            clearTimeout(timer);
            started = new InferenceWorker(worker, h, m);
            // An idle worker does not keep the process alive (a prepared model nobody closed); a
            // busy one does (WatchedRiskModel), so an exit never stops it inside ONNX Runtime.
            worker.unref();
            return resolve(started);
        }
      });
      worker.on('error', (err: Error & { code?: string }) => {
        const heap = o.resourceLimits.maxOldGenerationSizeMb;
        const why = err.code === 'ERR_WORKER_OUT_OF_MEMORY' ? `ran out of the ${heap} MB memory limit` : `failed: ${err.message}`;
        if (started !== null) started.lastError = `the model's worker ${why}`;
        fail(`${label}: refused: the model's worker ${why}`);
      });
      worker.once('exit', (c) => fail(`${label}: the model's worker exited (code ${c}) before the model was ready`));
    });
  }
}

/** The RiskModel the core drives: each call a hand-off to the current worker, with the deadline. */
export class WatchedRiskModel implements RiskModel {
  readonly obsDim: number;
  readonly actDim: number;
  /** What the first worker reported (fusion, recovery mode, provider); replacements load the same. */
  readonly info: ReadyInfo;
  readonly #source: ModelSource;
  readonly #load: WorkerLoad;
  #o: WatchdogOptions;
  readonly #clock: Clock;
  readonly #late = new LateInference('inference missed the tick deadline');
  readonly #busyErr = new LateInference('inference is still busy with a late tick');
  #w: InferenceWorker | null;
  #seq = 0;
  #outstanding = false;
  #lateSinceUs = 0;
  #tickStartUs = 0;
  #stats = { late: 0, busy: 0, replacements: 0 };
  #nsBase = { searches: 0, fallbacks: 0 };
  #mbBase = { plans: 0, invalid: 0, warmStarts: 0 };
  #replacing = false;
  #closed = false;
  #latentIn: Float32Array | null = null;

  constructor(first: InferenceWorker, source: ModelSource, load: WorkerLoad, o: WatchdogOptions) {
    this.#w = first;
    this.info = first.info;
    this.#source = source;
    this.#load = load;
    this.#o = o;
    this.#clock = o.clock ?? systemClock;
    this.obsDim = source.card.obsDim;
    this.actDim = source.card.actDim;
  }


  /** The message of the last request that threw in the worker. */
  get lastError(): string | null {
    return this.#w?.lastError ?? null;
  }

  /** An image model's heads: `latent` (the newest frame's) goes into the hand-off with every tick. */
  feedLatent(latent: Float32Array): void {
    this.#latentIn = latent;
  }

  /** The shield that installs this model sets its own deadline and stuck limit on it. */
  setDeadline(deadlineUs: number, stuckAfterMs: number): void {
    this.#o = { ...this.#o, deadlineUs, stuckAfterMs };
  }

  stats(): WatchdogStats {
    return { ...this.#stats, stuck: this.#w === null || this.#outstanding };
  }

  wakeStats(): WakeStats {
    const c = this.#w?.h.ctrl;
    if (c === undefined) return { spun: 0, predicted: 0, slept: 0 };
    return { spun: c[WAKE_SPUN] as number, predicted: c[WAKE_PREDICTED] as number, slept: c[WAKE_SLEPT] as number };
  }

  nearestSafeStats(): { searches: number; fallbacks: number } {
    const c = this.#w?.h.ctrl;
    if (c === undefined) return { ...this.#nsBase };
    return { searches: (c[NS_SEARCHES] as number) - this.#nsBase.searches, fallbacks: (c[NS_FALLBACKS] as number) - this.#nsBase.fallbacks };
  }

  resetNearestSafeStats(): void {
    const c = this.#w?.h.ctrl;
    this.#nsBase = c === undefined ? { searches: 0, fallbacks: 0 } : { searches: c[NS_SEARCHES] as number, fallbacks: c[NS_FALLBACKS] as number };
  }

  plannerStats(): { plans: number; invalid: number; warmStarts: number } {
    const c = this.#w?.h.ctrl;
    if (c === undefined) return { ...this.#mbBase };
    return { plans: (c[MB_PLANS] as number) - this.#mbBase.plans, invalid: (c[MB_INVALID] as number) - this.#mbBase.invalid, warmStarts: (c[MB_WARM] as number) - this.#mbBase.warmStarts };
  }

  resetPlannerStats(): void {
    const c = this.#w?.h.ctrl;
    this.#mbBase = c === undefined ? { plans: 0, invalid: 0, warmStarts: 0 } : { plans: c[MB_PLANS] as number, invalid: c[MB_INVALID] as number, warmStarts: c[MB_WARM] as number };
  }

  risk(obs: ArrayLike<number>, act: ArrayLike<number>): number | Promise<number> {
    // The first request of a tick starts its deadline budget; recovery and search share it.
    const now = this.#clock.monotonicUs();
    this.#tickStartUs = now;
    const h = this.#ready();
    for (let i = 0; i < this.obsDim; i++) h.obs[i] = obs[i] as number;
    for (let i = 0; i < this.actDim; i++) h.act[i] = act[i] as number;
    if (this.#latentIn !== null) h.latent.set(this.#latentIn);
    this.#call(h, CMD_RISK);
    // Synchronous: ShieldCore.decide lets a caller that awaits ticks back to back turn the event loop.
    return h.q[0] as number;
  }

  recovery(): Float32Array {
    const h = this.#ready();
    if (h.ctrl[REC_OF] !== this.#seq) this.#call(h, CMD_RECOVERY);
    return h.out;
  }

  nearestSafe(_obs: ArrayLike<number>, proposed: Float32Array, fallback: Float32Array, threshold: number): Float32Array {
    const h = this.#ready();
    // obs is already in place: the core searches in the tick whose risk() wrote it.
    h.act.set(proposed);
    h.fallback.set(fallback);
    h.threshold[0] = threshold;
    this.#call(h, CMD_NEAREST);
    return h.out;
  }

  /** A new episode: the worker's planner sees the bumped word before its next plan (no round trip). */
  resetEpisode(): void {
    const c = this.#w?.h.ctrl;
    if (c !== undefined) Atomics.add(c, EPISODE, 1);
  }

  plan(_obs: ArrayLike<number>, proposed: Float32Array): Float32Array {
    const h = this.#ready();
    // obs is already in place: the core plans in the tick whose risk() wrote it.
    h.act.set(proposed);
    this.#call(h, CMD_PLAN);
    return h.out;
  }

  /** The hand-off of a worker free for a request; throws LateInference when there is none. */
  #ready(): Handoff {
    const w = this.#w;
    if (w === null) {
      this.#stats.busy++;
      throw this.#busyErr;
    }
    if (this.#outstanding) {
      if (Atomics.load(w.h.ctrl, DONE) !== this.#seq) {
        this.#stats.busy++;
        if (this.#clock.monotonicUs() - this.#lateSinceUs > this.#o.stuckAfterMs * 1000) this.#replace();
        throw this.#busyErr;
      }
      this.#outstanding = false; // the late answer came after all: discarded, the worker is free
      w.worker.unref();
    }
    return w.h;
  }

  #call(h: Handoff, cmd: number): void {
    const { ctrl } = h;
    const prev = this.#seq;
    const seq = (prev + 1) | 0;
    this.#seq = seq;
    ctrl[CMD] = cmd;
    Atomics.store(ctrl, REQ, seq);
    Atomics.notify(ctrl, REQ);
    // Spin on the answer first (a sleeping thread's wake-up costs the tick tens of µs), for at most
    // spinUs and never past the deadline, reading the time only every SPIN_CHECK polls (a reading
    // may box a double). The spin's end is a matter of speed: performance.now, not the clock.
    // A worker that was asleep is woken by this request: then wait asleep (ASLEEP, handoff.ts).
    const end = this.#tickStartUs + this.#o.deadlineUs;
    let now = this.#clock.monotonicUs();
    const spinUs = Atomics.load(ctrl, ASLEEP) === 1 ? 0 : Math.min(this.#o.spinUs, end - now);
    if (spinUs > 0 && Atomics.load(ctrl, DONE) !== seq) {
      const spinEnd = performance.now() + spinUs / 1000;
      for (let n = 1; Atomics.load(ctrl, DONE) !== seq; n++) if ((n & (SPIN_CHECK - 1)) === 0 && performance.now() >= spinEnd) break;
      now = this.#clock.monotonicUs();
    }
    while (Atomics.load(ctrl, DONE) !== seq) {
      if (now >= end) {
        this.#outstanding = true;
        this.#w?.worker.ref();
        this.#lateSinceUs = now;
        this.#stats.late++;
        throw this.#late;
      }
      // Sleep until the answer or the deadline, whichever comes first: the event loop is never held longer.
      Atomics.wait(ctrl, DONE, prev, (end - now) / 1000);
      now = this.#clock.monotonicUs();
    }
    if (ctrl[STATUS] !== 0) throw new Error(this.#w?.lastError ?? 'the model threw in its worker');
  }

  /** Terminates the stuck worker and starts a fresh one from the same bytes (fail-safe meanwhile). */
  #replace(): void {
    const old = this.#w;
    if (old === null || this.#replacing) return;
    this.#w = null;
    this.#outstanding = false;
    void retire(old.worker, old.h, this.#seq);
    this.#respawn();
  }

  #respawn(): void {
    if (this.#closed) return;
    this.#replacing = true;
    const retry = (): void => {
      this.#replacing = false;
      const t = setTimeout(() => this.#respawn(), this.#o.stuckAfterMs);
      t.unref();
    };
    // Every replacement of a model stuck again leaves one more thread that cannot be stopped: bounded.
    if (retiring.size >= MAX_STUCK_THREADS) return retry();
    InferenceWorker.start(this.#source, this.#load, this.#o).then(
      (w) => {
        this.#replacing = false;
        if (this.#closed) return void retire(w.worker, w.h, null);
        this.#w = w;
        this.#seq = 0;
        this.#nsBase = { searches: 0, fallbacks: 0 };
        this.#mbBase = { plans: 0, invalid: 0, warmStarts: 0 };
        this.#stats.replacements++;
      },
      retry,
    );
  }

  /** Stops the worker; does not wait for a stuck one (it is counted in stuckInferenceThreads). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const w = this.#w;
    this.#w = null;
    if (w === null) return;
    await retire(w.worker, w.h, this.#outstanding ? this.#seq : null);
  }
}
