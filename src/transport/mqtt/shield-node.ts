/**
 * The shield side of the online loop (`rshield run --sim`): ticks a simulated robot through the
 * shield, streams transitions (spooled on disk until acknowledged), publishes status and 1 Hz
 * telemetry, obeys commands and swaps in signed model versions between ticks.
 */
import { EventEmitter } from 'node:events';
import { TokenBucket } from '../../core/token-bucket.js';
import { DriftMonitor, type DriftOptions } from '../../core/drift-monitor.js';
import { CommandGuard, type CommandRefusal } from '../../models/command-guard.js';
import type { Controller, Env } from '../../core/types.js';
import type { SwappableShieldPort } from '../../core/shield-port.js';
import type { Decision } from '../../core/shield-core.js';
import type { CmdPayload, StatusPayload, TelemetryPayload } from '../../config/mqtt-payloads.js';
import type { ModelReceiver, ReceivedModel } from './model-transfer.js';
import type { Transport } from '../transport.js';
import { handleCmd } from './handlers/cmd.js';
import { handleModel } from './handlers/model.js';
import type { TransitionSpool } from './spool.js';
import { systemClock, systemTimer, type Clock, type Timer } from '../../core/clock.js';
import { robotTopics, type RobotTopics } from './topics.js';
import { TransitionBatcher } from './transition-batcher.js';

/** Transition batches in flight at once by default (ShieldNodeOptions.sendWindow). */
export const DEFAULT_SEND_WINDOW = 8;

/** A version the node can swap in: received, or the start model (no bundle: read from its folder). */
type SwapModel = Pick<ReceivedModel, 'version' | 'dir'> & { readonly bundle?: ReceivedModel['bundle'] };

export interface ShieldNodeOptions<P> {
  readonly robot: string;
  readonly env: Env;
  readonly controller: Controller;
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

/** Watchdog counters, cumulative over the models the node has run (SwappableShieldPort.watchdogStats). */
export interface NodeWatchdogStats {
  late: number;
  busy: number;
  replacements: number;
  stuck: boolean;
}

export interface ShieldNodeEvents {
  invalid: [topic: string, reason: string];
  cmd: [cmd: CmdPayload];
  /** A command was refused by the guard (counted in status and telemetry). */
  cmdRefused: [why: CommandRefusal, reason: string];
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

/** Offline status, the shield's last will. */
export function offlineStatus(robot: string): string {
  const s: StatusPayload = { v: 1, state: 'offline', robot };
  return JSON.stringify(s);
}

export class ShieldNode<P = unknown> extends EventEmitter<ShieldNodeEvents> {
  readonly robot: string;
  readonly topics: RobotTopics;
  armed = true;
  recording = true;
  /** Invalid incoming messages, by topic. */
  readonly invalidByTopic = new Map<string, number>();
  swaps = 0;
  swapFailures = 0;
  lastSwapError: string | undefined;
  /** Transition batches acknowledged by the broker. */
  batchesSent = 0;
  episodes = 0;
  /** When `armed` last changed (clock.nowMs()), and by which command; undefined before any change. */
  armedChangedAt: number | undefined;
  armedBy: string | undefined;
  readonly commands: CommandGuard;

  /** @internal */
  readonly o: ShieldNodeOptions<P>;
  readonly #clock: Clock;
  readonly #timer: Timer;
  readonly #batcher: TransitionBatcher;
  readonly #drift: DriftMonitor;
  readonly #session: number;
  readonly #startedAt: number;
  readonly #obs: Float32Array;
  #seq = 0;
  #episode = 0;
  #step = 0;
  #pendingSwap: { prepared: P; model: SwapModel } | undefined;
  /** The running version and the one before it (rollback's target; the start model before any swap). */
  #running: SwapModel | undefined;
  #previous: SwapModel | undefined;
  /** The version an operator pinned: model updates are refused until `unpin`. */
  pinned: string | undefined;
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

  constructor(options: ShieldNodeOptions<P>) {
    super();
    this.o = options;
    this.robot = options.robot;
    this.topics = robotTopics(options.robot);
    this.#clock = options.clock ?? systemClock;
    this.#timer = options.timer ?? systemTimer;
    const { obsDim, actDim } = options.env.spec;
    this.#drift = new DriftMonitor(options.drift);
    this.#batcher = new TransitionBatcher({ capacity: options.batchSize ?? 64, obsDim, actDim });
    this.#session = (options.session ?? Math.floor(Math.random() * 0xffffffff)) >>> 0;
    this.#startedAt = this.#clock.nowMs();
    if (options.startModelDir !== undefined) this.#running = { version: options.shield.modelVersion, dir: options.startModelDir };
    this.#obs = new Float32Array(obsDim);
    this.commands = options.commands ?? new CommandGuard({ robot: options.robot, operatorKeys: [], clock: this.#clock });
    const rate = options.statusRate ?? { perSecond: 2, burst: 5 };
    this.#statusBucket = new TokenBucket(rate.perSecond, rate.burst, this.#clock.nowMs());
    this.#obs.set(options.env.reset(options.seed));
    options.controller.reset(options.seed);
    options.spool.once('fault', (reason) => {
      this.publishStatus();
      this.emit('diskFault', reason);
    });
  }

  get invalidMessages(): number {
    let n = 0;
    for (const v of this.invalidByTopic.values()) n += v;
    return n;
  }

  /** Subscribes, publishes status on every (re)connection, starts telemetry. */
  async start(): Promise<void> {
    const { transport } = this.o;
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
    }, this.o.telemetryMs ?? 1000);
    if (transport.connected) {
      this.publishStatus();
      this.#kickDrain();
    }
  }

  /**
   * One control tick: apply a pending model swap (between ticks, never during one), let the
   * controller propose, the shield decide (pass-through when disarmed), step the robot, record.
   */
  async tick(): Promise<void> {
    const pending = this.#pendingSwap;
    if (pending !== undefined) await this.#applySwap(pending);
    if (this.#statusDirty) this.publishStatus();
    const { env, controller, shield } = this.o;
    if (controller.prepare !== undefined) await controller.prepare(this.#obs);
    const proposed = controller.act(this.#obs);
    if (this.recording) this.#batcher.setNextAct(this.#episode, this.#step, proposed);
    let action = proposed;
    let qRisk = Number.NaN;
    let ratedSafe = false;
    if (this.o.beforeDecide !== undefined) await this.o.beforeDecide(this.#obs);
    if (this.armed) {
      const d = await shield.decide(this.#obs, proposed);
      this.o.onDecision?.(this.#obs, proposed, d);
      action = d.action;
      qRisk = d.qRisk;
      ratedSafe = d.source === 'task';
    }
    const r = env.step(action);
    if (this.armed) this.#drift.observe(qRisk, ratedSafe, r.violation, r.done);
    if (this.recording) {
      this.#batcher.add(this.#obs, action, r.violation ? 1 : 0, r.obs, r.done, this.#episode, this.#step);
      if (this.#batcher.full) this.flushBatch();
    }
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
    const bytes = this.#batcher.seal(this.#session, this.#seq);
    if (bytes === undefined) return;
    this.#seq = (this.#seq + 1) >>> 0;
    this.o.spool.push(bytes);
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
    const s = this.o.shield.stats();
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
      provider: this.o.shield.provider,
      modelVersion: this.o.shield.modelVersion,
      armed: this.armed,
      recording: this.recording,
      swaps: this.swaps,
      swapFailures: this.swapFailures,
      transitionsSpooled: this.o.spool.pending,
      transitionsDropped: this.o.spool.dropped,
      invalidMessages: this.invalidMessages,
      commandsRefused: this.commands.refusedTotal,
      ...(this.watchdogStats() !== null ? { watchdog: this.watchdogStats()! } : {}),
      drift: this.#drift.snapshot(),
    };
  }

  /** The inference watchdog's counts over every model run so far; null when the shield has none (in-thread). */
  watchdogStats(): NodeWatchdogStats | null {
    const w = this.o.shield.watchdogStats?.() ?? null;
    if (w === null) return null;
    const b = this.#watchdogBase;
    return { late: b.late + w.late, busy: b.busy + w.busy, replacements: b.replacements + w.replacements, stuck: w.stuck };
  }

  status(): StatusPayload {
    return {
      v: 1,
      state: 'online',
      robot: this.robot,
      armed: this.armed,
      recording: this.recording,
      modelVersion: this.o.shield.modelVersion,
      provider: this.o.shield.provider,
      startedAt: this.#startedAt,
      ...(this.lastSwapError !== undefined ? { lastSwapError: this.lastSwapError } : {}),
      ...(this.o.spool.fault !== undefined ? { diskError: this.o.spool.fault.slice(0, 1000) } : {}),
      ...(this.armedChangedAt !== undefined ? { armedChangedAt: this.armedChangedAt } : {}),
      ...(this.armedBy !== undefined ? { armedBy: this.armedBy.slice(0, 200) } : {}),
      commandsRefused: this.commands.refusedTotal,
      ...(this.commands.lastRefusal !== undefined ? { lastCommandRefusal: this.commands.lastRefusal.slice(0, 1000) } : {}),
      ...(this.pinned !== undefined ? { pinned: this.pinned.slice(0, 128) } : {}),
    };
  }

  publishTelemetry(): void {
    if (!this.o.transport.connected) return; // telemetry is a live view: never queued
    this.o.transport.publish(this.topics.telemetry, JSON.stringify(this.telemetry()), { qos: 0 }).catch(() => undefined);
  }

  /**
   * Publishes the retained status, rate-limited (statusRate): over the rate the change is kept
   * and goes out with the next tick or telemetry beat that finds a token, so a burst of changes
   * costs a few publishes, never one each.
   */
  publishStatus(): void {
    if (!this.o.transport.connected) return; // republished on the next connection
    if (!this.#statusBucket.take(this.#clock.nowMs())) {
      this.#statusDirty = true;
      return;
    }
    this.#statusDirty = false;
    this.o.transport.publish(this.topics.status, JSON.stringify(this.status()), { qos: 1, retain: true }).catch(() => undefined);
  }

  /** Flushes the open batch, waits for the spool to reach the disk, says offline, disconnects. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#timer.clearInterval(this.#telemetryTimer);
    this.flushBatch();
    await this.o.spool.flushed();
    await this.#modelChain;
    await this.o.receiver.close();
    if (this.o.transport.connected) {
      await this.o.transport.publish(this.topics.status, offlineStatus(this.robot), { qos: 1, retain: true }).catch(() => undefined);
    }
  }

  async #applySwap(pending: { prepared: P; model: SwapModel }): Promise<void> {
    this.#pendingSwap = undefined;
    const w = this.o.shield.watchdogStats?.() ?? null;
    try {
      await this.o.shield.swap(pending.prepared);
    } catch (err) {
      this.#swapFailed(pending.model.version, err instanceof Error ? err.message : String(err));
      return;
    }
    this.swaps++;
    this.#drift.reset();
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
  }

  #swapFailed(version: string, reason: string): void {
    this.swapFailures++;
    this.lastSwapError = `${version}: ${reason}`;
    this.publishStatus();
    this.emit('swapFailed', version, reason);
  }

  #kickDrain(): void {
    if (this.#draining !== undefined) return;
    const { spool, transport } = this.o;
    this.#draining = (async () => {
      try {
        for (;;) {
          // Counted as each is acknowledged: with batches coming in as fast as they go out, a drain may not return for long.
          const sent = await spool.drain(async (b) => {
            await transport.publish(this.topics.transitions, b, { qos: 1 });
            this.batchesSent++;
          }, () => transport.connected, this.o.sendWindow ?? DEFAULT_SEND_WINDOW);
          if (sent > 0) this.emit('sent', sent);
          if (sent === 0 || !transport.connected || spool.pending === 0) break;
        }
      } finally {
        this.#draining = undefined;
      }
    })();
  }

  readonly #cmdTarget = {
    node: this as ShieldNode<P>,
    get guard(): CommandGuard {
      return this.node.commands;
    },
    get armed(): boolean {
      return this.node.armed;
    },
    set armed(v: boolean) {
      this.node.#nextArmed = v;
    },
    get recording(): boolean {
      return this.node.recording;
    },
    set recording(v: boolean) {
      if (!v) this.node.flushBatch();
      this.node.recording = v;
    },
    pin: () => {
      this.pinned = this.o.shield.modelVersion;
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
      if (next !== undefined && next !== this.armed) {
        this.armed = next;
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
    node: this as ShieldNode<P>,
    get receiver(): ModelReceiver {
      return this.node.o.receiver;
    },
    invalid: (topic: string, reason: string) => this.#countInvalid(topic, reason),
    refused: (version: string, reason: string) => this.#swapFailed(version, reason),
    received: (model: ReceivedModel) => {
      if (this.pinned !== undefined) return this.#swapFailed(model.version, `refused: pinned at ${this.pinned} by an operator (rshield cmd unpin)`);
      // Preparing (session creation, check batch) runs while ticks go on; the swap waits for a tick boundary.
      this.#modelChain = this.#modelChain.then(async () => {
        try {
          const prepared = await this.o.shield.prepare(model.dir, model.bundle);
          // Pinned while it was being prepared: it is not swapped in.
          if (this.pinned !== undefined) {
            this.o.shield.release(prepared);
            return this.#swapFailed(model.version, `refused: pinned at ${this.pinned} by an operator (rshield cmd unpin)`);
          }
          // A newer version overtakes one still waiting for its tick boundary.
          if (this.#pendingSwap !== undefined) this.o.shield.release(this.#pendingSwap.prepared);
          this.#pendingSwap = { prepared, model };
          this.emit('prepared', model.version);
          // The running version, the one before it (rollback) and this one stay staged.
          await this.o.receiver.prune([model.dir, ...[this.#currentDir, this.#previous?.dir].filter((d): d is string => d !== undefined)]);
        } catch (err) {
          this.#swapFailed(model.version, err instanceof Error ? err.message : String(err));
        }
      });
    },
  };

  /** A prepared version still waiting for its tick boundary is not swapped in. */
  #dropPending(): void {
    if (this.#pendingSwap === undefined) return;
    this.o.shield.release(this.#pendingSwap.prepared);
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
        const prepared = await this.o.shield.prepare(target.dir, target.bundle);
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
