/**
 * A shield's side of the online loop, whatever drives its ticks: transitions sealed into batches
 * and spooled on disk until the broker acknowledges them, signed model versions received,
 * verified, prepared beside the running model and swapped in at a tick boundary (pin, unpin,
 * rollback), the retained status and 1 Hz telemetry, signed operator commands, the spool's disk
 * fault. The MQTT sim shield (shield-node.ts) and the ROS 2 shield (src/app/ros2-online.ts) each
 * own one; the host only feeds it transitions and calls `applyPendingSwap` between ticks.
 * Nothing here waits on the broker: with it down, transitions wait in the spool.
 */
import { EventEmitter } from 'node:events';
import { TokenBucket } from '../../core/token-bucket.js';
import type { DriftStats } from '../../core/drift-monitor.js';
import { CommandGuard, type CommandRefusal } from '../../models/command-guard.js';
import type { SwappableShieldPort } from '../../core/shield-port.js';
import type { Transition } from '../../core/types.js';
import type { CmdPayload, StatusPayload, TelemetryPayload } from '../../config/mqtt-payloads.js';
import type { ModelReceiver, ReceivedModel } from './model-transfer.js';
import type { Transport } from '../transport.js';
import { handleCmd } from './handlers/cmd.js';
import { handleModel } from './handlers/model.js';
import type { TransitionSpool } from './spool.js';
import { systemClock, systemTimer, type Clock, type Timer } from '../../core/clock.js';
import { robotTopics, type RobotTopics } from './topics.js';
import { TransitionBatcher } from './transition-batcher.js';

/** Transition batches in flight at once by default (OnlineLinkOptions.sendWindow). */
export const DEFAULT_SEND_WINDOW = 8;

/** A version the link can swap in: received, or the start model (no bundle: read from its folder). */
type SwapModel = Pick<ReceivedModel, 'version' | 'dir'> & { readonly bundle?: ReceivedModel['bundle'] };

/**
 * Who owns the arm state. Default (none given): the link, and signed arm / disarm commands
 * change it (the MQTT sim shield: disarmed = pass-through). A host that arms otherwise (the
 * ROS 2 shield: its lifecycle state) gives its state and why arm / disarm are not obeyed here.
 */
export interface ArmState {
  readonly armed: () => boolean;
  /** Why a signed arm / disarm is ignored (reported with the 'cmdIgnored' event). */
  readonly ignoredBecause: string;
}

export interface OnlineLinkOptions<P> {
  /** The robot's name on the broker (rshield/v1/<robot>/...): the model card's robot. */
  readonly robot: string;
  readonly obsDim: number;
  readonly actDim: number;
  readonly shield: SwappableShieldPort<P>;
  readonly transport: Transport;
  readonly spool: TransitionSpool;
  readonly receiver: ModelReceiver;
  /** The start model's folder, so an operator can roll back to it after the first swap. */
  readonly startModelDir?: string;
  /**
   * Transition batches awaiting the broker's acknowledgement at once (default 8): one at a time,
   * the spool drains at one round trip per batch, slower than an unpaced loop fills it.
   */
  readonly sendWindow?: number;
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
  /** Decides which commands are obeyed; default: none (no operator key, commands disabled). */
  readonly commands?: CommandGuard;
  /** Retained status publishes: at most `burst` at once, then `perSecond` (default 5, 2/s); later changes wait for a token. */
  readonly statusRate?: { readonly perSecond: number; readonly burst: number };
  /** Default: the link owns it (see ArmState). */
  readonly arm?: ArmState;
  /** The host's critic-drift counts for telemetry (src/core/drift-monitor.ts). */
  readonly drift?: () => DriftStats;
}

/** Watchdog counters, cumulative over the models the link has run (SwappableShieldPort.watchdogStats). */
export interface NodeWatchdogStats {
  late: number;
  busy: number;
  replacements: number;
  stuck: boolean;
}

export interface OnlineLinkEvents {
  invalid: [topic: string, reason: string];
  cmd: [cmd: CmdPayload];
  /** A command was refused by the guard (counted in status and telemetry). */
  cmdRefused: [why: CommandRefusal, reason: string];
  /** A valid signed command that this host does not obey (arm / disarm on the ROS 2 shield). */
  cmdIgnored: [cmd: CmdPayload, reason: string];
  /** `armed` changed; `by` names the signing key and the operator's id. */
  armChanged: [armed: boolean, by: string];
  /** A verified version is loaded and checked; it is swapped in at the next tick. */
  prepared: [version: string];
  swapped: [version: string];
  swapFailed: [version: string, reason: string];
  sent: [count: number];
  /** The spool hit a disk error and stopped writing (once); shielding goes on. */
  diskFault: [reason: string];
}

/** Every event of the link, for hosts that pass them on. */
export const ONLINE_LINK_EVENTS: readonly (keyof OnlineLinkEvents)[] = ['invalid', 'cmd', 'cmdRefused', 'cmdIgnored', 'armChanged', 'prepared', 'swapped', 'swapFailed', 'sent', 'diskFault'];

/** Offline status, the shield's last will. */
export function offlineStatus(robot: string): string {
  const s: StatusPayload = { v: 1, state: 'offline', robot };
  return JSON.stringify(s);
}

export class OnlineLink<P = unknown> extends EventEmitter<OnlineLinkEvents> {
  readonly robot: string;
  readonly topics: RobotTopics;
  /** Whether transitions are collected (record-start / record-stop). */
  recording = true;
  /** Invalid incoming messages, by topic. */
  readonly invalidByTopic = new Map<string, number>();
  swaps = 0;
  swapFailures = 0;
  lastSwapError: string | undefined;
  /** Transition batches acknowledged by the broker. */
  batchesSent = 0;
  /** Transitions handed to `write` / `add` while recording. */
  transitionsCollected = 0;
  /** Valid signed commands this host does not obey (see ArmState). */
  commandsIgnored = 0;
  /** When `armed` last changed (clock.nowMs()), and by which command; undefined before any change. */
  armedChangedAt: number | undefined;
  armedBy: string | undefined;
  readonly commands: CommandGuard;
  /** The version an operator pinned: model updates are refused until `unpin`. */
  pinned: string | undefined;

  readonly #o: OnlineLinkOptions<P>;
  readonly #clock: Clock;
  readonly #timer: Timer;
  readonly #batcher: TransitionBatcher;
  readonly #session: number;
  readonly #startedAt: number;
  #armed = true;
  #seq = 0;
  #pendingSwap: { prepared: P; model: SwapModel } | undefined;
  /** The running version and the one before it (rollback's target; the start model before any swap). */
  #running: SwapModel | undefined;
  #previous: SwapModel | undefined;
  #currentDir: string | undefined;
  #modelChain: Promise<void> = Promise.resolve();
  #draining: Promise<void> | undefined;
  #telemetryTimer: unknown;
  #stopped = false;
  readonly #statusBucket: TokenBucket;
  /** A status change waits for a token: published on the next tick or telemetry beat. */
  #statusDirty = false;
  /** Watchdog counts of the models swapped out. */
  readonly #watchdogBase = { late: 0, busy: 0, replacements: 0 };

  constructor(options: OnlineLinkOptions<P>) {
    super();
    this.#o = options;
    this.robot = options.robot;
    this.topics = robotTopics(options.robot);
    this.#clock = options.clock ?? systemClock;
    this.#timer = options.timer ?? systemTimer;
    this.#batcher = new TransitionBatcher({ capacity: options.batchSize ?? 64, obsDim: options.obsDim, actDim: options.actDim });
    this.#session = (options.session ?? Math.floor(Math.random() * 0xffffffff)) >>> 0;
    this.#startedAt = this.#clock.nowMs();
    if (options.startModelDir !== undefined) this.#running = { version: options.shield.modelVersion, dir: options.startModelDir };
    this.commands = options.commands ?? new CommandGuard({ robot: options.robot, operatorKeys: [], clock: this.#clock });
    const rate = options.statusRate ?? { perSecond: 2, burst: 5 };
    this.#statusBucket = new TokenBucket(rate.perSecond, rate.burst, this.#clock.nowMs());
    options.spool.once('fault', (reason) => {
      this.publishStatus();
      this.emit('diskFault', reason);
    });
  }

  get armed(): boolean {
    return this.#o.arm !== undefined ? this.#o.arm.armed() : this.#armed;
  }

  /** Sets the link's own arm state (no effect where the host owns it, see ArmState). */
  set armed(v: boolean) {
    this.#armed = v;
  }

  get invalidMessages(): number {
    let n = 0;
    for (const v of this.invalidByTopic.values()) n += v;
    return n;
  }

  /** Whether a prepared version waits for the next tick boundary (`applyPendingSwap`). */
  get swapPending(): boolean {
    return this.#pendingSwap !== undefined;
  }

  /** Subscribes, publishes status on every (re)connection, starts telemetry. */
  async start(): Promise<void> {
    const { transport } = this.#o;
    transport.onConnectionChange((up) => {
      if (!up || this.#stopped) return;
      this.publishStatus();
      this.#kickDrain();
    });
    await transport.subscribe(this.topics.cmd, (topic, payload, info) => handleCmd(this.#cmdTarget, topic, payload, info.retained));
    await transport.subscribe(this.topics.model, (topic, payload) => {
      this.#modelChain = this.#modelChain.then(() => handleModel(this.#modelTarget, topic, payload));
    });
    this.#telemetryTimer = this.#timer.setInterval(() => {
      if (this.#statusDirty) this.publishStatus();
      this.publishTelemetry();
    }, this.#o.telemetryMs ?? 1000);
    if (transport.connected) {
      this.publishStatus();
      this.#kickDrain();
    }
  }

  /**
   * Call between ticks (never during a decision): installs a prepared version, and publishes a
   * status change still waiting for its token. Resolves true when a version was swapped in.
   */
  async applyPendingSwap(): Promise<boolean> {
    const pending = this.#pendingSwap;
    const swapped = pending !== undefined && (await this.#applySwap(pending));
    if (this.#statusDirty) this.publishStatus();
    return swapped;
  }

  /** Gives the last row its a′ (TransitionBatcher.setNextAct); nothing while not recording. */
  setNextAct(episode: number, step: number, act: Float32Array): void {
    if (this.recording) this.#batcher.setNextAct(episode, step, act);
  }

  /** One transition (TransitionBatcher.add); a full batch is sealed into the spool. Nothing while not recording. */
  add(obs: Float32Array, act: Float32Array, cost: number, nextObs: Float32Array, done: boolean, episode: number, step: number): void {
    if (!this.recording) return;
    this.#batcher.add(obs, act, cost, nextObs, done, episode, step);
    this.transitionsCollected++;
    if (this.#batcher.full) this.flushBatch();
  }

  /** One labelled transition, a′ included when it has one (a TransitionSink: src/transport/ros2/episode-labeler.ts). */
  write(t: Transition): void {
    if (!this.recording) return;
    this.#batcher.add(t.obs, t.act, t.cost, t.nextObs, t.done, t.episode, t.step);
    if (t.nextAct !== undefined) this.#batcher.setNextAct(t.episode, t.step + 1, t.nextAct);
    this.transitionsCollected++;
    if (this.#batcher.full) this.flushBatch();
  }

  /** Transitions collected (TransitionSink.count). */
  get count(): number {
    return this.transitionsCollected;
  }

  /** Seals the transitions collected so far into the spool and starts sending. */
  flushBatch(): void {
    const bytes = this.#batcher.seal(this.#session, this.#seq);
    if (bytes === undefined) return;
    this.#seq = (this.#seq + 1) >>> 0;
    this.#o.spool.push(bytes);
    this.#kickDrain();
  }

  /** Resolves when every batch sealed so far has been acknowledged (or the link is down). */
  async drained(): Promise<void> {
    while (this.#draining !== undefined) await this.#draining;
  }

  /** Resolves when model messages received so far have been handled (verified, prepared or refused). */
  async modelsSettled(): Promise<void> {
    await this.#modelChain;
  }

  telemetry(): TelemetryPayload {
    const { shield, spool } = this.#o;
    const s = shield.stats();
    const watchdog = this.watchdogStats();
    return {
      v: 1,
      robot: this.robot,
      time: this.#clock.nowMs(),
      ticks: s.ticks,
      tickP50Us: s.tickUs.p50,
      tickP99Us: s.tickUs.p99,
      interventions: s.interventions,
      failsafes: s.failsafes,
      failsafesByReason: Object.fromEntries(Object.entries(s.failsafesByReason).filter(([, n]) => n > 0)),
      provider: shield.provider,
      modelVersion: shield.modelVersion,
      armed: this.armed,
      recording: this.recording,
      swaps: this.swaps,
      swapFailures: this.swapFailures,
      transitionsSpooled: spool.pending,
      transitionsDropped: spool.dropped,
      invalidMessages: this.invalidMessages,
      commandsRefused: this.commands.refusedTotal,
      ...(watchdog !== null ? { watchdog } : {}),
      ...(this.#o.drift !== undefined ? { drift: this.#o.drift() } : {}),
    };
  }

  /** The inference watchdog's counts over every model run so far; null when the shield has none (in-thread). */
  watchdogStats(): NodeWatchdogStats | null {
    const w = this.#o.shield.watchdogStats?.() ?? null;
    if (w === null) return null;
    const b = this.#watchdogBase;
    return { late: b.late + w.late, busy: b.busy + w.busy, replacements: b.replacements + w.replacements, stuck: w.stuck };
  }

  status(): StatusPayload {
    const { shield, spool } = this.#o;
    return {
      v: 1,
      state: 'online',
      robot: this.robot,
      armed: this.armed,
      recording: this.recording,
      modelVersion: shield.modelVersion,
      provider: shield.provider,
      startedAt: this.#startedAt,
      ...(this.lastSwapError !== undefined ? { lastSwapError: this.lastSwapError } : {}),
      ...(spool.fault !== undefined ? { diskError: spool.fault.slice(0, 1000) } : {}),
      ...(this.armedChangedAt !== undefined ? { armedChangedAt: this.armedChangedAt } : {}),
      ...(this.armedBy !== undefined ? { armedBy: this.armedBy.slice(0, 200) } : {}),
      commandsRefused: this.commands.refusedTotal,
      ...(this.commands.lastRefusal !== undefined ? { lastCommandRefusal: this.commands.lastRefusal.slice(0, 1000) } : {}),
      ...(this.pinned !== undefined ? { pinned: this.pinned.slice(0, 128) } : {}),
    };
  }

  /** The link's state as key / value pairs (the ROS 2 shield's /diagnostics). */
  report(): [key: string, value: string][] {
    const { shield, spool, transport } = this.#o;
    return [
      ['model_version', shield.modelVersion],
      ['model_swaps', String(this.swaps)],
      ['model_refused', String(this.swapFailures)],
      ['last_model_refusal', this.lastSwapError?.slice(0, 300) ?? 'none'],
      ['model_pinned', this.pinned ?? 'no'],
      ['broker', transport.connected ? 'connected' : 'disconnected (transitions wait in the spool)'],
      ['transitions_collected', String(this.transitionsCollected)],
      ['transition_batches_sent', String(this.batchesSent)],
      ['transition_batches_spooled', String(spool.pending)],
      ['transition_batches_dropped', String(spool.dropped)],
      ['streaming', this.recording ? 'yes' : 'no (record-stop)'],
      ['mqtt_invalid_messages', String(this.invalidMessages)],
      ['commands_refused', String(this.commands.refusedTotal)],
      ['commands_ignored', String(this.commandsIgnored)],
    ];
  }

  /** Faults of the link beside the shield's own state: the spool's disk error. */
  faults(): string[] {
    const f = this.#o.spool.fault;
    return f === undefined ? [] : [`transition spool stopped: ${f.slice(0, 300)}`];
  }

  publishTelemetry(): void {
    if (!this.#o.transport.connected) return; // telemetry is a live view: never queued
    this.#o.transport.publish(this.topics.telemetry, JSON.stringify(this.telemetry()), { qos: 0 }).catch(() => undefined);
  }

  /**
   * Publishes the retained status, rate-limited (statusRate): over the rate the change is kept
   * and goes out with the next tick or telemetry beat that finds a token, so a burst of changes
   * costs a few publishes, never one each.
   */
  publishStatus(): void {
    if (!this.#o.transport.connected) return; // republished on the next connection
    if (!this.#statusBucket.take(this.#clock.nowMs())) {
      this.#statusDirty = true;
      return;
    }
    this.#statusDirty = false;
    this.#o.transport.publish(this.topics.status, JSON.stringify(this.status()), { qos: 1, retain: true }).catch(() => undefined);
  }

  /** Flushes the open batch, waits for the spool to reach the disk, says offline. The caller closes the transport. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#timer.clearInterval(this.#telemetryTimer);
    this.flushBatch();
    await this.#o.spool.flushed();
    await this.#modelChain;
    await this.#o.receiver.close();
    if (this.#o.transport.connected) {
      await this.#o.transport.publish(this.topics.status, offlineStatus(this.robot), { qos: 1, retain: true }).catch(() => undefined);
    }
  }

  async #applySwap(pending: { prepared: P; model: SwapModel }): Promise<boolean> {
    this.#pendingSwap = undefined;
    const { shield } = this.#o;
    const w = shield.watchdogStats?.() ?? null;
    try {
      await shield.swap(pending.prepared);
    } catch (err) {
      this.#swapFailed(pending.model.version, err instanceof Error ? err.message : String(err));
      return false;
    }
    this.swaps++;
    if (w !== null) {
      // The old model's watchdog goes with it: keep its counts.
      this.#watchdogBase.late += w.late;
      this.#watchdogBase.busy += w.busy;
      this.#watchdogBase.replacements += w.replacements;
    }
    this.lastSwapError = undefined;
    this.#currentDir = pending.model.dir;
    this.#previous = this.#running;
    this.#running = pending.model;
    this.publishStatus();
    this.emit('swapped', pending.model.version);
    return true;
  }

  #swapFailed(version: string, reason: string): void {
    this.swapFailures++;
    this.lastSwapError = `${version}: ${reason}`;
    this.publishStatus();
    this.emit('swapFailed', version, reason);
  }

  #kickDrain(): void {
    if (this.#draining !== undefined) return;
    const { spool, transport } = this.#o;
    this.#draining = (async () => {
      try {
        for (;;) {
          // Counted as each is acknowledged: with batches coming in as fast as they go out, a drain may not return for long.
          const sent = await spool.drain(async (b) => {
            await transport.publish(this.topics.transitions, b, { qos: 1 });
            this.batchesSent++;
          }, () => transport.connected, this.#o.sendWindow ?? DEFAULT_SEND_WINDOW);
          if (sent > 0) this.emit('sent', sent);
          if (sent === 0 || !transport.connected || spool.pending === 0) break;
        }
      } finally {
        this.#draining = undefined;
      }
    })();
  }

  readonly #cmdTarget = {
    link: this as OnlineLink<P>,
    get guard(): CommandGuard {
      return this.link.commands;
    },
    get armed(): boolean {
      return this.link.armed;
    },
    set armed(v: boolean) {
      this.link.#nextArmed = v;
    },
    get recording(): boolean {
      return this.link.recording;
    },
    set recording(v: boolean) {
      if (!v) this.link.flushBatch();
      this.link.recording = v;
    },
    pin: () => {
      this.pinned = this.#o.shield.modelVersion;
      this.#dropPending();
    },
    unpin: () => {
      this.pinned = undefined;
    },
    rollback: () => this.#rollback(),
    invalid: (topic: string, reason: string) => this.#countInvalid(topic, reason),
    refused: (why: CommandRefusal, reason: string) => {
      this.emit('cmdRefused', why, reason);
      // The first refusal shows in the status; later ones in its counter (status is rate-limited anyway).
      if (this.commands.refusedTotal === 1) this.publishStatus();
    },
    applied: (cmd: CmdPayload, by: string) => {
      const next = this.#nextArmed;
      this.#nextArmed = undefined;
      const arm = this.#o.arm;
      if (next !== undefined && arm !== undefined) {
        this.commandsIgnored++;
        this.emit('cmdIgnored', cmd, arm.ignoredBecause);
      } else if (next !== undefined && next !== this.#armed) {
        this.#armed = next;
        this.armedChangedAt = this.#clock.nowMs();
        this.armedBy = `key ${by}${cmd.id !== undefined ? `, id ${cmd.id}` : ''}`;
        this.emit('armChanged', next, this.armedBy);
      }
      this.publishStatus();
      this.emit('cmd', cmd);
    },
  };
  #nextArmed: boolean | undefined;

  readonly #modelTarget = {
    link: this as OnlineLink<P>,
    get receiver(): ModelReceiver {
      return this.link.#o.receiver;
    },
    invalid: (topic: string, reason: string) => this.#countInvalid(topic, reason),
    refused: (version: string, reason: string) => this.#swapFailed(version, reason),
    received: (model: ReceivedModel) => {
      if (this.pinned !== undefined) return this.#swapFailed(model.version, `refused: pinned at ${this.pinned} by an operator (rshield cmd unpin)`);
      const { shield, receiver } = this.#o;
      // Preparing (session creation, check batch) runs while ticks go on; the swap waits for a tick boundary.
      this.#modelChain = this.#modelChain.then(async () => {
        try {
          const prepared = await shield.prepare(model.dir, model.bundle);
          // Pinned (or stopped) while it was being prepared: it is not swapped in.
          if (this.pinned !== undefined || this.#stopped) {
            shield.release(prepared);
            if (this.pinned !== undefined) this.#swapFailed(model.version, `refused: pinned at ${this.pinned} by an operator (rshield cmd unpin)`);
            return;
          }
          // A newer version overtakes one still waiting for its tick boundary.
          if (this.#pendingSwap !== undefined) shield.release(this.#pendingSwap.prepared);
          this.#pendingSwap = { prepared, model };
          this.emit('prepared', model.version);
          // The running version, the one before it (rollback) and this one stay staged.
          await receiver.prune([model.dir, ...[this.#currentDir, this.#previous?.dir].filter((d): d is string => d !== undefined)]);
        } catch (err) {
          this.#swapFailed(model.version, err instanceof Error ? err.message : String(err));
        }
      });
    },
  };

  /** A prepared version still waiting for its tick boundary is not swapped in. */
  #dropPending(): void {
    if (this.#pendingSwap === undefined) return;
    this.#o.shield.release(this.#pendingSwap.prepared);
    this.#pendingSwap = undefined;
  }

  /** Prepares the version that ran before this one, swaps it in at the next tick and pins it. */
  #rollback(): void {
    const target = this.#previous;
    if (target === undefined) return this.#swapFailed('rollback', 'no earlier version to roll back to (none swapped out yet, or no start model folder)');
    this.pinned = target.version;
    this.#dropPending();
    this.#modelChain = this.#modelChain.then(async () => {
      try {
        const prepared = await this.#o.shield.prepare(target.dir, target.bundle);
        this.#dropPending();
        this.#pendingSwap = { prepared, model: target };
        this.emit('prepared', target.version);
      } catch (err) {
        this.#swapFailed(target.version, `rollback: ${err instanceof Error ? err.message : String(err)}`);
      }
    });
  }

  #countInvalid(topic: string, reason: string): void {
    this.invalidByTopic.set(topic, (this.invalidByTopic.get(topic) ?? 0) + 1);
    this.emit('invalid', topic, reason);
  }
}
