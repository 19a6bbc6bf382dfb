/**
 * The shield side of the online loop (`rshield run --sim`): ticks a simulated robot through the
 * shield. Its OnlineLink (online-link.ts) does the rest — streams the transitions (spooled on
 * disk until acknowledged), publishes status and 1 Hz telemetry, obeys commands, prepares signed
 * model versions — and the node swaps a prepared version in between ticks.
 */
import { EventEmitter } from 'node:events';
import { DriftMonitor, type DriftOptions } from '../../core/drift-monitor.js';
import type { CommandGuard } from '../../models/command-guard.js';
import type { Controller, Env } from '../../core/types.js';
import type { Decision } from '../../core/shield-core.js';
import type { StatusPayload, TelemetryPayload } from '../../config/mqtt-payloads.js';
import type { Clock, Timer } from '../../core/clock.js';
import type { RobotTopics } from './topics.js';
import { ONLINE_LINK_EVENTS, OnlineLink, type NodeWatchdogStats, type OnlineLinkEvents, type OnlineLinkOptions } from './online-link.js';

export { DEFAULT_SEND_WINDOW, offlineStatus, type NodeWatchdogStats } from './online-link.js';

/** The link's own options (shield, transport, spool, receiver, start model, send window) as OnlineLinkOptions documents them, and the robot loop's. */
export interface ShieldNodeOptions<P> extends Pick<OnlineLinkOptions<P>, 'shield' | 'transport' | 'spool' | 'receiver' | 'startModelDir' | 'sendWindow'> {
  readonly robot: string;
  readonly env: Env;
  readonly controller: Controller;
  /**
   * Awaited before each tick's decision with the state it is made on: a camera robot hands the
   * image shield the frame of that state here (ImageShield.pushFrame). Also while disarmed, so the
   * latent is fresh when the shield is armed again.
   */
  readonly beforeDecide?: (obs: Float32Array) => Promise<void> | void;
  /** Each shielded tick's state, proposal and decision, before the robot steps (a live view). Arrays are reused: copy what you keep. */
  readonly onDecision?: (obs: Float32Array, proposed: Float32Array, d: Decision) => void;
  /** Wall clock of telemetry, status and commands (default: the process clock). */
  readonly clock?: Clock;
  /** The telemetry beat's interval timer. */
  readonly timer?: Timer;
  /** Transitions per published batch (default 64). */
  readonly batchSize?: number;
  /** Telemetry period (default 1000 ms). */
  readonly telemetryMs?: number;
  /** Identifies this run's batches to the trainer (dedup); random by default. */
  readonly session?: number;
  readonly seed?: number;
  /** Decides which commands are obeyed; default: none (no operator key, commands disabled). */
  readonly commands?: CommandGuard;
  /** Retained status publishes: at most `burst` at once, then `perSecond` (default 5, 2/s); later changes wait for a token. */
  readonly statusRate?: { readonly perSecond: number; readonly burst: number };
  /** Critic drift detection (src/core/drift-monitor.ts); γ_risk of the model enables the TD-error sign. */
  readonly drift?: DriftOptions;
}

/** The node's events are its link's (online-link.ts). */
export type ShieldNodeEvents = OnlineLinkEvents;

export class ShieldNode<P = unknown> extends EventEmitter<ShieldNodeEvents> {
  readonly robot: string;
  readonly topics: RobotTopics;
  episodes = 0;
  /** The online loop's side of the node: transitions, models, status, commands. */
  readonly link: OnlineLink<P>;

  /** @internal */
  readonly o: ShieldNodeOptions<P>;
  readonly #drift: DriftMonitor;
  readonly #obs: Float32Array;
  #episode = 0;
  #step = 0;

  constructor(options: ShieldNodeOptions<P>) {
    super();
    this.o = options;
    this.robot = options.robot;
    const { obsDim, actDim } = options.env.spec;
    this.#drift = new DriftMonitor(options.drift);
    this.link = new OnlineLink<P>({
      robot: options.robot,
      obsDim,
      actDim,
      shield: options.shield,
      transport: options.transport,
      spool: options.spool,
      receiver: options.receiver,
      drift: () => this.#drift.snapshot(),
      ...pick(options, ['startModelDir', 'sendWindow', 'clock', 'timer', 'batchSize', 'telemetryMs', 'session', 'commands', 'statusRate']),
    });
    this.topics = this.link.topics;
    const emit = this.emit.bind(this) as (event: string, ...args: unknown[]) => boolean;
    for (const e of ONLINE_LINK_EVENTS) this.link.on(e, (...args: unknown[]) => emit(e, ...args));
    this.#obs = new Float32Array(obsDim);
    this.#obs.set(options.env.reset(options.seed));
    options.controller.reset(options.seed);
  }

  get armed(): boolean {
    return this.link.armed;
  }
  set armed(v: boolean) {
    this.link.armed = v;
  }
  get recording(): boolean {
    return this.link.recording;
  }
  set recording(v: boolean) {
    this.link.recording = v;
  }
  get commands(): CommandGuard {
    return this.link.commands;
  }
  get invalidByTopic(): Map<string, number> {
    return this.link.invalidByTopic;
  }
  get invalidMessages(): number {
    return this.link.invalidMessages;
  }
  get swaps(): number {
    return this.link.swaps;
  }
  get swapFailures(): number {
    return this.link.swapFailures;
  }
  get lastSwapError(): string | undefined {
    return this.link.lastSwapError;
  }
  /** Transition batches acknowledged by the broker. */
  get batchesSent(): number {
    return this.link.batchesSent;
  }
  get pinned(): string | undefined {
    return this.link.pinned;
  }
  get armedChangedAt(): number | undefined {
    return this.link.armedChangedAt;
  }
  get armedBy(): string | undefined {
    return this.link.armedBy;
  }

  /** Subscribes, publishes status on every (re)connection, starts telemetry. */
  start(): Promise<void> {
    return this.link.start();
  }

  /**
   * One control tick: apply a pending model swap (between ticks, never during one), let the
   * controller propose, the shield decide (pass-through when disarmed), step the robot, record.
   */
  async tick(): Promise<void> {
    // The drift of a model is judged from its own install on.
    if (await this.link.applyPendingSwap()) this.#drift.reset();
    const { env, controller, shield } = this.o;
    const link = this.link;
    if (controller.prepare !== undefined) await controller.prepare(this.#obs);
    const proposed = controller.act(this.#obs);
    link.setNextAct(this.#episode, this.#step, proposed);
    let action = proposed;
    let qRisk = Number.NaN;
    let ratedSafe = false;
    if (this.o.beforeDecide !== undefined) await this.o.beforeDecide(this.#obs);
    const armed = link.armed;
    if (armed) {
      const d = await shield.decide(this.#obs, proposed);
      this.o.onDecision?.(this.#obs, proposed, d);
      action = d.action;
      qRisk = d.qRisk;
      ratedSafe = d.source === 'task';
    }
    const r = env.step(action);
    if (armed) this.#drift.observe(qRisk, ratedSafe, r.violation, r.done);
    link.add(this.#obs, action, r.violation ? 1 : 0, r.obs, r.done, this.#episode, this.#step);
    this.#step++;
    if (r.done) {
      this.#episode++;
      this.episodes++;
      this.#step = 0;
      this.#obs.set(env.reset());
      controller.reset();
      shield.resetEpisode();
    } else {
      this.#obs.set(r.obs);
    }
  }

  /** Seals the transitions collected so far into the spool and starts sending. */
  flushBatch(): void {
    this.link.flushBatch();
  }

  /** Resolves when every batch sealed so far has been acknowledged (or the link is down). */
  drained(): Promise<void> {
    return this.link.drained();
  }

  /** Resolves when model messages received so far have been handled (verified, prepared or refused). */
  modelsSettled(): Promise<void> {
    return this.link.modelsSettled();
  }

  telemetry(): TelemetryPayload {
    return this.link.telemetry();
  }

  /** The inference watchdog's counts over every model run so far; null when the shield has none (in-thread). */
  watchdogStats(): NodeWatchdogStats | null {
    return this.link.watchdogStats();
  }

  status(): StatusPayload {
    return this.link.status();
  }

  publishTelemetry(): void {
    this.link.publishTelemetry();
  }

  /** The retained status, rate-limited (OnlineLink.publishStatus). */
  publishStatus(): void {
    this.link.publishStatus();
  }

  /** Flushes the open batch, waits for the spool to reach the disk, says offline. */
  stop(): Promise<void> {
    return this.link.stop();
  }
}

/** The options of `o` named in `keys` that are set (exactOptionalPropertyTypes: never an explicit undefined). */
function pick<T extends object, K extends keyof T>(o: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}
