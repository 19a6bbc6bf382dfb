/**
 * The online phase of Recovery RL (thesis Algorithm 1; reference notes §0 step 3) and, with
 * parts switched off or on, every baseline of the comparison (§4). Per environment step:
 * one SAC update on D_task, one critic + recovery update on D_rec, the task policy proposes,
 * the shield core (src/core/shield-core.ts, the one decision rule) keeps or replaces the
 * proposal, the robot moves; D_task gets (s, a_task, r, s′) (action relabeling) and D_rec
 * (s, a_executed, c, s′). Everything random is drawn from generators forked from the run's
 * seed, so a seed reproduces a run bit for bit.
 */
import { clampInto } from '../../core/decision-rule.js';
import { episodeSeed } from '../../core/episode-runner.js';
import { Rng } from '../../core/rng.js';
import { ShieldCore } from '../../core/shield-core.js';
import { RShieldError } from '../../core/errors.js';
import type { Env, SimulatedRobot } from '../../core/types.js';
import type { AlgorithmRun, EpisodeResult, RunSpec } from '../algorithm.js';
import type { NetworkSizes } from '../networks.js';
import { SacAgent, type SacRiskTerm, type SacUpdateResult } from '../sac/sac-agent.js';
import { SacReplay } from '../sac/sac-replay.js';
import type { SacSizes } from '../sac/sac-networks.js';
import { DualVariable } from './dual-variable.js';
import { LiveRiskModel } from './live-risk-model.js';
import { normalizerFor, startSafety, type SafetyStart } from './safety-start.js';
import { SqrlFilter } from './sqrl-filter.js';

/** ν or λ of a safety term: learned (log-space Adam), a linear schedule over the run's episodes, or fixed. */
export type RiskWeight =
  | { readonly kind: 'learned'; readonly initial: number; readonly lr: number }
  | { readonly kind: 'schedule'; readonly start: number; readonly end: number }
  | { readonly kind: 'fixed'; readonly value: number };

export interface LoopSettings {
  /** Use a safety critic at all (trained offline, kept in D_rec); false for SAC alone and RP. */
  readonly safetyCritic: boolean;
  /** Shield every proposal with the critic and π_rec (Recovery RL). */
  readonly shield: boolean;
  /** Critic + recovery updates online (false: ablation `no-online`). */
  readonly safetyUpdates: boolean;
  /** Pretrain on D_offline (false: ablation `no-pretraining`). */
  readonly pretrain: boolean;
  /** D_task gets a_task (true, the method) or the executed action (ablation `no-relabeling`). */
  readonly relabel: boolean;
  readonly offlineSize?: number;
  /** RP: r −= λ on a violating step. */
  readonly rewardPenalty: number;
  /** LR/SQRL/RSPO ('penalty') and RCPO ('shaping') terms in the SAC losses. */
  readonly riskTerm?: { readonly use: SacRiskTerm['use']; readonly weight: RiskWeight };
  /** SQRL: K policy samples filtered by the critic. */
  readonly filterSamples?: number;
  /** Uniform random task actions for the first N steps of the run (reference 100). */
  readonly startSteps: number;
  /** SAC and safety minibatch (reference 256). */
  readonly batch: number;
  readonly sacSizes?: SacSizes;
  /** Safety critic widths (default the shipped model's 2×256). */
  readonly safetySizes?: NetworkSizes;
  readonly pretrainSteps?: number;
  /** The executed recovery action: a draw of π_rec (reference) or its mean. */
  readonly recoveryAction?: 'sample' | 'mean';
  /**
   * How a step's two updates run: one after the other on this thread, each with the run's
   * `threads`; or 'overlapped', the SAC update on a worker thread while this thread runs the
   * safety update, the threads split between them (SAC ⌊threads/2⌋, safety the rest). Both
   * compute the same thing from the same draws (test/learn/online-loop.test.ts compares them);
   * 'overlapped' needs `threads` ≥ 2 and safety updates, else the step runs sequentially.
   * Default 'overlapped' (docs/learning.md "Measured").
   */
  readonly updates?: UpdateMode;
}

export type UpdateMode = 'sequential' | 'overlapped';

export const defaultLoopSettings: LoopSettings = {
  safetyCritic: true, shield: true, safetyUpdates: true, pretrain: true, relabel: true,
  rewardPenalty: 0, startSteps: 100, batch: 256, updates: 'overlapped',
};

/** The mode a run's updates take: overlapped only where there are two updates and two threads for them. */
export function updateModeOf(settings: LoopSettings, threads: number): UpdateMode {
  return settings.updates === 'overlapped' && threads >= 2 && settings.safetyCritic && settings.safetyUpdates ? 'overlapped' : 'sequential';
}

interface Parts {
  env: Env;
  sac: SacAgent;
  rng: Rng;
  safety?: SafetyStart;
  core?: ShieldCore;
  filter?: SqrlFilter;
  dual?: DualVariable;
}

interface Pending {
  readonly obs: Float32Array;
  readonly act: Float32Array;
  readonly nextObs: Float32Array;
  cost: number;
  done: boolean;
  episode: number;
  step: number;
  full: boolean;
}

export class OnlineLoop implements AlgorithmRun {
  readonly #env: Env;
  readonly #sac: SacAgent;
  readonly #sacBuffer: SacReplay;
  readonly #safety: SafetyStart | undefined;
  readonly #core: ShieldCore | undefined;
  readonly #filter: SqrlFilter | undefined;
  readonly #dual: DualVariable | undefined;
  readonly #rng: Rng;
  readonly #batchRng: Rng;
  readonly #aTask: Float32Array;
  readonly #exec: Float32Array;
  readonly #pending: Pending;
  #episode = 0;
  #steps = 0;
  /**
   * Milliseconds spent so far in each part of the step (bench/learn reports the shares).
   * Overlapped, sacUpdate and safetyUpdate each count from the start of the step's updates;
   * `updates` is their wall time together.
   */
  readonly time = { sacUpdate: 0, safetyUpdate: 0, updates: 0, decide: 0, env: 0 };
  /** How this run's updates run (`LoopSettings.updates`, resolved). */
  readonly updateMode: UpdateMode;
  /** The safety weight (ν or λ) of the latest episode or update. */
  weight = 0;

  private constructor(
    readonly spec: RunSpec,
    readonly settings: LoopSettings,
    parts: Parts,
  ) {
    this.#env = parts.env;
    this.#sac = parts.sac;
    this.#safety = parts.safety;
    this.#core = parts.core;
    this.#filter = parts.filter;
    this.#dual = parts.dual;
    this.updateMode = updateModeOf(settings, spec.threads);
    this.#rng = parts.rng.fork();
    this.#batchRng = parts.rng.fork();
    const { obsDim: S, actDim: A } = parts.env.spec;
    this.#sacBuffer = new SacReplay(S, A, settings.batch);
    this.#aTask = new Float32Array(A);
    this.#exec = new Float32Array(A);
    this.#pending = { obs: new Float32Array(S), act: new Float32Array(A), nextObs: new Float32Array(S), cost: 0, done: false, episode: 0, step: 0, full: false };
  }

  /** `robot`: the simulated `spec.robot` it learns on (src/envs simulatedRobot). */
  static async start(spec: RunSpec, settings: LoopSettings, robot: SimulatedRobot): Promise<OnlineLoop> {
    if (robot.name !== spec.robot) throw new RShieldError('E_USAGE', `run is for robot '${spec.robot}', the simulator given is '${robot.name}'`, { robot: spec.robot });
    const env = robot.env(spec.seed);
    const es = env.spec;
    const rng = new Rng(spec.seed);
    const overlapped = updateModeOf(settings, spec.threads) === 'overlapped';
    const sacThreads = overlapped ? Math.floor(spec.threads / 2) : spec.threads;
    const safetyThreads = spec.threads - (overlapped ? sacThreads : 0);
    const safety = settings.safetyCritic
      ? await startSafety({
          robot, spec: es, seed: rng.nextUint32(), pretrain: settings.pretrain, batch: settings.batch, threads: safetyThreads,
          ...(settings.offlineSize === undefined ? {} : { offlineSize: settings.offlineSize }),
          ...(settings.safetySizes === undefined ? {} : { sizes: settings.safetySizes }),
          ...(settings.pretrainSteps === undefined ? {} : { pretrainSteps: settings.pretrainSteps }),
        })
      : undefined;
    const normalizer = safety?.normalizer ?? (await normalizerFor(robot, es));
    const epsRisk = safety?.epsRisk ?? 0;
    const term = settings.riskTerm;
    const sac = await SacAgent.create({
      obsDim: es.obsDim, actDim: es.actDim, normalizer, seed: rng.nextUint32(), batch: settings.batch, threads: sacThreads,
      ...(overlapped ? { updateThread: 'worker' as const } : {}),
      ...(settings.sacSizes === undefined ? {} : { sizes: settings.sacSizes }),
      ...(term !== undefined && safety !== undefined ? { risk: { use: term.use, critic: safety.learner.networks.critic, sizes: safety.learner.networks.sizes, epsRisk } } : {}),
    });
    const parts: Parts = { env, sac, rng };
    if (safety !== undefined) parts.safety = safety;
    if (safety !== undefined && settings.shield) {
      const risk = await LiveRiskModel.create(safety.learner, normalizer, { seed: rng.nextUint32(), ...(settings.recoveryAction === undefined ? {} : { recoveryAction: settings.recoveryAction }) });
      parts.core = new ShieldCore({ model: risk, epsRisk, hysteresis: 0, failsafe: robot.failsafe, actLow: es.actLow, actHigh: es.actHigh });
    }
    if (safety !== undefined && settings.filterSamples !== undefined) {
      parts.filter = await SqrlFilter.create(sac, safety.learner.networks, normalizer, { samples: settings.filterSamples, epsRisk, seed: rng.nextUint32() });
    }
    if (term?.weight.kind === 'learned') parts.dual = new DualVariable(term.weight.initial, term.weight.lr, epsRisk);
    return new OnlineLoop(spec, settings, parts);
  }

  /** Environment steps taken so far in the run. */
  get steps(): number {
    return this.#steps;
  }

  /** Where the safety critic started ('shipped', 'pretrained', 'fresh'), or undefined without one. */
  get criticOrigin(): string | undefined {
    return this.#safety?.origin;
  }

  /** The task policy (to export it, or to act with its mean). */
  get taskPolicy(): SacAgent {
    return this.#sac;
  }

  async episode(): Promise<EpisodeResult> {
    const ep = this.#episode++;
    const env = this.#env;
    const { actLow, actHigh, horizon } = env.spec;
    const s = this.settings;
    let obs = env.reset(episodeSeed(this.spec.seed, ep));
    this.#core?.resetEpisode();
    const weight = this.#weightAt(ep);
    this.weight = this.#dual?.value ?? weight;
    let ret = 0;
    let violation = false;
    let success = false;
    let recoverySteps = 0;
    let recoveryViolation = false;
    let steps = 0;
    for (let t = 0; t < horizon; t++) {
      await this.#update(weight);
      const t0 = performance.now();
      await this.#propose(obs);
      let source: 'task' | 'recovery' | 'failsafe' = 'task';
      if (this.#core !== undefined) {
        const d = await this.#core.decide(obs, this.#aTask);
        this.#exec.set(d.action);
        source = d.source;
      } else {
        clampInto(this.#exec, this.#aTask, actLow, actHigh);
      }
      const t1 = performance.now();
      const r = env.step(this.#exec);
      steps++;
      this.#steps++;
      if (source === 'recovery') recoverySteps++;
      if (r.violation && !violation) recoveryViolation = source === 'recovery';
      violation ||= r.violation;
      success = r.success;
      ret += r.reward;
      // A time-limit cut still bootstraps (reference: mask = not done_env).
      const terminal = r.violation || r.success;
      const reward = r.reward - (r.violation ? s.rewardPenalty : 0);
      this.#sacBuffer.push(obs, s.relabel ? this.#aTask : this.#exec, reward, r.obs, terminal ? 0 : 1);
      this.#record(obs, r.obs, r.violation ? 1 : 0, terminal, ep, t);
      this.time.decide += t1 - t0;
      this.time.env += performance.now() - t1;
      obs = r.obs;
      if (r.done) break;
    }
    this.#flush(undefined);
    return { episode: ep, success, violation, steps, recoverySteps, recoveryViolation, return: ret };
  }

  /** Reference order: the updates come before the step's action, once a buffer holds more than a batch. */
  async #update(weight: number): Promise<void> {
    if (this.updateMode === 'overlapped') return this.#updateOverlapped(weight);
    const t = performance.now();
    if (this.#sacBuffer.size > this.settings.batch) {
      const w = this.#dual?.value ?? weight;
      this.weight = w;
      const t0 = performance.now();
      const r = await this.#sac.update(this.#sacBuffer.sample(this.#batchRng), w);
      this.#dual?.update(r.risk);
      this.time.sacUpdate += performance.now() - t0;
    }
    const safety = this.#safety;
    if (safety !== undefined && this.settings.safetyUpdates && safety.buffer.size > this.settings.batch) {
      const t0 = performance.now();
      await safety.learner.update(safety.sampler.sample(safety.buffer, this.#batchRng));
      this.time.safetyUpdate += performance.now() - t0;
    }
    this.time.updates += performance.now() - t;
  }

  /**
   * The same two updates from the same draws of the batch generator (SAC's batch first), the
   * SAC update on its worker while this thread runs the safety update. The SAC update takes
   * its batch, and a risk term the critic's weights, before the safety update moves them.
   */
  async #updateOverlapped(weight: number): Promise<void> {
    const t0 = performance.now();
    const since = (k: 'sacUpdate' | 'safetyUpdate') => (): void => {
      this.time[k] += performance.now() - t0;
    };
    let sac: Promise<SacUpdateResult> | undefined;
    if (this.#sacBuffer.size > this.settings.batch) {
      const w = this.#dual?.value ?? weight;
      this.weight = w;
      sac = this.#sac.update(this.#sacBuffer.sample(this.#batchRng), w);
      void sac.then(since('sacUpdate'), () => undefined);
    }
    const safety = this.#safety!;
    let safetyRun: Promise<unknown> | undefined;
    if (safety.buffer.size > this.settings.batch) {
      safetyRun = safety.learner.update(safety.sampler.sample(safety.buffer, this.#batchRng));
      void safetyRun.then(since('safetyUpdate'), () => undefined);
    }
    // Both settle before either's error is thrown: close() must not release a session in use.
    const [a, b] = await Promise.allSettled([sac, safetyRun]);
    if (a.status === 'rejected') throw a.reason;
    if (b.status === 'rejected') throw b.reason;
    if (a.value !== undefined) this.#dual?.update(a.value.risk);
    this.time.updates += performance.now() - t0;
  }

  async #propose(obs: Float32Array): Promise<void> {
    const a = this.#aTask;
    if (this.#steps < this.settings.startSteps) {
      const { actLow, actHigh } = this.#env.spec;
      for (let j = 0; j < a.length; j++) a[j] = this.#rng.uniform(actLow[j]!, actHigh[j]!);
    } else if (this.#filter !== undefined) {
      a.set(await this.#filter.act(obs, this.#rng));
    } else {
      a.set(await this.#sac.act(obs));
    }
  }

  #weightAt(episode: number): number {
    const w = this.settings.riskTerm?.weight;
    if (w === undefined) return 0;
    switch (w.kind) {
      case 'fixed':
        return w.value;
      case 'learned':
        return w.initial;
      case 'schedule': {
        const f = Math.min(1, episode / Math.max(1, this.spec.episodes));
        return w.start + (w.end - w.start) * f;
      }
    }
  }

  /** D_rec rows wait one step for their next executed action (the critic's logged a′). */
  #record(obs: Float32Array, nextObs: Float32Array, cost: number, done: boolean, episode: number, step: number): void {
    if (this.#safety === undefined || !this.settings.safetyUpdates) return;
    this.#flush(this.#exec);
    const p = this.#pending;
    p.obs.set(obs);
    p.act.set(this.#exec);
    p.nextObs.set(nextObs);
    p.cost = cost;
    p.done = done;
    p.episode = episode;
    p.step = step;
    p.full = true;
  }

  #flush(nextAct: Float32Array | undefined): void {
    const p = this.#pending;
    if (!p.full || this.#safety === undefined) return;
    this.#safety.buffer.push({ obs: p.obs, act: p.act, cost: p.cost, nextObs: p.nextObs, done: p.done, episode: p.episode, step: p.step, nextAct });
    p.full = false;
  }

  async close(): Promise<void> {
    this.#env.close?.();
    await this.#sac.release();
    await this.#filter?.close();
    if (this.#core !== undefined) await this.#core.close().close();
    await this.#safety?.learner.release();
  }
}

