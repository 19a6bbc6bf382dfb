/**
 * One shield tick, with no I/O: validate inputs, ask the RiskModel, apply the decision rule,
 * clamp, and fall back to the fail-safe action when anything cannot be trusted. The model can
 * be replaced between ticks (hot-swap). The tick allocates nothing beyond the promises that
 * async inference needs: the result object and its action array are reused.
 */
import { RShieldError } from './errors.js';
import { systemClock, type Clock } from './clock.js';
import { DecisionRule, clampInto } from './decision-rule.js';
import { allFinite, checkInputs, isStale, type FailsafeReason } from './failsafe.js';
import type { RecoveryMode } from './recovery-mode.js';
import { LateInference, type RiskModel } from './risk-model.js';
import { StatsCounter, type ShieldStats } from './shield-stats.js';

export type ActionSource = 'task' | 'recovery' | 'failsafe';

/**
 * The result of a tick. The same object (and the same `action` array) is returned by every
 * decide() call of a shield and overwritten by the next one: copy what you keep.
 */
export interface Decision {
  readonly action: Float32Array;
  readonly source: ActionSource;
  /** Q_risk(s, a_task); NaN when it was not evaluated (bad input, stale state, inference error). */
  readonly qRisk: number;
  /** Why the fail-safe was used; null unless source is 'failsafe'. */
  readonly failsafeReason: FailsafeReason | null;
}

/** Longest run of ticks without an event-loop turn (see ShieldCore.decide). */
const YIELD_AFTER_US = 1000;

/** Per-tick inputs besides obs and action. Reuse one object per caller to stay allocation-free. */
export interface DecideOptions {
  /** Wall-clock time (clock.nowMs() base) the state was measured; 0 means never received. */
  stateStampMs?: number;
}

/** Everything that changes when a model is swapped in. */
export interface CoreModel {
  readonly model: RiskModel;
  readonly epsRisk: number;
  readonly hysteresis: number;
  /** Fail-safe action, clamped to the bounds by the core. */
  readonly failsafe: Float32Array;
  readonly actLow: Float32Array;
  readonly actHigh: Float32Array;
  /** 'policy' (default): π_rec(s). 'nearest-safe': model.nearestSafe; 'model-based': model.plan — which the model must have. */
  readonly recoveryMode?: RecoveryMode;
}

export interface ShieldCoreOptions {
  readonly deadlineUs?: number;
  readonly staleAfterMs?: number;
  readonly clock?: Clock;
}

interface MutableDecision {
  action: Float32Array;
  source: ActionSource;
  qRisk: number;
  failsafeReason: FailsafeReason | null;
}

interface Installed {
  readonly model: RiskModel;
  readonly rule: DecisionRule;
  readonly failsafe: Float32Array;
  readonly low: Float32Array;
  readonly high: Float32Array;
  /** model.nearestSafe bound to its model in nearest-safe mode, else null. */
  readonly search: NonNullable<RiskModel['nearestSafe']> | null;
  /** A nearest-safe candidate must have Q_risk ≤ this: the rule's exit threshold ε − h. */
  readonly safeBelow: number;
  /** model.plan bound to its model in model-based mode, else null. */
  readonly plan: NonNullable<RiskModel['plan']> | null;
  /** model.inputFault bound to its model, else null. */
  readonly inputFault: NonNullable<RiskModel['inputFault']> | null;
}

function install(m: CoreModel): Installed {
  const d = m.model.actDim;
  if (m.actLow.length !== d || m.actHigh.length !== d || m.failsafe.length !== d) {
    throw new RShieldError(
      'E_MODEL',
      `bounds/fail-safe sizes (${m.actLow.length}, ${m.actHigh.length}, ${m.failsafe.length}) do not match actDim ${d}`,
    );
  }
  let search: Installed['search'] = null;
  if (m.recoveryMode === 'nearest-safe') {
    if (typeof m.model.nearestSafe === 'function') search = m.model.nearestSafe.bind(m.model);
    else throw new RShieldError('E_MODEL', "recovery mode 'nearest-safe' needs a model that can search candidate actions (model.nearestSafe)");
  }
  let plan: Installed['plan'] = null;
  if (m.recoveryMode === 'model-based') {
    if (typeof m.model.plan === 'function') plan = m.model.plan.bind(m.model);
    else throw new RShieldError('E_MODEL', "recovery mode 'model-based' needs a model that can plan (model.plan)");
  }
  const low = Float32Array.from(m.actLow);
  const high = Float32Array.from(m.actHigh);
  return {
    model: m.model,
    rule: new DecisionRule({ epsRisk: m.epsRisk, hysteresis: m.hysteresis }),
    failsafe: clampInto(new Float32Array(d), m.failsafe, low, high),
    low,
    high,
    search,
    safeBelow: m.epsRisk - m.hysteresis,
    plan,
    inputFault: typeof m.model.inputFault === 'function' ? m.model.inputFault.bind(m.model) : null,
  };
}

export class ShieldCore {
  readonly obsDim: number;
  readonly actDim: number;
  readonly #deadlineUs: number;
  readonly #staleAfterMs: number;
  readonly #clock: Clock;
  readonly #stats = new StatsCounter();
  readonly #result: MutableDecision;
  /** π_rec(s) clamped, the fallback of a nearest-safe search. */
  readonly #rec: Float32Array;
  #cur: Installed;
  #busy = false;
  #pending: { next: Installed; resolve: (old: RiskModel) => void } | null = null;
  #lastError: unknown = null;
  #closed = false;

  constructor(model: CoreModel, opts: ShieldCoreOptions = {}) {
    this.#cur = install(model);
    this.obsDim = model.model.obsDim;
    this.actDim = model.model.actDim;
    this.#deadlineUs = opts.deadlineUs ?? Infinity;
    this.#staleAfterMs = opts.staleAfterMs ?? Infinity;
    this.#clock = opts.clock ?? systemClock;
    this.#rec = new Float32Array(this.actDim);
    this.#result = { action: new Float32Array(this.actDim), source: 'task', qRisk: NaN, failsafeReason: null };
  }

  get model(): RiskModel {
    return this.#cur.model;
  }

  get epsRisk(): number {
    return this.#cur.rule.epsRisk;
  }

  /** The last error an inference threw (for logs); null if none. */
  get lastError(): unknown {
    return this.#lastError;
  }

  stats(): ShieldStats {
    return this.#stats.snapshot();
  }

  resetStats(): void {
    this.#stats.reset();
  }

  /** Back to task mode, e.g. at an episode start. */
  resetEpisode(): void {
    this.#cur.rule.reset();
    this.#cur.model.resetEpisode?.();
  }

  /**
   * Decides one tick: with a_task clamped to the action bounds, a = a_task if
   * Q_risk(s, a_task) ≤ ε, else π_rec(s) (clamped too) or, in nearest-safe mode, the
   * candidate closest to a_task with Q_risk ≤ ε − h (π_rec(s) when none), or, in model-based
   * mode, the first action of a plan; the fail-safe action when inputs, state age, inference or timing fail.
   * Never throws for bad data; throws E_USAGE when called again before the previous tick
   * resolved (the result object is shared) or after close().
   */
  decide(obs: ArrayLike<number>, proposed: ArrayLike<number>, opts?: DecideOptions): Promise<Decision> {
    // Models may answer synchronously (the watchdog's hand-off, a direct run): a caller that
    // awaits ticks back to back would then never let the event loop run (signals, timers, I/O,
    // a model being prepared). When ticks have come for YIELD_AFTER_US without a macrotask turn
    // in between, the tick resolves on the next turn — after it was decided and timed: the turn
    // is not its latency. A caller that lets the loop turn between ticks never waits for one.
    if (!this.#turnPending) {
      // A turn has passed since the last tick (or this is the first): a new run of ticks starts.
      this.#turnPending = true;
      this.#runStartUs = this.#clock.monotonicUs();
      setImmediate(this.#markTurn);
    }
    const d = this.#decide(obs, proposed, opts);
    return this.#clock.monotonicUs() - this.#runStartUs > YIELD_AFTER_US ? d.then((r) => new Promise((resolve) => setImmediate(resolve, r))) : d;
  }

  /** A setImmediate is scheduled and has not run: no macrotask turn since #runStartUs. */
  #turnPending = false;
  #runStartUs = 0;
  readonly #markTurn = (): void => {
    this.#turnPending = false;
  };

  async #decide(obs: ArrayLike<number>, proposed: ArrayLike<number>, opts?: DecideOptions): Promise<Decision> {
    if (this.#busy) throw new RShieldError('E_USAGE', 'decide() called before the previous tick resolved; await each tick');
    if (this.#closed) throw new RShieldError('E_USAGE', 'decide() called on a closed shield');
    this.#busy = true;
    const t0 = this.#clock.monotonicUs();
    // One async frame for the whole tick: each extra one costs ~400 B of promises per tick.
    try {
      const cur = this.#cur;
      const r = this.#result;
      const bad = checkInputs(obs, proposed, this.obsDim, this.actDim);
      if (bad !== null) return this.#failsafe(bad, NaN);
      const stamp = opts?.stateStampMs;
      if (stamp !== undefined && isStale(stamp, this.#clock.nowMs(), this.#staleAfterMs)) return this.#failsafe('stale', NaN);
      if (cur.inputFault !== null) {
        const fault = cur.inputFault(this.#clock.nowMs());
        if (fault !== null) return this.#failsafe(fault, NaN);
      }
      // The critic judges the action that would execute: the proposal clamped to the bounds
      // (the robot clips it anyway). An out-of-bounds proposal is outside the data the critic
      // was trained on, where its output means nothing.
      clampInto(r.action, proposed, cur.low, cur.high);
      let q: number;
      try {
        q = await cur.model.risk(obs, r.action);
      } catch (err) {
        return this.#inferenceFailed(err, NaN);
      }
      if (!Number.isFinite(q)) return this.#failsafe('inference-error', q);
      if (q < 0 || q > 1) return this.#failsafe('out-of-range', q);
      const source = cur.rule.choose(q);
      if (source === 'recovery' && cur.plan !== null) {
        // Model-based: the plan's first action replaces π_rec(s); r.action holds the clamped proposal.
        let planned: Float32Array;
        try {
          const p = cur.plan(obs, r.action);
          planned = p instanceof Float32Array ? p : await p;
        } catch (err) {
          return this.#inferenceFailed(err, q);
        }
        if (planned.length !== this.actDim || !allFinite(planned)) return this.#failsafe('inference-error', q);
        clampInto(r.action, planned, cur.low, cur.high);
      } else if (source === 'recovery') {
        let rec: Float32Array;
        try {
          const p = cur.model.recovery(obs);
          rec = p instanceof Float32Array ? p : await p;
        } catch (err) {
          return this.#inferenceFailed(err, q);
        }
        if (rec.length !== this.actDim || !allFinite(rec)) return this.#failsafe('inference-error', q);
        if (cur.search !== null) {
          // r.action still holds the clamped proposal: search around it, π_rec(s) as fallback.
          clampInto(this.#rec, rec, cur.low, cur.high);
          try {
            rec = await cur.search(obs, r.action, this.#rec, cur.safeBelow);
          } catch (err) {
            return this.#inferenceFailed(err, q);
          }
          if (rec.length !== this.actDim || !allFinite(rec)) return this.#failsafe('inference-error', q);
        }
        clampInto(r.action, rec, cur.low, cur.high);
      }
      if (this.#clock.monotonicUs() - t0 > this.#deadlineUs) return this.#failsafe('deadline', q);
      if (source === 'recovery') this.#stats.interventions++;
      r.source = source;
      r.qRisk = q;
      r.failsafeReason = null;
      return r;
    } finally {
      this.#stats.ticks++;
      this.#stats.latency.record(this.#clock.monotonicUs() - t0);
      this.#busy = false;
      if (this.#pending !== null) this.#installPending();
    }
  }

  /** A late hand-off is a missed deadline; anything else the model threw is an inference error. */
  #inferenceFailed(err: unknown, q: number): Decision {
    if (err instanceof LateInference) return this.#failsafe('deadline', q);
    this.#lastError = err;
    return this.#failsafe('inference-error', q);
  }

  #failsafe(reason: FailsafeReason, q: number): Decision {
    const r = this.#result;
    r.action.set(this.#cur.failsafe);
    r.source = 'failsafe';
    r.qRisk = q;
    r.failsafeReason = reason;
    this.#stats.countFailsafe(reason);
    return r;
  }

  /**
   * Installs a new model between ticks: now if no tick is running, else right after the
   * running one. Resolves with the model it replaced (the caller releases it). Rejects with
   * E_MODEL when its dims differ or another swap is already waiting.
   */
  swap(next: CoreModel): Promise<RiskModel> {
    if (this.#closed) return Promise.reject(new RShieldError('E_USAGE', 'swap() on a closed shield'));
    if (next.model.obsDim !== this.obsDim || next.model.actDim !== this.actDim) {
      return Promise.reject(
        new RShieldError(
          'E_MODEL',
          `new model has obsDim ${next.model.obsDim}, actDim ${next.model.actDim}; running model has ${this.obsDim}, ${this.actDim}`,
        ),
      );
    }
    if (this.#pending !== null) return Promise.reject(new RShieldError('E_MODEL', 'another model swap is already waiting for the running tick'));
    let installed: Installed;
    try {
      installed = install(next);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    if (!this.#busy) {
      const old = this.#cur.model;
      this.#cur = this.#carryState(installed);
      return Promise.resolve(old);
    }
    return new Promise((resolve) => {
      this.#pending = { next: installed, resolve };
    });
  }

  /** Keeps the hysteresis state across a swap: a robot in recovery stays in recovery. */
  #carryState(next: Installed): Installed {
    if (this.#cur.rule.inRecovery) next.rule.choose(Infinity);
    return next;
  }

  #installPending(): void {
    const p = this.#pending;
    if (p === null) return;
    this.#pending = null;
    const old = this.#cur.model;
    this.#cur = this.#carryState(p.next);
    p.resolve(old);
  }

  /** Marks the core closed and returns its model for the caller to release. */
  close(): RiskModel {
    this.#closed = true;
    return this.#cur.model;
  }
}
