import type { RobotProfile } from '../../config/profile.js';
import type { McapRecorder } from '../../data/mcap-recorder.js';
import type { TransitionWriter } from '../../data/transition-writer.js';
import { ConstraintLabeler } from './constraints.js';
import { cdrCodec } from './msgs/cdr-codec.js';
import type { RosMsgType } from './msgs/definitions.js';
import type { HoldReason, ShieldNodeTap, TickInfo } from './shield-node.js';

export interface DemoRecorderOptions {
  readonly recorder: McapRecorder;
  readonly transitions: TransitionWriter;
  readonly profile: RobotProfile;
  /** Wall clock in ns since the epoch for MCAP log times. */
  readonly nowNs?: () => bigint;
  /** Record transitions from the start, without waiting for 'start' on the episode topic. */
  readonly autostart?: boolean;
  readonly log?: (line: string) => void;
}

/**
 * `rshield record` as a tap on the shield node: every profile topic goes into the MCAP file in
 * CDR (serialized against the official .msg definitions), and executed ticks become
 * transitions (s, a, c, s', done) on the transitions channel. c = C(s') from the profile's
 * constraint spec; a violation ends the episode (Recovery RL, thesis ch. 3), and the next
 * episode begins once the tip is out of violation again. Episodes start and stop on the
 * profile's episode topic ('start' / 'stop').
 */
export class DemoRecorder implements ShieldNodeTap {
  readonly #recorder: McapRecorder;
  readonly #transitions: TransitionWriter;
  readonly #labeler: ConstraintLabeler;
  readonly #nowNs: () => bigint;
  readonly #log: (line: string) => void;
  readonly #channels = new Map<string, number>();

  #recording: boolean;
  #episode = 0;
  #step = 0;
  #hasPending = false;
  readonly #obs = new Float32Array(3);
  readonly #act = new Float32Array(3);
  readonly #nextObs = new Float32Array(3);
  readonly #nextAct = new Float32Array(3);
  readonly #latest = new Float32Array(3);
  violations = 0;

  constructor(opts: DemoRecorderOptions) {
    this.#recorder = opts.recorder;
    this.#transitions = opts.transitions;
    this.#labeler = new ConstraintLabeler(opts.profile.constraints);
    this.#recording = opts.autostart ?? false;
    this.#log = opts.log ?? (() => undefined);
    const startEpochNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
    this.#nowNs = opts.nowNs ?? (() => startEpochNs + process.hrtime.bigint());
    // Channels for every profile topic up front, so a reader of a killed file knows them all.
    for (const spec of Object.values(opts.profile.topics)) {
      if (spec !== undefined) this.#channel(spec.topic, spec.type);
    }
  }

  get episodes(): number {
    return this.#episode;
  }

  get transitionCount(): number {
    return this.#transitions.count;
  }

  #channel(topic: string, type: RosMsgType): number {
    let id = this.#channels.get(topic);
    if (id === undefined) {
      id = this.#recorder.addChannel({ topic, schemaName: type, schemaText: cdrCodec(type).schemaText, encoding: 'cdr', schemaEncoding: 'ros2msg' });
      this.#channels.set(topic, id);
    }
    return id;
  }

  onMessage(topic: string, type: RosMsgType, message: object): void {
    if (this.#recorder.closed) return;
    this.#recorder.write(this.#channel(topic, type), this.#nowNs(), cdrCodec(type).encode(message));
    if (topic.endsWith('measured_cp')) {
      const p = (message as { pose: { position: { x: number; y: number; z: number } } }).pose.position;
      this.#latest[0] = p.x;
      this.#latest[1] = p.y;
      this.#latest[2] = p.z;
    }
  }

  onEpisode(command: string): void {
    if (command === 'start') {
      if (this.#recording) this.#endEpisode();
      this.#recording = true;
      this.#log(`episode ${this.#episode} started`);
    } else if (command === 'stop') {
      this.#endEpisode();
      this.#recording = false;
      this.#recorder.flush();
      this.#log(`stopped; ${this.#transitions.count} transitions, ${this.violations} violations so far`);
    }
  }

  onHold(_reason: HoldReason): void {
    // A hold breaks the chain of (s, a, s'): the arm did not execute a, so no transition spans it.
    this.#hasPending = false;
  }

  onTick(tick: TickInfo): void {
    if (!this.#recording) return;
    const violated = this.#labeler.violated(tick.obs[0]!, tick.obs[1]!, tick.obs[2]!);
    if (this.#hasPending) {
      this.#nextObs.set(tick.obs);
      this.#nextAct.set(tick.executed);
      this.#write(violated !== null, true);
      if (violated !== null) {
        this.violations++;
        this.#log(`violation (${violated}) ends episode ${this.#episode}`);
        this.#episode++;
        this.#step = 0;
        this.#hasPending = false;
        return;
      }
    } else if (violated !== null) {
      return; // wait until the tip is out of violation to begin an episode
    }
    this.#obs.set(tick.obs);
    this.#act.set(tick.executed);
    this.#hasPending = true;
  }

  /** Closes the episode: the pending step ends at the latest measured state. */
  #endEpisode(): void {
    if (this.#hasPending) {
      this.#nextObs.set(this.#latest);
      const c = this.#labeler.violated(this.#latest[0]!, this.#latest[1]!, this.#latest[2]!) !== null;
      if (c) this.violations++;
      this.#write(c, false, true);
    }
    if (this.#step > 0) this.#episode++;
    this.#step = 0;
    this.#hasPending = false;
  }

  #write(cost: boolean, withNextAct: boolean, forceDone = false): void {
    this.#transitions.write(
      {
        obs: this.#obs,
        act: this.#act,
        cost: cost ? 1 : 0,
        nextObs: this.#nextObs,
        done: cost || forceDone,
        episode: this.#episode,
        step: this.#step++,
        ...(withNextAct && !cost ? { nextAct: this.#nextAct } : {}),
      },
      this.#nowNs(),
    );
  }

  /** The recording's disk error, for /diagnostics (none while it writes). */
  faults(): readonly string[] {
    const f = this.#recorder.fault;
    return f === undefined ? [] : [`recording stopped: ${f}`];
  }

  /** Ends the open episode and flushes; the caller closes the file. */
  finish(): void {
    this.#endEpisode();
    if (!this.#recorder.closed) this.#recorder.flush();
  }
}
