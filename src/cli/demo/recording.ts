/**
 * The MCAP recording of a shielded demo run: the transitions channel that `rshield train`
 * reads, plus per shielded tick a decision (proposed and executed action, Q_risk, source) and
 * the q_risk / intervention topics a ROS 2 shield publishes. Every channel is CDR with a
 * `ros2msg` schema, so `ros2 bag info` and `ros2 bag play` open the file (rosbag2 refuses a bag
 * that mixes serialization formats) and Foxglove plots it; docs/datasets.md lists the channels.
 */
import { parse } from '@foxglove/rosmsg';
import { MessageWriter } from '@foxglove/rosmsg2-serialization';
import { McapRecorder, TransitionWriter, specMeta } from '../../data/index.js';
import { FramedTransitionWriter } from '../../transport/ros2/image-frames.js';
import { renderFrame, type Camera } from '../../envs/index.js';
import type { TickRecord } from '../../core/episode-runner.js';
import type { EnvSpec, Transition } from '../../core/types.js';
import { cdrCodec, type CdrCodec } from '../../transport/ros2/msgs/cdr-codec.js';

/** One simulated tick is logged 10 ms after the previous one. */
const TICK_NS = 10_000_000n;

export const DECISION_SCHEMA_NAME = 'rshield_msgs/msg/Decision';
export const DECISION_SCHEMA_TEXT = [
  '# One shielded decision of `rshield demo`, per tick.',
  'uint32 episode',
  'uint32 step',
  '# The controller\'s proposed action and the action executed',
  'float32[] proposed',
  'float32[] action',
  '# Q_risk of the proposed action; NaN when the critic was not consulted',
  'float64 q_risk',
  '# task, recovery or failsafe',
  'string source',
  '',
].join('\n');

interface DecisionMessage {
  episode: number;
  step: number;
  proposed: Float32Array;
  action: Float32Array;
  q_risk: number;
  source: string;
}

export class DemoRecording {
  readonly #decisionWriter = new MessageWriter(parse(DECISION_SCHEMA_TEXT, { ros2: true }));
  readonly #decision: DecisionMessage = { episode: 0, step: 0, proposed: new Float32Array(0), action: new Float32Array(0), q_risk: Number.NaN, source: '' };
  readonly #float64: CdrCodec = cdrCodec('std_msgs/msg/Float64');
  readonly #bool: CdrCodec = cdrCodec('std_msgs/msg/Bool');
  readonly #qRiskMsg = { data: 0 };
  readonly #interventionMsg = { data: false };
  #tick = 0n;

  private constructor(
    private readonly recorder: McapRecorder,
    private readonly transitions: TransitionWriter,
    private readonly channels: { readonly decisions: number; readonly qRisk: number; readonly intervention: number },
    private readonly startNs: bigint,
    private readonly framed: FramedTransitionWriter | null,
  ) {}

  /** With `camera`, each state's frame goes on the camera channel too (docs/images.md). */
  static open(path: string, spec: EnvSpec, seed: number, episodes: number, camera: Camera | null = null): DemoRecording {
    const recorder = McapRecorder.open(path);
    const startNs = BigInt(Date.now()) * 1_000_000n;
    const transitions = TransitionWriter.attach(recorder, {
      ...specMeta(spec),
      generator: `rshield demo: shielded scripted controller, ${episodes} episodes`,
      seed,
      requested: 0,
    }, { startTimeNs: startNs });
    const std = (topic: string, type: 'std_msgs/msg/Float64' | 'std_msgs/msg/Bool'): number =>
      recorder.addChannel({ topic, schemaName: type, schemaText: cdrCodec(type).schemaText });
    const channels = {
      decisions: recorder.addChannel({ topic: '/rshield/decisions', schemaName: DECISION_SCHEMA_NAME, schemaText: DECISION_SCHEMA_TEXT }),
      qRisk: std('/rshield/q_risk', 'std_msgs/msg/Float64'),
      intervention: std('/rshield/intervention', 'std_msgs/msg/Bool'),
    };
    const framed = camera === null ? null : new FramedTransitionWriter(transitions, (obs) => renderFrame(camera, obs), startNs, TICK_NS);
    return new DemoRecording(recorder, transitions, channels, startNs, framed);
  }

  /** One simulated tick is logged 10 ms after the previous one. */
  write(t: Transition, tick: TickRecord): void {
    const time = this.startNs + this.#tick * TICK_NS;
    this.#tick++;
    if (this.framed === null) this.transitions.write(t, time);
    else this.framed.add(t);
    if (tick.source === 'unshielded') return;
    const d = this.#decision;
    d.episode = t.episode;
    d.step = t.step;
    d.proposed = tick.proposed;
    d.action = t.act;
    d.q_risk = tick.qRisk;
    d.source = tick.source;
    this.recorder.write(this.channels.decisions, time, this.#decisionWriter.writeMessage(d));
    this.#qRiskMsg.data = tick.qRisk;
    this.recorder.write(this.channels.qRisk, time, this.#float64.encode(this.#qRiskMsg));
    this.#interventionMsg.data = tick.source !== 'task';
    this.recorder.write(this.channels.intervention, time, this.#bool.encode(this.#interventionMsg));
  }

  get count(): number {
    return this.transitions.count;
  }

  close(): void {
    this.framed?.finish();
    this.transitions.close();
    this.recorder.close();
  }
}
