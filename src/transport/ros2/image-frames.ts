/**
 * Camera frames in a dataset: a `sensor_msgs/msg/Image` (CDR) channel beside the transitions,
 * so Foxglove and `ros2 bag` show the camera. Each transition's state has its frame at the
 * transition's log time; where the next state is not the next transition's (an episode's
 * last step), its frame follows 1 ns later. Written as the transitions are (the recorder's
 * chunks stream to disk); read back as one frame per row and per next state.
 */
import type { McapTypes } from '@mcap/core';
import { RShieldError } from '../../core/errors.js';
import type { ImageFrame } from '../../core/image-frame.js';
import type { Transition } from '../../core/types.js';
import { cdrCodec } from './msgs/cdr-codec.js';
import { frameOfMessage, imageMessage, type ImageMessage } from './msgs/image-message.js';
import { FRAMES_TOPIC, TRANSITIONS_TOPIC, type McapRecorder, type RecordedFrames, type TransitionWriter } from '../../data/index.js';
import { streamMcap } from '../../data/stream-mcap.js';

const IMAGE_TYPE = 'sensor_msgs/msg/Image';

/**
 * Writes transitions with their frames: `add` buffers one transition to know whether the next
 * one continues its episode (then the next state's frame is that transition's own).
 */
export class FramedTransitionWriter {
  readonly #recorder: McapRecorder;
  readonly #channel: number;
  readonly #codec = cdrCodec(IMAGE_TYPE);
  #held: { t: Transition; timeNs: bigint } | null = null;
  #frames = 0;

  constructor(
    private readonly transitions: TransitionWriter,
    private readonly render: (obs: Float32Array) => ImageFrame,
    private readonly startNs: bigint,
    private readonly periodNs: bigint,
    private readonly frameId = 'camera',
  ) {
    this.#recorder = transitions.recorder;
    this.#channel = this.#recorder.addChannel({ topic: FRAMES_TOPIC, schemaName: IMAGE_TYPE, schemaText: this.#codec.schemaText });
  }

  get frames(): number {
    return this.#frames;
  }

  add(t: Transition): void {
    const timeNs = this.startNs + BigInt(this.transitions.count) * this.periodNs;
    this.#release(t);
    this.transitions.write(t, timeNs);
    this.#frame(t.obs, timeNs);
    this.#held = { t, timeNs };
  }

  /** Writes the last transition's next frame; call before closing the transitions writer. */
  finish(): void {
    this.#release(null);
  }

  /** The held transition's next state gets its own frame unless `next` continues from it. */
  #release(next: Transition | null): void {
    const h = this.#held;
    if (h === null) return;
    this.#held = null;
    const continues = next !== null && !h.t.done && next.episode === h.t.episode && next.step === h.t.step + 1;
    if (!continues) this.#frame(h.t.nextObs, h.timeNs + 1n);
  }

  #frame(obs: Float32Array, timeNs: bigint): void {
    this.#recorder.write(this.#channel, timeNs, this.#codec.encode(imageMessage(this.render(obs), timeNs, this.frameId)));
    this.#frames++;
  }
}

/**
 * Reads the frames channel of each file and pairs frames with transitions by log time; null
 * when no file has frames. E_DATA naming the file when only some files have frames, a frame
 * has another size or encoding than the first, or a transition has no frame for its state or
 * its next state.
 */
export async function readFrames(paths: readonly string[]): Promise<RecordedFrames | null> {
  const codec = cdrCodec(IMAGE_TYPE);
  let shape: { width: number; height: number; encoding: string } | null = null;
  const perFile: { path: string; times: bigint[]; frames: Map<bigint, Uint8Array> }[] = [];
  for (const path of paths) {
    const channels = new Map<number, string>();
    const times: bigint[] = [];
    const frames = new Map<bigint, Uint8Array>();
    const onRecord = (r: McapTypes.TypedMcapRecord): void => {
      if (r.type === 'Channel') channels.set(r.id, r.topic);
      if (r.type !== 'Message') return;
      const topic = channels.get(r.channelId);
      if (topic === TRANSITIONS_TOPIC) times.push(r.logTime);
      if (topic !== FRAMES_TOPIC) return;
      const m = frameOfMessage(codec.decode<ImageMessage>(r.data));
      if (shape === null) shape = { width: m.width, height: m.height, encoding: m.encoding };
      else if (m.width !== shape.width || m.height !== shape.height || m.encoding !== shape.encoding) {
        throw new RShieldError('E_DATA', `${path}: frame at ${r.logTime} ns is ${m.width}×${m.height} ${m.encoding}, earlier frames are ${shape.width}×${shape.height} ${shape.encoding}`, { file: path });
      }
      frames.set(r.logTime, m.data.slice()); // a copy: a view would keep its whole chunk alive
    };
    await streamMcap(path, onRecord, () => `(frames, ${frames.size} read)`);
    perFile.push({ path, times, frames });
  }
  const s = shape as { width: number; height: number; encoding: string } | null;
  if (s === null) return null;
  const without = perFile.find((f) => f.frames.size === 0);
  if (without !== undefined) throw new RShieldError('E_DATA', `${without.path}: no camera frames on ${FRAMES_TOPIC}, other files of the dataset have them`, { file: without.path });
  const obs: Uint8Array[] = [];
  const next: Uint8Array[] = [];
  for (const { path, times, frames } of perFile) {
    times.forEach((t, i) => {
      const own = frames.get(t);
      const nxt = frames.get(t + 1n) ?? (i + 1 < times.length ? frames.get(times[i + 1]!) : undefined);
      if (own === undefined || nxt === undefined) {
        throw new RShieldError('E_DATA', `${path}: transition ${i} (log time ${t} ns) has no frame for its ${own === undefined ? 'state' : 'next state'}`, { file: path });
      }
      obs.push(own);
      next.push(nxt);
    });
  }
  return { ...s, obs, next };
}
