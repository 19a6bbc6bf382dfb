/**
 * The online learning schedule (thesis Algorithm 1, after offline pretraining): one critic +
 * recovery update per received transition, and every K updates a new version — exported,
 * validated and, when it passes the quality gate (src/learn/quality-gate.ts), released: no
 * worse than the last released version on the offline violation demos and on the online
 * episodes. It knows nothing of a wire: transitions come in through `add()`, and `release`
 * (the transport's part: sign, send) gets each version that passed.
 */
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import type { DriftStats } from '../core/drift-monitor.js';
import type { TransitionColumnsView } from '../data/transition-columns.js';
import { DriftTrigger } from './drift-trigger.js';
import type { AdaptationResult } from './online.js';
import { DEFAULT_GATE_TOLERANCE, gateDecision, gateVerdict, type GateScores } from './quality-gate.js';

/** What the schedule needs of the online learner (src/learn/online.ts). */
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
   * (src/learn/quality-gate.ts gateVerdict). Without evaluate() versions are released ungated.
   */
  evaluate?(): Promise<{ auroc: number; positives: number; rows: number; reference?: number } & Partial<GateScores>>;
  /** The current weights were released: they become the gate's reference. */
  acceptCurrent?(): void;
  /** The dynamics ensemble's retraining (model-based start models; src/learn/online-dynamics.ts), else null. */
  readonly dynamics?: unknown;
  /** Adapts the current weights from the last `transitions` received (src/learn/online.ts); needed by adaptOnDrift. */
  adapt?(o: { readonly transitions: number; readonly steps?: number }): Promise<AdaptationResult>;
}

/** One adaptation to a drift report, and what became of its version. */
export interface AdaptationRecord {
  /** The model the shield ran when it reported drift, and the report. */
  readonly model: string;
  readonly drift: DriftStats;
  readonly method: AdaptationResult['method'] | null;
  readonly rows: number;
  readonly violations: number;
  readonly steps: number;
  /** published: signed and sent; refused: held back by the quality gate; rejected: failed validation; failed: the adaptation threw. */
  readonly outcome: 'published' | 'refused' | 'rejected' | 'failed';
  readonly version: string | null;
  readonly note: string;
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

export interface OnlineScheduleOptions {
  readonly trainer: OnlineTrainerPort;
  /** A version every K updates. */
  readonly every: number;
  /** Gradient updates per received transition (Algorithm 1: 1). */
  readonly updatesPerTransition?: number;
  /** Updates run per slice before yielding to the event loop. */
  readonly sliceUpdates?: number;
  /** Where exported versions are written, one folder each. */
  readonly exportDir: string;
  /** Loads an exported version and checks it (IO, check batch); throws with the reason. */
  readonly validate: (dir: string) => Promise<void>;
  /** Version = `${versionPrefix}.${n}`. */
  readonly versionPrefix: string;
  /** Quality gate on (default) when the trainer can evaluate(); false releases every valid version. */
  readonly gate?: boolean;
  /** Allowed held-out AUROC drop below the reference (default 0.005). */
  readonly gateTolerance?: number;
  /** Sends a version that passed out (the transport: read, sign, publish). A rejection propagates. */
  readonly release: (dir: string, version: string) => Promise<void>;
  /** Awaited after each verdict that changes what a status shows (refused, released). */
  readonly afterVerdict?: () => Promise<void>;
  /**
   * Adapt when a shield reports drift (driftReported): from the last `transitions` received,
   * `steps` adaptation steps (default the learner's), then the usual gate and release.
   */
  readonly adaptOnDrift?: { readonly transitions: number; readonly steps?: number };
}

export interface OnlineScheduleEvents {
  published: [version: string];
  rejected: [version: string, reason: string];
  /** Held back by the quality gate (the learner keeps training; a later version may pass). */
  refused: [version: string, gate: GateRecord];
  /** Passed the quality gate (emitted before it is released). */
  gated: [version: string, gate: GateRecord];
  /** An adaptation to reported drift ran; its version's fate is in the record. */
  adapted: [record: AdaptationRecord];
}

/** The drift report in words. */
function driftNote(model: string, d: DriftStats): string {
  const td = d.tdErrorRms === null ? '' : `, TD-error RMS ${d.tdErrorRms.toFixed(4)}`;
  return `drift reported on ${model}: missed violations ${d.missedViolations} of ${d.violations}${td} over ${d.transitions} transitions`;
}

const finite = (x: number | undefined): number | null => (x !== undefined && Number.isFinite(x) ? Number(x.toFixed(4)) : null);

/** The gate's numbers as the released card's metrics. */
function gateMetrics(gate: GateRecord): Record<string, unknown> {
  const sets = gate.sets;
  const setMetrics = (s: NonNullable<GateRecord['sets']>['offline']): Record<string, unknown> => ({
    auroc: finite(s.candidate.auroc), caught: finite(s.candidate.caught), positives: s.candidate.positives, rows: s.candidate.rows,
  });
  return {
    auroc: finite(gate.auroc), validationPositives: gate.positives, validationTransitions: gate.rows, gateReferenceAuroc: finite(gate.reference),
    ...(sets === undefined ? {} : { gateOffline: setMetrics(sets.offline), gateOnline: setMetrics(sets.online) }),
  };
}

export class OnlineSchedule extends EventEmitter<OnlineScheduleEvents> {
  published = 0;
  rejected = 0;
  /** Versions the quality gate held back. */
  refused = 0;
  /** The gate's last verdict; undefined before the first version or with the gate off. */
  lastGate: GateRecord | undefined;
  lastLoss = { criticLoss: Number.NaN, recoveryLoss: Number.NaN };
  /** Adaptations to reported drift, by outcome. */
  readonly adaptations = { runs: 0, published: 0, refused: 0, rejected: 0, failed: 0 };
  lastAdaptation: AdaptationRecord | undefined;
  /** Transitions received in all. */
  received = 0;

  readonly #o: OnlineScheduleOptions;
  #owed = 0;
  #nextPublishAt: number;
  #work: Promise<void> | undefined;
  #stopped = false;
  /** AUROC of the last released version, for learners whose evaluate() gives no reference. */
  #publishedAuroc: number | undefined;
  readonly #trigger: DriftTrigger | undefined;
  #adaptDue: { model: string; drift: DriftStats } | undefined;

  constructor(options: OnlineScheduleOptions) {
    super();
    this.#o = options;
    this.#nextPublishAt = options.trainer.updates + options.every;
    const a = options.adaptOnDrift;
    if (a !== undefined && options.trainer.adapt === undefined) throw new Error('adaptOnDrift needs a learner that can adapt()');
    this.#trigger = a === undefined ? undefined : new DriftTrigger(a.transitions);
  }

  get updates(): number {
    return this.#o.trainer.updates;
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** The learner's dynamics retraining (JSON), null when it keeps none. */
  get dynamics(): unknown {
    return this.#o.trainer.dynamics ?? null;
  }

  get adaptsOnDrift(): boolean {
    return this.#trigger !== undefined;
  }

  /** One received batch: its rows go to the learner and owe their updates. */
  add(columns: TransitionColumnsView): void {
    if (this.#stopped) return;
    this.#o.trainer.addTransitions(columns);
    this.received += columns.size;
    this.#owed += columns.size * (this.#o.updatesPerTransition ?? 1);
    this.#kick();
  }

  /**
   * A shield's drift report (its telemetry) while it runs `model`. With adaptOnDrift, the
   * trigger (src/learn/drift-trigger.ts) decides whether to adapt now; the adaptation runs
   * between update slices and its version goes through publishVersion: gate, export, validate,
   * release — the path of every version.
   */
  driftReported(model: string, drift: DriftStats): void {
    if (this.#stopped || this.#trigger === undefined) return;
    if (!this.#trigger.report(model, drift.suspected, this.received)) return;
    this.#adaptDue = { model, drift };
    this.#kick();
  }

  /** Resolves when every update owed so far has run and any due version is released. */
  async idle(): Promise<void> {
    while (this.#work !== undefined) await this.#work;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.idle();
  }

  /**
   * Gates, exports, validates and releases the current model as version `${prefix}.${n}`.
   * Undefined when the gate refused it or validation failed.
   */
  async publishVersion(extraMetrics?: Readonly<Record<string, unknown>>): Promise<string | undefined> {
    const { trainer, versionPrefix } = this.#o;
    const version = `${versionPrefix}.${this.published + this.rejected + this.refused + 1}`;
    const dir = join(this.#o.exportDir, version);
    let gate: GateRecord | undefined;
    try {
      gate = await this.#judge(version);
      if (gate !== undefined) {
        this.lastGate = gate;
        if (!gate.publish) {
          this.refused++;
          this.emit('refused', version, gate);
          await this.#o.afterVerdict?.();
          return undefined;
        }
        this.emit('gated', version, gate);
      }
      const metrics = gate === undefined ? extraMetrics : { ...gateMetrics(gate), ...extraMetrics };
      await (metrics === undefined ? trainer.exportModel(dir, version) : trainer.exportModel(dir, version, metrics));
      await this.#o.validate(dir);
    } catch (err) {
      this.rejected++;
      this.emit('rejected', version, err instanceof Error ? err.message : String(err));
      return undefined;
    }
    await this.#o.release(dir, version);
    this.published++;
    if (gate !== undefined) {
      trainer.acceptCurrent?.();
      if (!Number.isNaN(gate.auroc)) this.#publishedAuroc = gate.auroc;
    }
    this.emit('published', version);
    await this.#o.afterVerdict?.();
    return version;
  }

  /** The gate's verdict on the current weights; undefined with the gate off or nothing to score. */
  async #judge(version: string): Promise<GateRecord | undefined> {
    const { trainer } = this.#o;
    if (this.#o.gate === false || trainer.evaluate === undefined) return undefined;
    const score = await trainer.evaluate();
    const reference = score.reference ?? this.#publishedAuroc;
    const tolerance = this.#o.gateTolerance ?? DEFAULT_GATE_TOLERANCE;
    const base = { version, auroc: score.auroc, reference, positives: score.positives, rows: score.rows };
    if (score.offline === undefined || score.online === undefined) return { ...base, ...gateDecision(score.auroc, reference, tolerance) };
    const v = gateVerdict({ offline: score.offline, online: score.online }, tolerance);
    return { ...base, publish: v.publish, note: v.note, sets: { offline: { ...score.offline, ...v.offline }, online: { ...score.online, ...v.online } } };
  }

  /** Runs owed updates in slices, yielding between them so messages keep flowing. */
  #kick(): void {
    if (this.#work !== undefined) return;
    this.#work = (async () => {
      try {
        const slice = this.#o.sliceUpdates ?? 32;
        const { trainer } = this.#o;
        while ((this.#owed > 0 || this.#adaptDue !== undefined) && !this.#stopped) {
          const due = this.#adaptDue;
          if (due !== undefined) {
            this.#adaptDue = undefined;
            await this.#adapt(due.model, due.drift);
            continue;
          }
          const toNext = this.#nextPublishAt - trainer.updates;
          const n = Math.max(1, Math.min(slice, this.#owed, toNext));
          this.lastLoss = { ...(await trainer.update(n)) };
          this.#owed -= n;
          if (trainer.updates >= this.#nextPublishAt) {
            this.#nextPublishAt = trainer.updates + this.#o.every;
            await this.publishVersion();
          }
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
      } finally {
        this.#work = undefined;
      }
    })();
  }

  /** Adapts, then gates and releases the result as any version; the trigger learns the outcome. */
  async #adapt(model: string, drift: DriftStats): Promise<void> {
    const { trainer } = this.#o;
    const a = this.#o.adaptOnDrift!;
    this.adaptations.runs++;
    const why = driftNote(model, drift);
    let record: AdaptationRecord;
    try {
      const r = await trainer.adapt!({ transitions: a.transitions, ...(a.steps !== undefined ? { steps: a.steps } : {}) });
      const before = { refused: this.refused, rejected: this.rejected };
      const adaptation = { reason: why, method: r.method, transitions: r.rows, violations: r.violations, steps: r.steps };
      const version = await this.publishVersion({ adaptation });
      const outcome = version !== undefined ? 'published' : this.refused > before.refused ? 'refused' : 'rejected';
      const verdict = outcome === 'refused' ? `; refused by the quality gate: ${this.lastGate?.note ?? ''}` : outcome === 'rejected' ? '; failed validation' : `; published ${version}`;
      record = { model, drift, method: r.method, rows: r.rows, violations: r.violations, steps: r.steps, outcome, version: version ?? null, note: `${why}; ${r.method} on the last ${r.rows} transitions (${r.violations} violations), ${r.steps} steps${verdict}` };
    } catch (err) {
      record = { model, drift, method: null, rows: 0, violations: 0, steps: 0, outcome: 'failed', version: null, note: `${why}; adaptation failed: ${err instanceof Error ? err.message : String(err)}` };
    }
    this.adaptations[record.outcome]++;
    this.lastAdaptation = record;
    this.#trigger!.settled(record.outcome === 'published', this.received);
    this.#nextPublishAt = trainer.updates + this.#o.every;
    this.emit('adapted', record);
    await this.#o.afterVerdict?.();
  }
}
