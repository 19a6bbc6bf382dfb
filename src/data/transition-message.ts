import { parse } from '@foxglove/rosmsg';
import { MessageReader, MessageWriter } from '@foxglove/rosmsg2-serialization';
import type { Transition } from '../core/types.js';

/**
 * The ROS 2 message that carries one transition (s, a, c, s', done) on the transitions
 * channel. It is an ordinary `ros2msg` definition so Foxglove and `ros2 bag` decode the CDR
 * payload without rshield; docs/datasets.md lists the fields.
 */
export const TRANSITION_SCHEMA_NAME = 'rshield_msgs/msg/Transition';
export const TRANSITIONS_TOPIC = '/rshield/transitions';

export const TRANSITION_SCHEMA_TEXT = [
  '# One transition (s, a, c, s\', done) of a robot, as rshield records it for training.',
  '# Observation s (EnvSpec.obsNames order, EnvSpec.units)',
  'float32[] obs',
  '# Action a that was executed at s',
  'float32[] act',
  '# Constraint cost c in {0, 1}: s\' violates a constraint',
  'float32 cost',
  '# Next observation s\'',
  'float32[] next_obs',
  '# The episode ended at s\' (violation, success or horizon)',
  'bool done',
  'uint32 episode',
  'uint32 step',
  '# next_act holds the action taken at s\' in the same episode when has_next_act is true',
  'bool has_next_act',
  'float32[] next_act',
  '',
].join('\n');

/** The CDR field layout, as MessageWriter and MessageReader see it. */
export interface TransitionMessage {
  obs: Float32Array;
  act: Float32Array;
  cost: number;
  next_obs: Float32Array;
  done: boolean;
  episode: number;
  step: number;
  has_next_act: boolean;
  next_act: Float32Array;
}

const EMPTY = new Float32Array(0);

/** Encodes and decodes transitions as CDR with the schema above. */
export class TransitionCodec {
  readonly #writer: MessageWriter;
  readonly #reader: MessageReader<TransitionMessage>;
  /** One message object reused for every encode: its fields are overwritten each time. */
  readonly #scratch: TransitionMessage = {
    obs: EMPTY, act: EMPTY, cost: 0, next_obs: EMPTY, done: false, episode: 0, step: 0, has_next_act: false, next_act: EMPTY,
  };

  constructor() {
    const definitions = parse(TRANSITION_SCHEMA_TEXT, { ros2: true });
    this.#writer = new MessageWriter(definitions);
    this.#reader = new MessageReader<TransitionMessage>(definitions);
  }

  encode(t: Transition): Uint8Array {
    const m = this.#scratch;
    m.obs = t.obs;
    m.act = t.act;
    m.cost = t.cost;
    m.next_obs = t.nextObs;
    m.done = t.done;
    m.episode = t.episode;
    m.step = t.step;
    m.has_next_act = t.nextAct !== undefined;
    m.next_act = t.nextAct ?? EMPTY;
    return this.#writer.writeMessage(m);
  }

  decode(data: ArrayBufferView): TransitionMessage {
    return this.#reader.readMessage(data);
  }
}
