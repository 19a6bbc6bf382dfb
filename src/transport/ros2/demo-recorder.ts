import type { RobotProfile } from '../../config/profile.js';
import type { McapRecorder } from '../../data/mcap-recorder.js';
import type { TransitionWriter } from '../../data/transition-writer.js';
import { EpisodeLabeler } from './episode-labeler.js';
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
 * transitions on the transitions channel, labelled by an EpisodeLabeler (c = C(s') from the
 * profile's constraint spec; episodes from the profile's episode topic, 'start' / 'stop').
 */
export class DemoRecorder implements ShieldNodeTap {
  readonly #recorder: McapRecorder;
  readonly #labeler: EpisodeLabeler;
  readonly #nowNs: () => bigint;
  readonly #channels = new Map<string, number>();
  readonly #measuredCp: string;

  constructor(opts: DemoRecorderOptions) {
    this.#recorder = opts.recorder;
    const startEpochNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
    this.#nowNs = opts.nowNs ?? (() => startEpochNs + process.hrtime.bigint());
    this.#labeler = new EpisodeLabeler({
      sink: opts.transitions,
      constraints: opts.profile.constraints,
      nowNs: this.#nowNs,
      ...(opts.autostart !== undefined ? { autostart: opts.autostart } : {}),
      ...(opts.log ? { log: opts.log } : {}),
    });
    this.#measuredCp = opts.profile.topics.measuredCp.topic;
    // Channels for every profile topic up front, so a reader of a killed file knows them all.
    for (const spec of Object.values(opts.profile.topics)) {
      if (spec !== undefined) this.#channel(spec.topic, spec.type);
    }
  }

  get episodes(): number {
    return this.#labeler.episodes;
  }

  get transitionCount(): number {
    return this.#labeler.transitionCount;
  }

  get violations(): number {
    return this.#labeler.violations;
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
    if (topic === this.#measuredCp) {
      const p = (message as { pose: { position: { x: number; y: number; z: number } } }).pose.position;
      this.#labeler.state(p.x, p.y, p.z);
    }
  }

  onEpisode(command: string): void {
    this.#labeler.episode(command);
    if (command === 'stop') this.#recorder.flush();
  }

  onHold(_reason: HoldReason): void {
    this.#labeler.hold();
  }

  onTick(tick: TickInfo): void {
    this.#labeler.tick(tick.obs, tick.executed);
  }

  /** The recording's disk error, for /diagnostics (none while it writes). */
  faults(): readonly string[] {
    const f = this.#recorder.fault;
    return f === undefined ? [] : [`recording stopped: ${f}`];
  }

  /** Ends the open episode and flushes; the caller closes the file. */
  finish(): void {
    this.#labeler.finish();
    if (!this.#recorder.closed) this.#recorder.flush();
  }
}
