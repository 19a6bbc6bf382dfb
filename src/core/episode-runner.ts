/**
 * Runs a simulated robot's scripted controller for a number of episodes, either directly
 * (unshielded) or through a shield, on the same per-episode seeds — the comparison of the
 * Recovery RL paper (cumulative successes vs cumulative violations, thesis ch. 4).
 */
import type { Controller, Env, Transition } from './types.js';
import type { ActionSource, Decision } from './shield-core.js';
import type { ShieldPort } from './shield-port.js';
import type { FailsafeReason } from './failsafe.js';

/** What the shield decided for one transition's action (copied: decisions are reused objects). */
export interface TickRecord {
  readonly proposed: Float32Array;
  readonly qRisk: number;
  readonly source: ActionSource | 'unshielded';
  /** Why the fail-safe acted, when it did. */
  readonly failsafeReason?: FailsafeReason | null;
}

export interface RunTotals {
  episodes: number;
  successes: number;
  /** Episodes with at least one constraint violation. */
  violations: number;
  /** (S + 1)/(V + 1), the paper's ratio. */
  ratio: number;
  /** Ticks where the recovery policy's action replaced the controller's. */
  interventions: number;
  failsafes: number;
  ticks: number;
  /** Cumulative successes and violations after each episode (for the plot). */
  cumulativeSuccesses: number[];
  cumulativeViolations: number[];
}

export interface EpisodeRunOptions {
  readonly env: Env;
  readonly controller: Controller;
  readonly episodes: number;
  readonly seed: number;
  /** Absent: the controller drives the robot directly. */
  readonly shield?: ShieldPort;
  /**
   * Receives every transition (for the MCAP recording, an online learner) and the decision that
   * chose its action; a returned promise is awaited before the robot moves on.
   */
  readonly onTransition?: (t: Transition, tick: TickRecord) => Promise<void> | void;
  /**
   * What a transition's `nextAct` holds: the action executed at s′ (default), or the one the
   * controller proposed there. A safety critic learning online wants the proposal: Q_risk is
   * the risk of following the task policy (reference notes §2: a′ ~ π_task(s′)); with the
   * executed a′ — the recovery action wherever the shield stepped in — it learns that approaching
   * a constraint is safe because the shield will step in, and then steps in ever later.
   */
  readonly nextAct?: 'executed' | 'proposed';
  /**
   * Before each shielded decision, with the state about to be judged; a returned promise is
   * awaited. A camera robot hands the shield the frame of that state here.
   */
  readonly beforeDecide?: (obs: Float32Array) => Promise<void> | void;
  /** After each episode; a returned promise is awaited (e.g. a model swap between episodes). */
  readonly onEpisode?: (done: number, totals: RunTotals) => Promise<void> | void;
}

export function episodeSeed(base: number, i: number): number {
  return (base * 1000003 + i * 7919 + 1) >>> 0;
}

/** What one episode did (the counters of RunTotals for a single episode, and a bit more). */
export interface EpisodeOutcome {
  readonly success: boolean;
  /** A constraint was violated at some step. */
  readonly violation: boolean;
  readonly steps: number;
  /** Ticks whose executed action came from the recovery policy. */
  readonly interventions: number;
  readonly failsafes: number;
  /** The first violating step's action came from the recovery policy (thesis Table I). */
  readonly recoveryViolation: boolean;
  /** Undiscounted task reward over the episode. */
  readonly return: number;
}

/** Episode `ep` of a run: its seed is episodeSeed(o.seed, ep), so any episode can be replayed alone. */
export async function runEpisode(o: Omit<EpisodeRunOptions, 'episodes' | 'onEpisode'>, ep: number): Promise<EpisodeOutcome> {
  const seed = episodeSeed(o.seed, ep);
  let obs = o.env.reset(seed);
  o.controller.reset(seed);
  o.shield?.resetEpisode();
  let violated = false;
  let recoveryViolation = false;
  let success = false;
  let steps = 0;
  let interventions = 0;
  let failsafes = 0;
  let ret = 0;
  let pending: { t: Omit<Transition, 'episode' | 'nextAct'>; tick: TickRecord } | null = null;
  for (let step = 0; step < o.env.spec.horizon; step++) {
    const proposed = o.controller.act(obs);
    let action = proposed;
    let decision: Decision | null = null;
    if (o.shield !== undefined) {
      await o.beforeDecide?.(obs);
      decision = await o.shield.decide(obs, proposed);
      action = decision.action.slice();
      if (decision.source === 'recovery') interventions++;
      else if (decision.source === 'failsafe') failsafes++;
    }
    const r = o.env.step(action);
    steps++;
    ret += r.reward;
    if (r.violation && !violated) recoveryViolation = decision?.source === 'recovery';
    if (r.violation) violated = true;
    success = r.success;
    if (o.onTransition !== undefined) {
      if (pending !== null) await o.onTransition({ ...pending.t, episode: ep, nextAct: o.nextAct === 'proposed' ? proposed.slice() : action }, pending.tick);
      const tick: TickRecord = decision === null ? { proposed, qRisk: Number.NaN, source: 'unshielded' } : { proposed, qRisk: decision.qRisk, source: decision.source, failsafeReason: decision.failsafeReason };
      pending = { t: { obs, act: action, cost: r.violation ? 1 : 0, nextObs: r.obs, done: r.done, step }, tick };
    }
    obs = r.obs;
    if (r.done) break;
  }
  if (o.onTransition !== undefined && pending !== null) await o.onTransition({ ...pending.t, episode: ep }, pending.tick);
  return { success, violation: violated, steps, interventions, failsafes, recoveryViolation, return: ret };
}

export async function runEpisodes(o: EpisodeRunOptions): Promise<RunTotals> {
  const totals: RunTotals = {
    episodes: 0, successes: 0, violations: 0, ratio: 1, interventions: 0, failsafes: 0, ticks: 0,
    cumulativeSuccesses: [], cumulativeViolations: [],
  };
  for (let ep = 0; ep < o.episodes; ep++) {
    const e = await runEpisode(o, ep);
    if (o.shield !== undefined) totals.ticks += e.steps;
    totals.interventions += e.interventions;
    totals.failsafes += e.failsafes;
    totals.episodes++;
    if (e.success) totals.successes++;
    if (e.violation) totals.violations++;
    totals.cumulativeSuccesses.push(totals.successes);
    totals.cumulativeViolations.push(totals.violations);
    await o.onEpisode?.(totals.episodes, totals);
  }
  totals.ratio = (totals.successes + 1) / (totals.violations + 1);
  return totals;
}
