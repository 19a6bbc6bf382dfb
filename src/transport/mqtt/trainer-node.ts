/**
 * The trainer side of the online loop (`rshield trainer`): receives transition batches, runs one
 * critic + recovery update per transition (thesis Algorithm 1, after offline pretraining), and
 * every K updates exports, validates, signs and publishes a new model version — when it passes the
 * quality gate (src/learn/quality-gate.ts): no worse than the last published version on the
 * offline violation demos and on the online episodes. Each verdict, with both scores, goes out in
 * the retained trainer status (`topics.trainer`), so a lab sees why a version was held back.
 */
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import type { TransitionColumnsView } from '../../data/transition-columns.js';
import { DEFAULT_GATE_TOLERANCE, gateDecision, gateVerdict, type GateScores } from '../../learn/quality-gate.js';
import { readModelDir, storeByHash } from '../../models/model-dir.js';
import { buildModelMessages } from './model-transfer.js';
import type { Transport } from '../transport.js';
import { handleTransitions } from './handlers/transitions.js';
import { robotTopics, type RobotTopics } from './topics.js';
import type { TransitionBatch } from './transition-codec.js';

/** What the node needs of the online learner (src/learn/online.ts). */
export interface OnlineTrainerPort {
  /** The rows of one received batch, decoded straight into columns. */
  addTransitions(columns: TransitionColumnsView): void;
  /** Runs n gradient updates (each one ONNX Runtime run: asynchronous). */
  update(n: number): Promise<{ criticLoss: number; recoveryLoss: number }>;
  /** `metrics` go into the card's metrics (the gate's AUROC). */
  exportModel(dir: string, version: string, metrics?: Readonly<Record<string, unknown>>): Promise<unknown>;
  readonly updates: number;
  /**
   * Held-out AUROC of the current weights (and of the reference weights on the same rows, when
   * the learner keeps them), and, when the learner keeps them apart, the scores on the offline
   * violation demos and on the online episodes: the gate then requires both to hold
   * (src/learn/quality-gate.ts gateVerdict). Without evaluate() versions are published ungated.
   */
  evaluate?(): Promise<{ auroc: number; positives: number; rows: number; reference?: number } & Partial<GateScores>>;
  /** The current weights were published: they become the gate's reference. */
  acceptCurrent?(): void;
}

/** The gate's verdict on the last version it judged. */
export interface GateRecord {
  readonly version: string;
  readonly auroc: number;
  readonly reference: number | undefined;
  readonly positives: number;
  readonly rows: number;
  readonly publish: boolean;
  readonly note: string;
  /** The two held-out sets apart (learners that keep them): each set's scores and verdict. */
  readonly sets?: { readonly [K in keyof GateScores]: GateScores[K] & { readonly publish: boolean; readonly note: string } };
}

export interface TrainerNodeOptions {
  readonly robot: string;
  readonly obsDim: number;
  readonly actDim: number;
  readonly trainer: OnlineTrainerPort;
  readonly transport: Transport;
  /** Signs every published version; without it versions go out unsigned. */
  readonly signer?: KeyObject;
  /** Publish a version every K updates. */
  readonly every: number;
  /** Gradient updates per received transition (Algorithm 1: 1). */
  readonly updatesPerTransition?: number;
  /** Updates run per slice before yielding to the event loop. */
  readonly sliceUpdates?: number;
  /** Where exported versions are written, one folder each. */
  readonly exportDir: string;
  /** Loads an exported version and checks it (IO, check batch); throws with the reason. */
  readonly validate: (dir: string) => Promise<void>;
  readonly transfer?: 'inline' | 'hash';
  /** Content-addressed store shared with the shields ('hash' transfer). */
  readonly storeDir?: string;
  /** Version = `${versionPrefix}.${n}`. */
  readonly versionPrefix: string;
  /** Quality gate on (default) when the trainer can evaluate(); false publishes every valid version. */
  readonly gate?: boolean;
  /** Allowed held-out AUROC drop below the reference (default 0.005). */
  readonly gateTolerance?: number;
  /**
   * Wall clock in ms (default Date.now). A version's signed sequence is the larger of this and
   * the last one + 1, so it keeps rising across trainer restarts.
   */
  readonly now?: () => number;
}

export interface TrainerNodeEvents {
  invalid: [topic: string, reason: string];
  batch: [batch: TransitionBatch];
  published: [version: string];
  rejected: [version: string, reason: string];
  /** Held back by the quality gate (the learner keeps training; a later version may pass). */
  refused: [version: string, gate: GateRecord];
  /** Passed the quality gate (emitted before it is published). */
  gated: [version: string, gate: GateRecord];
}

/** Remembers recently seen (session, seq) pairs: at-least-once delivery may repeat a batch. */
class SeenBatches {
  private readonly seen = new Set<string>();
  private readonly order: string[] = [];
  constructor(private readonly capacity: number) {}
  add(session: number, seq: number): boolean {
    const key = `${session}:${seq}`;
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    this.order.push(key);
    if (this.order.length > this.capacity) this.seen.delete(this.order.shift() as string);
    return true;
  }
}

export class TrainerNode extends EventEmitter<TrainerNodeEvents> {
  readonly topics: RobotTopics;
  invalidMessages = 0;
  duplicates = 0;
  transitionsReceived = 0;
  published = 0;
  rejected = 0;
  /** Versions the quality gate held back. */
  refused = 0;
  /** The gate's last verdict; undefined before the first version or with the gate off. */
  lastGate: GateRecord | undefined;
  lastLoss = { criticLoss: Number.NaN, recoveryLoss: Number.NaN };

  /** @internal */
  readonly o: TrainerNodeOptions;
  private readonly seen = new SeenBatches(4096);
  private owed = 0;
  private nextPublishAt: number;
  private work: Promise<void> | undefined;
  private stopped = false;
  /** AUROC of the last published version, for learners whose evaluate() gives no reference. */
  private publishedAuroc: number | undefined;
  /** Signed sequence of the last published version. */
  private sequence = 0;

  constructor(options: TrainerNodeOptions) {
    super();
    this.o = options;
    this.topics = robotTopics(options.robot);
    this.nextPublishAt = options.trainer.updates + options.every;
  }

  async start(): Promise<void> {
    await this.o.transport.subscribe(this.topics.transitions, (topic, payload) => handleTransitions(this.target, topic, payload));
  }

  /** Resolves when every update owed so far has run and any due version is published. */
  async idle(): Promise<void> {
    while (this.work !== undefined) await this.work;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.idle();
  }

  /**
   * Gates, exports, validates, signs and publishes the current model as version
   * `${prefix}.${n}`. Undefined when the gate refused it or validation failed.
   */
  async publishVersion(): Promise<string | undefined> {
    const { trainer, versionPrefix } = this.o;
    const version = `${versionPrefix}.${this.published + this.rejected + this.refused + 1}`;
    const dir = join(this.o.exportDir, version);
    let gate: GateRecord | undefined;
    try {
      if (this.o.gate !== false && trainer.evaluate !== undefined) {
        const score = await trainer.evaluate();
        const reference = score.reference ?? this.publishedAuroc;
        const tolerance = this.o.gateTolerance ?? DEFAULT_GATE_TOLERANCE;
        const base = { version, auroc: score.auroc, reference, positives: score.positives, rows: score.rows };
        if (score.offline !== undefined && score.online !== undefined) {
          const v = gateVerdict({ offline: score.offline, online: score.online }, tolerance);
          gate = { ...base, publish: v.publish, note: v.note, sets: { offline: { ...score.offline, ...v.offline }, online: { ...score.online, ...v.online } } };
        } else {
          gate = { ...base, ...gateDecision(score.auroc, reference, tolerance) };
        }
        this.lastGate = gate;
        if (!gate.publish) {
          this.refused++;
          this.emit('refused', version, gate);
          await this.publishStatus();
          return undefined;
        }
        this.emit('gated', version, gate);
      }
      const finite = (x: number | undefined): number | null => (x !== undefined && Number.isFinite(x) ? Number(x.toFixed(4)) : null);
      const sets = gate?.sets;
      const metrics =
        gate === undefined
          ? undefined
          : {
              auroc: finite(gate.auroc), validationPositives: gate.positives, validationTransitions: gate.rows, gateReferenceAuroc: finite(gate.reference),
              ...(sets === undefined
                ? {}
                : {
                    gateOffline: { auroc: finite(sets.offline.candidate.auroc), caught: finite(sets.offline.candidate.caught), positives: sets.offline.candidate.positives, rows: sets.offline.candidate.rows },
                    gateOnline: { auroc: finite(sets.online.candidate.auroc), caught: finite(sets.online.candidate.caught), positives: sets.online.candidate.positives, rows: sets.online.candidate.rows },
                  }),
            };
      await (metrics === undefined ? trainer.exportModel(dir, version) : trainer.exportModel(dir, version, metrics));
      await this.o.validate(dir);
    } catch (err) {
      this.rejected++;
      this.emit('rejected', version, err instanceof Error ? err.message : String(err));
      return undefined;
    }
    const bundle = await readModelDir(dir);
    const transfer = this.o.transfer ?? 'inline';
    if (transfer === 'hash' && this.o.storeDir !== undefined) await storeByHash(this.o.storeDir, bundle);
    this.sequence = Math.max(this.sequence + 1, Math.floor((this.o.now ?? Date.now)()));
    const messages = buildModelMessages(bundle, { robot: this.o.robot, sequence: this.sequence, transfer, ...(this.o.signer !== undefined ? { signer: this.o.signer } : {}) });
    for (const m of messages) await this.o.transport.publish(this.topics.model, JSON.stringify(m), { qos: 1 });
    this.published++;
    if (gate !== undefined) {
      trainer.acceptCurrent?.();
      if (!Number.isNaN(gate.auroc)) this.publishedAuroc = gate.auroc;
    }
    this.emit('published', version);
    await this.publishStatus();
    return version;
  }

  /** The retained trainer status: counters and the gate's last verdict (docs/mqtt.md). */
  status(): Record<string, unknown> {
    return {
      v: 1, robot: this.o.robot, updates: this.o.trainer.updates, transitionsReceived: this.transitionsReceived,
      published: this.published, refused: this.refused, rejected: this.rejected,
      // JSON writes an undefined AUROC (NaN) as null.
      lastGate: this.lastGate ?? null,
    };
  }

  private async publishStatus(): Promise<void> {
    if (!this.o.transport.connected) return;
    await this.o.transport.publish(this.topics.trainer, JSON.stringify(this.status()), { qos: 1, retain: true }).catch(() => undefined);
  }

  private readonly target = {
    node: this as TrainerNode,
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
      if (this.stopped) return;
      if (!this.seen.add(batch.session, batch.seq)) {
        this.duplicates++;
        return;
      }
      const n = batch.columns.size;
      this.transitionsReceived += n;
      this.o.trainer.addTransitions(batch.columns);
      this.owed += n * (this.o.updatesPerTransition ?? 1);
      this.emit('batch', batch);
      this.kick();
    },
  };

  /** Runs owed updates in slices, yielding between them so messages keep flowing. */
  private kick(): void {
    if (this.work !== undefined) return;
    this.work = (async () => {
      try {
        const slice = this.o.sliceUpdates ?? 32;
        while (this.owed > 0 && !this.stopped) {
          const toNext = this.nextPublishAt - this.o.trainer.updates;
          const n = Math.max(1, Math.min(slice, this.owed, toNext));
          this.lastLoss = { ...(await this.o.trainer.update(n)) };
          this.owed -= n;
          if (this.o.trainer.updates >= this.nextPublishAt) {
            this.nextPublishAt = this.o.trainer.updates + this.o.every;
            await this.publishVersion();
          }
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
      } finally {
        this.work = undefined;
      }
    })();
  }
}
