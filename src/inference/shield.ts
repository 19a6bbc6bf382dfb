/**
 * The public Shield (DESIGN.md "Public API"): loads a model directory onto ONNX Runtime and
 * decides each tick with the core rule. Options are resolved once here; the tick never reads
 * configuration. Hot-swap: `Shield.prepare` loads and checks a model beside the running one,
 * `shield.swap` installs it between ticks and releases the old sessions (at most two alive).
 */
import { RShieldError } from '../core/errors.js';
import type { Clock } from '../core/clock.js';
import { RECOVERY_MODES, isRecoveryMode, type RecoveryMode } from '../core/recovery-mode.js';
import { ShieldCore, type CoreModel, type DecideOptions, type Decision } from '../core/shield-core.js';
import type { SwappableShieldPort } from '../core/shield-port.js';
import type { ShieldStats } from '../core/shield-stats.js';
import type { ModelCard } from '../config/model-card.js';
import type { ModelBundle } from '../models/model-dir.js';
import { loadModel, type LoadedModel } from './model-loader.js';
import { modelSourceOf } from './model-source.js';
import { checkLocalModel, type LocalModelTrust } from './local-model-trust.js';
import type { WorkerLoad } from './inference-worker.js';
import { InferenceWorker, WORKER_RESOURCE_LIMITS, WatchedRiskModel, type WakeStats, type WatchdogOptions, type WatchdogStats } from './watchdog.js';
import { NearestSafeRiskModel, type NearestSafeStats } from './nearest-safe-model.js';
import { PlannerRiskModel, type PlannerStats } from './planner-model.js';
import { PLANNER_PRESETS, type PlannerPreset } from '../config/planner-settings.js';
import { SessionFactory, consoleLogger, type Logger, type Provider } from './session-factory.js';

/**
 * Deadline when none is given (library use; the CLI and ROS 2 paths derive theirs from the
 * robot's tick rate with deadlineForRate): half the period of a 10 Hz loop, slower than any
 * shipped robot (50–200 Hz), so it flags only what is late by any robot's measure.
 */
export const DEFAULT_DEADLINE_US = 50_000;
/**
 * Spin on the worker's answer up to 200 µs (about 4× a shipped model's tick) before sleeping
 * until it or the deadline. Measured in bench/shield.ts and bench/soak.ts (docs/shield.md,
 * "Direct run and the spin on the answer"): a sleeping I/O thread pays a thread wake-up per
 * tick (p50 ~2× the spinning one's); the spin costs the I/O thread's CPU for the inference's
 * duration. Longer spins (1 ms) raised the soak's p99 on 2 cores: while another thread (a
 * swap's quarantine worker) holds a core, the spinning I/O thread takes the worker's.
 */
export const DEFAULT_SPIN_US = 200;
/**
 * The inference worker's wait between requests (request-wait.ts; measured in bench/shield.ts,
 * docs/shield.md "Watchdog"): spin 50 µs after each answer (a tick's next request, back-to-back
 * ticks: ~1 µs of worker CPU a tick when the next request comes at once, 50 µs when it does
 * not). Predictive wake is off by default: on the shared 2-core machine it did not lower paced
 * tick latency and took 2–3× the worker's CPU time per tick; set wakeLeadUs to try it on yours.
 */
export const DEFAULT_WORKER_SPIN_US = 50;
export const DEFAULT_WAKE_LEAD_US = 0;

/**
 * The tick deadline for a control rate: half a period. The late tick still ends inside its own
 * period, so the fail-safe reaches the robot before the next command is due, and the other
 * half is left for publishing and recording.
 */
export function deadlineForRate(rateHz: number): number {
  if (!(rateHz > 0)) throw new RShieldError('E_CONFIG', `tick rate must be > 0 Hz, got ${rateHz}`);
  return 500_000 / rateHz;
}

export interface ShieldOptions {
  /** Directory with critic.onnx, recovery.onnx and model.json. */
  readonly modelDir: string;
  /**
   * Verified bytes of the model (card and files): loaded from memory instead of `modelDir`,
   * which then only names the model in messages. A received update is prepared this way, so
   * nothing written to disk after its signature check can change what is loaded.
   */
  readonly bundle?: ModelBundle;
  /** Refuse a model whose card is for another robot. */
  readonly robot?: string;
  /** Execution provider to ask for (default 'cpu'). */
  readonly provider?: Provider;
  /** With provider 'cuda': refuse (E_UNAVAILABLE) instead of falling back to CPU. */
  readonly requireCuda?: boolean;
  /** Overrides the card's ε_risk. */
  readonly epsRisk?: number;
  /** Overrides the card's hysteresis h (stay in recovery until Q_risk < ε − h). */
  readonly hysteresis?: number;
  /**
   * Recovery when Q_risk(s, a_task) > ε: 'policy' runs π_rec(s) (the reference); 'nearest-safe'
   * runs the critic on a fixed candidate set around a_task and executes the closest candidate
   * with Q_risk ≤ ε − h, π_rec(s) when none is safe. Default: the card's `recoveryMode`.
   */
  readonly recoveryMode?: RecoveryMode;
  /**
   * Model-based recovery: the CEM sampling preset — 'reference' (pop 400, 5 iterations, 20
   * particles) or 'cpu' (the default preset, sized for a 20 ms plan on 2 cores) — over the
   * card's planner settings. Default: the card's settings as written.
   */
  readonly planner?: PlannerPreset;
  /**
   * A tick longer than this (µs, decide() entry to result) yields the fail-safe. With worker
   * inference the I/O side stops waiting at the deadline. Default DEFAULT_DEADLINE_US; robots
   * pass `deadlineForRate(their tick rate)`.
   */
  readonly deadlineUs?: number;
  /**
   * 'worker' (default): ONNX Runtime runs in a worker thread; decide() hands off and waits at
   * most until the deadline (DESIGN.md decision 8), and the model is loaded and checked in that
   * worker first (quarantine). 'in-thread': sessions on the calling thread (benches, tests);
   * the deadline is then only checked after inference returns.
   */
  readonly inference?: 'worker' | 'in-thread';
  /** Worker: a worker still busy with a late tick this long is replaced. Default max(100 ms, 10 deadlines). */
  readonly stuckAfterMs?: number;
  /** Worker: time limit for loading and checking a model (quarantine). Default 20 000 ms. */
  readonly prepareTimeoutMs?: number;
  /** Worker: spin this long on an answer before sleeping (Atomics.wait). Default DEFAULT_SPIN_US. */
  readonly spinUs?: number;
  /** Worker: the worker spins this long (µs) on the next request after each answer before sleeping. Default DEFAULT_WORKER_SPIN_US. */
  readonly workerSpinUs?: number;
  /**
   * Worker: predictive wake — the worker learns the tick period and wakes from a timed sleep this
   * long (µs, plus twice the period's jitter) before the next tick is due, then spins until it
   * comes: the tick does not pay the wake-up of a sleeping thread. 0: off (the worker sleeps until
   * notified). Default DEFAULT_WAKE_LEAD_US.
   */
  readonly wakeLeadUs?: number;
  /** Refuse a model directory not signed by one of these keys (model.sig.json). Default: not required. */
  readonly trust?: LocalModelTrust;
  /** A state stamp older than this (ms) yields the fail-safe. Default: only a zero stamp is stale. */
  readonly staleAfterMs?: number;
  /** ORT intra-op threads (default 1). */
  readonly threads?: number;
  /** Let ORT's intra-op threads spin between runs (default false). */
  readonly spinning?: boolean;
  /**
   * Run ticks on onnxruntime-node's synchronous native session where it opens and agrees with
   * the public one bit for bit (src/inference/direct-run.ts; default true). false: always the
   * public async run, which pays an event-loop turn per tick.
   */
  readonly directRun?: boolean;
  /** Fuse critic and recovery into one graph when possible (default true). */
  readonly fuse?: boolean;
  readonly clock?: Clock;
  /** Receives the one warning of a CUDA fallback (default console.warn). */
  readonly logger?: Logger;
}

/** A model loaded and checked beside a running shield, ready for `swap`, or to `close`. */
export class PreparedModel {
  readonly #loaded: LoadedModel;
  readonly #core: CoreModel;
  readonly provider: Provider;
  #state: 'ready' | 'used' | 'closed' = 'ready';

  /** @internal use Shield.prepare */
  constructor(loaded: LoadedModel, core: CoreModel, provider: Provider) {
    this.#loaded = loaded;
    this.#core = core;
    this.provider = provider;
  }

  get card(): ModelCard {
    return this.#loaded.card;
  }

  get fused(): boolean {
    return this.#loaded.fused;
  }

  /** @internal */
  take(): { loaded: LoadedModel; core: CoreModel } {
    if (this.#state !== 'ready') throw new RShieldError('E_USAGE', `prepared model ${this.card.version} was already ${this.#state === 'used' ? 'swapped in' : 'closed'}`);
    this.#state = 'used';
    return { loaded: this.#loaded, core: this.#core };
  }

  /** Releases the sessions of a model that will not be swapped in. */
  async close(): Promise<void> {
    if (this.#state !== 'ready') return;
    this.#state = 'closed';
    await this.#loaded.model.close();
  }
}

function coreModel(l: LoadedModel, o: ShieldOptions): CoreModel {
  const c = l.card;
  const eps = o.epsRisk ?? c.epsRisk;
  const h = o.hysteresis ?? c.hysteresis;
  if (!(eps >= 0 && eps <= 1)) throw new RShieldError('E_CONFIG', `epsRisk ${eps} is outside [0, 1]`);
  if (!(h >= 0 && h <= eps)) throw new RShieldError('E_CONFIG', `hysteresis ${h} must be in [0, epsRisk = ${eps}]`);
  return {
    model: l.model,
    epsRisk: eps,
    hysteresis: h,
    failsafe: Float32Array.from(c.failsafe ?? new Array<number>(c.actDim).fill(0)),
    actLow: Float32Array.from(c.actLow),
    actHigh: Float32Array.from(c.actHigh),
    recoveryMode: l.recoveryMode,
  };
}

/** A worker busy with one late tick for 10 deadlines (at least 100 ms) is replaced. */
function stuckAfterFor(deadlineUs: number): number {
  return Math.max(100, deadlineUs / 100);
}

/** The watchdog options a shield's options resolve to (Shield and ImageShield alike). */
export function watchdogOptions(opts: Pick<ShieldOptions, 'deadlineUs' | 'stuckAfterMs' | 'prepareTimeoutMs' | 'spinUs' | 'workerSpinUs' | 'wakeLeadUs' | 'logger' | 'clock'>): WatchdogOptions {
  const deadlineUs = opts.deadlineUs ?? DEFAULT_DEADLINE_US;
  return {
    deadlineUs,
    stuckAfterMs: opts.stuckAfterMs ?? stuckAfterFor(deadlineUs),
    startTimeoutMs: opts.prepareTimeoutMs ?? 20_000,
    spinUs: opts.spinUs ?? DEFAULT_SPIN_US,
    wake: { spinUs: opts.workerSpinUs ?? DEFAULT_WORKER_SPIN_US, leadUs: opts.wakeLeadUs ?? DEFAULT_WAKE_LEAD_US },
    resourceLimits: WORKER_RESOURCE_LIMITS,
    logger: opts.logger ?? consoleLogger,
    ...(opts.clock === undefined ? {} : { clock: opts.clock }),
  };
}

/** Sessions on this thread (the 'in-thread' option). */
async function loadInThread(opts: ShieldOptions, load: WorkerLoad): Promise<LoadedModel & { provider: Provider }> {
  const sessions = new SessionFactory({ ...load, logger: opts.logger ?? consoleLogger });
  const source = await modelSourceOf(opts.modelDir, opts.bundle);
  if (opts.trust !== undefined) await checkLocalModel(source, opts.trust);
  const loaded = await loadModel({ modelDir: opts.modelDir, source, fuse: load.fuse, sessions,
    ...(load.robot === undefined ? {} : { robot: load.robot }),
    ...(load.recoveryMode === undefined ? {} : { recoveryMode: load.recoveryMode }),
    ...(load.plannerPreset === undefined ? {} : { plannerPreset: load.plannerPreset }),
  });
  return { ...loaded, provider: sessions.provider };
}

/** The model's bytes are read here; its sessions and check batch live in a new worker (quarantine). */
async function loadInWorker(opts: ShieldOptions, load: WorkerLoad): Promise<LoadedModel & { provider: Provider }> {
  const source = await modelSourceOf(opts.modelDir, opts.bundle);
  if (opts.trust !== undefined) await checkLocalModel(source, opts.trust);
  const wd = watchdogOptions(opts);
  const worker = await InferenceWorker.start(source, load, wd);
  const model = new WatchedRiskModel(worker, source, load, wd);
  const { info } = worker;
  return { card: source.card, dir: opts.modelDir, model, fused: info.fused, fuseNote: info.fuseNote, recoveryMode: info.recoveryMode, provider: info.provider };
}

function checkOptions(o: ShieldOptions): void {
  if (typeof o.modelDir !== 'string' || o.modelDir === '') throw new RShieldError('E_CONFIG', 'modelDir is required');
  if (o.provider !== undefined && o.provider !== 'cpu' && o.provider !== 'cuda') {
    throw new RShieldError('E_CONFIG', `provider '${String(o.provider)}' is not one of cpu, cuda`);
  }
  if (o.threads !== undefined && !(Number.isInteger(o.threads) && o.threads >= 1)) {
    throw new RShieldError('E_CONFIG', `threads must be an integer ≥ 1, got ${o.threads}`);
  }
  if (o.recoveryMode !== undefined && !isRecoveryMode(o.recoveryMode)) {
    throw new RShieldError('E_CONFIG', `recoveryMode '${String(o.recoveryMode)}' is not one of ${RECOVERY_MODES.join(', ')}`);
  }
  if (o.planner !== undefined && !(PLANNER_PRESETS as readonly string[]).includes(o.planner)) {
    throw new RShieldError('E_CONFIG', `planner '${String(o.planner)}' is not one of ${PLANNER_PRESETS.join(', ')}`);
  }
  if (o.inference !== undefined && o.inference !== 'worker' && o.inference !== 'in-thread') {
    throw new RShieldError('E_CONFIG', `inference '${String(o.inference)}' is not one of worker, in-thread`);
  }
  for (const k of ['spinUs', 'workerSpinUs', 'wakeLeadUs'] as const) {
    const v = o[k];
    if (v !== undefined && !(v >= 0 && v <= 1_000_000)) throw new RShieldError('E_CONFIG', `${k} must be in [0, 1 000 000] µs, got ${v}`);
  }
  for (const k of ['deadlineUs', 'staleAfterMs', 'stuckAfterMs', 'prepareTimeoutMs'] as const) {
    const v = o[k];
    if (v !== undefined && !(v > 0)) throw new RShieldError('E_CONFIG', `${k} must be > 0, got ${v}`);
  }
}

/** The ONNX Runtime shield: the core's swappable port (src/core/shield-port.ts). */
export class Shield implements SwappableShieldPort<PreparedModel, ModelBundle> {
  readonly #core: ShieldCore;
  /** The load options: every later version is prepared exactly like the first (its own modelDir). */
  readonly #prepareOptions: ShieldOptions;
  #loaded: LoadedModel;
  #provider: Provider;
  #closed = false;
  #inFlight: Promise<Decision> | null = null;

  readonly #deadlineUs: number;
  readonly #stuckAfterMs: number;

  private constructor(core: ShieldCore, loaded: LoadedModel, provider: Provider, prepareOptions: ShieldOptions, deadlineUs: number, stuckAfterMs: number) {
    this.#deadlineUs = deadlineUs;
    this.#stuckAfterMs = stuckAfterMs;
    this.#core = core;
    this.#prepareOptions = prepareOptions;
    this.#loaded = loaded;
    this.#provider = provider;
  }

  /** Loads a model directory; refuses a bad one with E_MODEL naming what is wrong. */
  static async load(opts: ShieldOptions): Promise<Shield> {
    const prepared = await Shield.prepare(opts);
    const { loaded, core } = prepared.take();
    const deadlineUs = opts.deadlineUs ?? DEFAULT_DEADLINE_US;
    const sc = new ShieldCore(core, { deadlineUs, staleAfterMs: opts.staleAfterMs, clock: opts.clock });
    return new Shield(sc, loaded, prepared.provider, opts, deadlineUs, opts.stuckAfterMs ?? stuckAfterFor(deadlineUs));
  }

  /** Loads and checks a model (IO, check batch) without installing it; see `swap`. */
  static async prepare(opts: ShieldOptions): Promise<PreparedModel> {
    checkOptions(opts);
    const load: WorkerLoad = {
      ...(opts.robot === undefined ? {} : { robot: opts.robot }),
      fuse: opts.fuse === false ? false : 'auto',
      ...(opts.recoveryMode === undefined ? {} : { recoveryMode: opts.recoveryMode }),
      ...(opts.planner === undefined ? {} : { plannerPreset: opts.planner }),
      provider: opts.provider ?? 'cpu',
      requireCuda: opts.requireCuda ?? false,
      threads: opts.threads ?? 1,
      spinning: opts.spinning ?? false,
      directRun: opts.directRun ?? true,
    };
    const loaded = (opts.inference ?? 'worker') === 'worker' ? await loadInWorker(opts, load) : await loadInThread(opts, load);
    const provider = loaded.model instanceof WatchedRiskModel ? loaded.model.info.provider : loaded.provider;
    try {
      return new PreparedModel(loaded, coreModel(loaded, opts), provider);
    } catch (err) {
      await loaded.model.close();
      throw err;
    }
  }

  /** Prepares another model directory with this shield's load options (SwappableShieldPort). */
  prepare(modelDir: string, verified?: ModelBundle): Promise<PreparedModel> {
    // Updates arrive verified by the model receiver's signature check; local trust (model.sig.json)
    // applies to the starting directory only.
    const { trust: _trust, bundle: _bundle, ...options } = this.#prepareOptions;
    return Shield.prepare({ ...options, modelDir, ...(verified === undefined ? {} : { bundle: verified }) });
  }

  /** Frees a prepared model that will not be swapped in. */
  release(prepared: PreparedModel): void {
    prepared.close().catch(() => undefined);
  }

  /**
   * Decides one tick. Resolves with a result object that is REUSED by every call (copy
   * `action` if you keep it). `opts.stateStampMs` enables the staleness fail-safe.
   */
  decide(obs: ArrayLike<number>, proposed: ArrayLike<number>, opts?: DecideOptions): Promise<Decision> {
    const p = this.#core.decide(obs, proposed, opts);
    this.#inFlight = p; // close() waits for it: never release a session under a running tick
    return p;
  }

  /**
   * Installs a prepared model between ticks (never during a decide) and releases the old
   * sessions. Resolves with the previous model's card version. Refuses a model for another
   * robot or with other dims (E_MODEL); the running model then stays.
   */
  async swap(next: PreparedModel): Promise<string> {
    if (this.#closed) throw new RShieldError('E_USAGE', 'swap() on a closed shield');
    const cur = this.#loaded.card;
    if (next.card.robot !== cur.robot) {
      throw new RShieldError('E_MODEL', `model ${next.card.version} is for robot '${next.card.robot}', the shield runs '${cur.robot}'`);
    }
    const { loaded, core } = next.take();
    // The running shield's deadline applies to every model it runs, whatever it was prepared with.
    if (loaded.model instanceof WatchedRiskModel) loaded.model.setDeadline(this.#deadlineUs, this.#stuckAfterMs);
    let old;
    try {
      old = await this.#core.swap(core);
    } catch (err) {
      await loaded.model.close();
      throw err;
    }
    const previous = this.#loaded.card.version;
    this.#loaded = loaded;
    this.#provider = next.provider;
    await old.close();
    return previous;
  }

  get card(): ModelCard {
    return this.#loaded.card;
  }

  get modelVersion(): string {
    return this.#loaded.card.version;
  }

  /** The execution provider actually in use. */
  get provider(): Provider {
    return this.#provider;
  }

  /** Whether the tick runs one fused session. */
  get fused(): boolean {
    return this.#loaded.fused;
  }

  /** Why the model was not fused (opset clash, ...), or null. */
  get fuseNote(): string | null {
    return this.#loaded.fuseNote;
  }

  /** The recovery mode in use (option, else the card's). */
  get recoveryMode(): RecoveryMode {
    return this.#loaded.recoveryMode;
  }

  /** Searches and fallbacks to π_rec(s) of the nearest-safe mode; null in 'policy' mode. */
  nearestSafeStats(): NearestSafeStats | null {
    const m = this.#loaded.model;
    if (m instanceof WatchedRiskModel) return this.#loaded.recoveryMode === 'nearest-safe' ? m.nearestSafeStats() : null;
    return m instanceof NearestSafeRiskModel ? m.stats() : null;
  }

  /** Plans run and plans with no finite cost in model-based mode; null in the other modes. */
  plannerStats(): PlannerStats | null {
    const m = this.#loaded.model;
    if (m instanceof WatchedRiskModel) return this.#loaded.recoveryMode === 'model-based' ? m.plannerStats() : null;
    return m instanceof PlannerRiskModel ? m.stats() : null;
  }

  /** The inference watchdog: late hand-offs, busy refusals, worker replacements; null in-thread. */
  watchdogStats(): WatchdogStats | null {
    const m = this.#loaded.model;
    return m instanceof WatchedRiskModel ? m.stats() : null;
  }

  /** How the inference worker met its requests (spinning, at the predicted time, woken from sleep); null in-thread. */
  wakeStats(): WakeStats | null {
    const m = this.#loaded.model;
    return m instanceof WatchedRiskModel ? m.wakeStats() : null;
  }

  /** ε_risk in use (card value or override). */
  get epsRisk(): number {
    return this.#core.epsRisk;
  }

  /** The last error inference threw (it produced an 'inference-error' fail-safe), or null. With worker inference, an Error with the worker's message. */
  get lastError(): unknown {
    return this.#core.lastError;
  }

  stats(): ShieldStats {
    return this.#core.stats();
  }

  resetStats(): void {
    this.#core.resetStats();
    const m = this.#loaded.model;
    if (m instanceof NearestSafeRiskModel || m instanceof PlannerRiskModel) m.resetStats();
    if (m instanceof WatchedRiskModel) {
      m.resetNearestSafeStats();
      m.resetPlannerStats();
    }
  }

  /** Back to task mode (clears the hysteresis state), e.g. at an episode start. */
  resetEpisode(): void {
    this.#core.resetEpisode();
  }

  /** Waits for a running tick, then releases the sessions. decide() afterwards throws E_USAGE. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const model = this.#core.close();
    await this.#inFlight?.catch(() => undefined);
    this.#inFlight = null;
    await model.close();
  }
}

export type { Decision, DecideOptions, ShieldStats, RecoveryMode, NearestSafeStats, PlannerStats, PlannerPreset, WakeStats, WatchdogStats };
