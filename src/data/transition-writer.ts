import { RShieldError } from '../core/errors.js';
import type { EnvSpec, Transition } from '../core/types.js';
import { DATASET_FORMAT, DATASET_METADATA_NAME, encodeDatasetMeta, type DatasetMeta } from './dataset-meta.js';
import { McapRecorder, type McapRecorderOptions } from './mcap-recorder.js';
import { packageVersion } from './package-version.js';
import { TRANSITION_SCHEMA_NAME, TRANSITION_SCHEMA_TEXT, TRANSITIONS_TOPIC, TransitionCodec } from './transition-message.js';

/** Dataset metadata as a writer takes it: version and creation time default to now. */
export type TransitionWriterMeta = Omit<DatasetMeta, 'version' | 'created' | 'obsNames' | 'units' | 'params'> &
  Partial<Pick<DatasetMeta, 'version' | 'created' | 'obsNames' | 'units' | 'params'>>;

/** The part of a dataset's metadata that a robot's spec determines. */
export function specMeta(spec: EnvSpec): Pick<DatasetMeta, 'robot' | 'obsDim' | 'actDim' | 'actLow' | 'actHigh' | 'obsNames' | 'units'> {
  return { robot: spec.name, obsDim: spec.obsDim, actDim: spec.actDim, actLow: spec.actLow, actHigh: spec.actHigh, obsNames: spec.obsNames, units: spec.units };
}

export interface TransitionWriterOptions extends McapRecorderOptions {
  /** Log time of the first transition in ns since the epoch (default: the wall clock at open). */
  readonly startTimeNs?: bigint;
  /** Log time between successive transitions in ns when `write` is given none (default 1 ms). */
  readonly periodNs?: bigint;
}

/**
 * Writes transitions on the `/rshield/transitions` channel, with the dataset's `rshield`
 * metadata record, to a new MCAP file or to a recorder that also records other channels.
 */
export class TransitionWriter {
  readonly recorder: McapRecorder;
  readonly meta: DatasetMeta;
  readonly #channel: number;
  readonly #codec = new TransitionCodec();
  readonly #owns: boolean;
  readonly #startNs: bigint;
  readonly #periodNs: bigint;
  #count = 0;

  private constructor(recorder: McapRecorder, meta: TransitionWriterMeta, opts: TransitionWriterOptions, owns: boolean) {
    this.recorder = recorder;
    this.#owns = owns;
    this.#startNs = opts.startTimeNs ?? BigInt(Date.now()) * 1_000_000n;
    this.#periodNs = opts.periodNs ?? 1_000_000n;
    this.meta = {
      ...meta,
      version: meta.version ?? packageVersion(),
      created: meta.created ?? new Date().toISOString(),
      obsNames: meta.obsNames ?? [],
      units: meta.units ?? '',
      params: meta.params ?? {},
    };
    if (meta.actLow.length !== meta.actDim || meta.actHigh.length !== meta.actDim) {
      throw new RShieldError('E_USAGE', `actLow has ${meta.actLow.length} and actHigh ${meta.actHigh.length} values, actDim is ${meta.actDim}`);
    }
    recorder.addMetadata(DATASET_METADATA_NAME, encodeDatasetMeta(this.meta));
    this.#channel = recorder.addChannel({
      topic: TRANSITIONS_TOPIC,
      schemaName: TRANSITION_SCHEMA_NAME,
      schemaText: TRANSITION_SCHEMA_TEXT,
      metadata: { format: DATASET_FORMAT, robot: meta.robot },
    });
  }

  /** Creates `path` and writes transitions to it; `close` finishes the file. */
  static open(path: string, meta: TransitionWriterMeta, opts: TransitionWriterOptions = {}): TransitionWriter {
    const recorder = McapRecorder.open(path, opts);
    try {
      return new TransitionWriter(recorder, meta, opts, true);
    } catch (err) {
      recorder.close();
      throw err;
    }
  }

  /** Adds the transitions channel to a recorder owned by the caller (`close` leaves it open). */
  static attach(recorder: McapRecorder, meta: TransitionWriterMeta, opts: TransitionWriterOptions = {}): TransitionWriter {
    return new TransitionWriter(recorder, meta, opts, false);
  }

  /** Transitions written so far. */
  get count(): number {
    return this.#count;
  }

  /** Appends one transition; its vectors must have the dataset's dimensions. */
  write(t: Transition, logTimeNs?: bigint): void {
    const { obsDim, actDim } = this.meta;
    const bad =
      t.obs.length !== obsDim ? `obs has ${t.obs.length} values, dataset expects ${obsDim}`
      : t.nextObs.length !== obsDim ? `nextObs has ${t.nextObs.length} values, dataset expects ${obsDim}`
      : t.act.length !== actDim ? `act has ${t.act.length} values, dataset expects ${actDim}`
      : t.nextAct !== undefined && t.nextAct.length !== actDim ? `nextAct has ${t.nextAct.length} values, dataset expects ${actDim}`
      : undefined;
    if (bad !== undefined) {
      throw new RShieldError('E_DATA', `transition ${this.#count} (episode ${t.episode}, step ${t.step}): ${bad}`, { robot: this.meta.robot });
    }
    const time = logTimeNs ?? this.#startNs + BigInt(this.#count) * this.#periodNs;
    this.recorder.write(this.#channel, time, this.#codec.encode(t));
    this.#count++;
  }

  /** Closes the file when this writer opened it; otherwise writes the open chunk. */
  close(): void {
    if (this.#owns) this.recorder.close();
    else if (!this.recorder.closed) this.recorder.flush();
  }
}
