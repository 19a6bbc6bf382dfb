/**
 * The trainer's MQTT side (`rshield trainer`): receives transition batches, drops repeats
 * (at-least-once delivery), and hands the columns to the learning schedule through a port
 * (src/learn/online-schedule.ts implements it: updates, a version every K, the quality gate;
 * src/app/trainer.ts wires the two). Each version the schedule releases is signed and published
 * here; each verdict, with both scores, goes out in the retained trainer status
 * (`topics.trainer`), so a lab sees why a version was held back.
 */
import { EventEmitter } from 'node:events';
import type { KeyObject } from 'node:crypto';
import { systemClock, type Clock } from '../../core/clock.js';
import type { TransitionColumnsView } from '../../data/transition-columns.js';
import type { DriftStats } from '../../core/drift-monitor.js';
import { readModelDir, storeByHash } from '../../models/model-dir.js';
import { buildModelMessages } from './model-transfer.js';
import type { Transport } from '../transport.js';
import { handleTelemetry } from './handlers/telemetry.js';
import { handleTransitions } from './handlers/transitions.js';
import { robotTopics, type RobotTopics } from './topics.js';
import type { TransitionBatch } from './transition-codec.js';

/** What the node needs of the learning schedule (src/learn/online-schedule.ts OnlineSchedule). */
export interface LearningPort {
  /** One received, de-duplicated batch. */
  add(columns: TransitionColumnsView): void;
  readonly stopped: boolean;
  readonly updates: number;
  readonly published: number;
  readonly refused: number;
  readonly rejected: number;
  /** The gate's last verdict (JSON), undefined before the first. */
  readonly lastGate: unknown;
  idle(): Promise<void>;
  stop(): Promise<void>;
  /** Gates, exports, validates and releases the current model now. */
  publishVersion(): Promise<string | undefined>;
  /** The shield's drift report (telemetry); the schedule may adapt (OnlineSchedule adaptOnDrift). */
  driftReported?(modelVersion: string, drift: DriftStats): void;
  /** Adaptations to drift by outcome, and the last one (JSON); absent without adaptOnDrift. */
  readonly adaptations?: Readonly<Record<string, number>>;
  readonly lastAdaptation?: unknown;
  /** Whether drift reports are acted on. */
  readonly adaptsOnDrift?: boolean;
  /** The dynamics ensemble's retraining (JSON) when the start model is model-based, else null or absent. */
  readonly dynamics?: unknown;
}

/** What the node gives the schedule: where released versions go, and when the status changed. */
export interface LearningHooks {
  /** Signs and publishes one released version. */
  release(dir: string, version: string): Promise<void>;
  /** Publishes the retained trainer status. */
  afterVerdict(): Promise<void>;
}

export interface TrainerNodeOptions {
  readonly robot: string;
  readonly obsDim: number;
  readonly actDim: number;
  /** Builds the learning schedule, given where its versions go (src/app/trainer.ts). */
  readonly learning: (hooks: LearningHooks) => LearningPort;
  readonly transport: Transport;
  /** Signs every published version; without it versions go out unsigned. */
  readonly signer?: KeyObject;
  readonly transfer?: 'inline' | 'hash';
  /** Content-addressed store shared with the shields ('hash' transfer). */
  readonly storeDir?: string;
  /**
   * Wall clock (default the process clock). A version's signed sequence is the larger of its
   * milliseconds and the last one + 1, so it keeps rising across trainer restarts.
   */
  readonly clock?: Pick<Clock, 'nowMs'>;
}

export interface TrainerNodeEvents {
  invalid: [topic: string, reason: string];
  batch: [batch: TransitionBatch];
}

/** Remembers recently seen (session, seq) pairs: at-least-once delivery may repeat a batch. */
class SeenBatches {
  readonly #seen = new Set<string>();
  readonly #order: string[] = [];
  readonly #capacity: number;
  constructor(capacity: number) {
    this.#capacity = capacity;
  }
  add(session: number, seq: number): boolean {
    const key = `${session}:${seq}`;
    if (this.#seen.has(key)) return false;
    this.#seen.add(key);
    this.#order.push(key);
    if (this.#order.length > this.#capacity) this.#seen.delete(this.#order.shift() as string);
    return true;
  }
}

export class TrainerNode extends EventEmitter<TrainerNodeEvents> {
  readonly topics: RobotTopics;
  invalidMessages = 0;
  duplicates = 0;
  transitionsReceived = 0;

  /** @internal */
  readonly o: TrainerNodeOptions;
  readonly #seen = new SeenBatches(4096);
  /** The learning schedule: its events (published, refused, …) are its own. */
  readonly learning: LearningPort;
  /** Signed sequence of the last published version. */
  #sequence = 0;

  constructor(options: TrainerNodeOptions) {
    super();
    this.o = options;
    this.topics = robotTopics(options.robot);
    this.learning = options.learning({ release: (dir) => this.#release(dir), afterVerdict: () => this.#publishStatus() });
  }

  async start(): Promise<void> {
    await this.o.transport.subscribe(this.topics.transitions, (topic, payload) => handleTransitions(this.#target, topic, payload));
    // The shield's telemetry carries its critic-drift report; only a schedule that adapts reads it.
    if (this.learning.adaptsOnDrift === true) await this.o.transport.subscribe(this.topics.telemetry, (topic, payload) => handleTelemetry(this.#target, topic, payload));
  }

  /** Resolves when every update owed so far has run and any due version is published. */
  async idle(): Promise<void> {
    await this.learning.idle();
  }

  async stop(): Promise<void> {
    await this.learning.stop();
  }

  /** The retained trainer status: counters and the gate's last verdict (docs/mqtt.md). */
  status(): Record<string, unknown> {
    return {
      v: 1, robot: this.o.robot, updates: this.learning.updates, transitionsReceived: this.transitionsReceived,
      published: this.learning.published, refused: this.learning.refused, rejected: this.learning.rejected,
      // JSON writes an undefined AUROC (NaN) as null.
      lastGate: this.learning.lastGate ?? null,
      ...(this.learning.adaptsOnDrift === true ? { adaptations: this.learning.adaptations ?? {}, lastAdaptation: this.learning.lastAdaptation ?? null } : {}),
      ...(this.learning.dynamics === undefined || this.learning.dynamics === null ? {} : { dynamics: this.learning.dynamics }),
    };
  }

  /** Signs and publishes one released version (inline, or by hash into the shared store). */
  async #release(dir: string): Promise<void> {
    const bundle = await readModelDir(dir);
    const transfer = this.o.transfer ?? 'inline';
    if (transfer === 'hash' && this.o.storeDir !== undefined) await storeByHash(this.o.storeDir, bundle);
    this.#sequence = Math.max(this.#sequence + 1, Math.floor((this.o.clock ?? systemClock).nowMs()));
    const messages = buildModelMessages(bundle, { robot: this.o.robot, sequence: this.#sequence, transfer, ...(this.o.signer !== undefined ? { signer: this.o.signer } : {}) });
    for (const m of messages) await this.o.transport.publish(this.topics.model, JSON.stringify(m), { qos: 1 });
  }

  async #publishStatus(): Promise<void> {
    if (!this.o.transport.connected) return;
    await this.o.transport.publish(this.topics.trainer, JSON.stringify(this.status()), { qos: 1, retain: true }).catch(() => undefined);
  }

  readonly #target = {
    node: this as TrainerNode,
    get robot(): string {
      return this.node.o.robot;
    },
    drift: (modelVersion: string, drift: DriftStats) => this.learning.driftReported?.(modelVersion, drift),
    get obsDim(): number {
      return this.node.o.obsDim;
    },
    get actDim(): number {
      return this.node.o.actDim;
    },
    invalid: (topic: string, reason: string) => {
      this.invalidMessages++;
      this.emit('invalid', topic, reason);
    },
    batch: (batch: TransitionBatch) => {
      if (this.learning.stopped) return;
      if (!this.#seen.add(batch.session, batch.seq)) {
        this.duplicates++;
        return;
      }
      this.transitionsReceived += batch.columns.size;
      this.learning.add(batch.columns);
      this.emit('batch', batch);
    },
  };
}
