import type { McapTypes } from '@mcap/core';
import type { RobotProfile } from '../../config/profile.js';
import { RShieldError } from '../../core/errors.js';
import type { Dataset, DatasetFile } from '../../data/dataset.js';
import { DatasetBuilder } from '../../data/dataset-builder.js';
import type { DatasetMeta } from '../../data/dataset-meta.js';
import { packageVersion } from '../../data/package-version.js';
import { streamMcap } from '../../data/stream-mcap.js';
import { EpisodeLabeler } from './episode-labeler.js';
import { cdrCodec } from './msgs/cdr-codec.js';
import { profileDatasetMeta } from './open-demo-recording.js';

type Kind = 'state' | 'goal' | 'hold' | 'episode';

interface BagEvent {
  readonly kind: Kind;
  readonly timeNs: bigint;
  readonly data: Uint8Array;
}

interface PoseMsg {
  header: { stamp: { sec: number; nanosec: number } };
  pose: { position: { x: number; y: number; z: number } };
}

/**
 * Reads ROS 2 bags (MCAP, e.g. `ros2 bag record -s mcap`) of a robot's topics into a dataset,
 * through the profile: each goal sent to the arm (`commandOut`, /PSM1/servo_cp) is one tick,
 * with s = the latest `measuredCp` tip before it and a = goal − tip (what the shield node
 * executes); labelled by the same EpisodeLabeler as `rshield record` (c = C(s'), a violation
 * ends the episode). Episodes come from the `episode` topic when the bag has it, else the
 * bag is one stream of episodes split by violations. A `hold`, state older than the profile's
 * `staleAfterMs` (by log time), a zero-stamped state (the dVRK's invalid mark) or a step longer
 * than the profile's hard limit `maxStepM` breaks the (s, a, s') chain.
 * Messages are taken in log-time order; a truncated bag yields its complete chunks.
 */
export async function readRosBagDataset(paths: readonly string[], profile: RobotProfile): Promise<Dataset> {
  if (paths.length === 0) throw new RShieldError('E_USAGE', 'readRosBagDataset needs at least one file');
  const builder = new DatasetBuilder(3, 3);
  const files: DatasetFile[] = [];
  let meta: DatasetMeta | undefined;
  for (const path of paths) {
    const before = builder.size;
    const { events, complete, bytesDiscarded, startNs } = await readEvents(path, profile);
    const fileMeta: DatasetMeta = {
      ...profileDatasetMeta(profile, `ros2 bag ${path} via profile ${profile.name}`),
      version: packageVersion(),
      created: new Date(Number(startNs / 1_000_000n)).toISOString(),
    };
    meta ??= fileMeta;
    label(events, profile, builder, builder.size === 0 ? 0 : builder.maxEpisode() + 1);
    files.push({ path, meta: fileMeta, transitions: builder.size - before, complete, bytesDiscarded });
  }
  return builder.finish(meta!, files);
}

async function readEvents(path: string, profile: RobotProfile): Promise<{ events: BagEvent[]; complete: boolean; bytesDiscarded: number; startNs: bigint }> {
  const t = profile.topics;
  const wanted = new Map<string, { kind: Kind; type: string }>([
    [t.measuredCp.topic, { kind: 'state', type: t.measuredCp.type }],
    [t.commandOut.topic, { kind: 'goal', type: t.commandOut.type }],
    [t.hold.topic, { kind: 'hold', type: t.hold.type }],
    [t.episode.topic, { kind: 'episode', type: t.episode.type }],
  ]);
  const schemas = new Map<number, McapTypes.Schema>();
  const channels = new Map<number, Kind>();
  const topics = new Set<string>();
  const events: BagEvent[] = [];
  const { complete, bytesDiscarded } = await streamMcap(path, (r) => {
    if (r.type === 'Schema') schemas.set(r.id, r);
    else if (r.type === 'Channel') {
      topics.add(r.topic);
      const want = wanted.get(r.topic);
      if (want === undefined) return;
      const type = schemas.get(r.schemaId)?.name ?? '?';
      if (type !== want.type || r.messageEncoding !== 'cdr') {
        throw new RShieldError('E_DATA', `${path}: topic ${r.topic} has type '${type}' (${r.messageEncoding}), profile ${profile.name} expects ${want.type} (cdr)`, { file: path, topic: r.topic });
      }
      channels.set(r.id, want.kind);
    } else if (r.type === 'Message') {
      const kind = channels.get(r.channelId);
      if (kind !== undefined) events.push({ kind, timeNs: r.logTime, data: r.data });
    }
  }, () => `after ${events.length} messages of the profile's topics`);
  for (const need of [t.measuredCp.topic, t.commandOut.topic]) {
    if (!topics.has(need)) {
      throw new RShieldError('E_DATA', `${path} has no ${need} (profile ${profile.name}); topics: ${[...topics].join(', ') || 'none'}`, { file: path, topic: need });
    }
  }
  events.sort((a, b) => (a.timeNs < b.timeNs ? -1 : a.timeNs > b.timeNs ? 1 : 0));
  return { events, complete, bytesDiscarded, startNs: events[0]?.timeNs ?? 0n };
}

function label(events: readonly BagEvent[], profile: RobotProfile, builder: DatasetBuilder, episodeOffset: number): void {
  const pose = cdrCodec('geometry_msgs/msg/PoseStamped');
  const text = cdrCodec('std_msgs/msg/String');
  let nowNs = 0n;
  const labeler = new EpisodeLabeler({
    sink: { write: (tr) => builder.add(tr, episodeOffset), get count() { return builder.size; } },
    constraints: profile.constraints,
    nowNs: () => nowNs,
    autostart: !events.some((e) => e.kind === 'episode'),
  });
  const staleNs = BigInt(Math.round(profile.staleAfterMs * 1e6));
  const maxStep = profile.limits.maxStepM * (1 + 1e-6);
  // Float64, as the node computes goal − tip before storing the step as float32.
  const tip = new Float64Array(3);
  const step = new Float64Array(3);
  let stateNs = -1n;
  let stateValid = false;
  for (const e of events) {
    nowNs = e.timeNs;
    switch (e.kind) {
      case 'state': {
        const m = pose.decode<PoseMsg>(e.data);
        const p = m.pose.position;
        tip[0] = p.x;
        tip[1] = p.y;
        tip[2] = p.z;
        stateNs = e.timeNs;
        stateValid = (m.header.stamp.sec !== 0 || m.header.stamp.nanosec !== 0) && Number.isFinite(p.x + p.y + p.z);
        labeler.state(p.x, p.y, p.z);
        break;
      }
      case 'goal': {
        if (!stateValid || stateNs < 0n || e.timeNs - stateNs > staleNs) {
          labeler.hold();
          break;
        }
        const g = pose.decode<PoseMsg>(e.data).pose.position;
        step[0] = g.x - tip[0]!;
        step[1] = g.y - tip[1]!;
        step[2] = g.z - tip[2]!;
        // A step longer than the hard limit is not one the shield executed (it clamps) nor one the
        // dataset's action bounds hold: the recorder saw a newer state before this goal than the
        // shield did (topics interleave differently under load). The tip it moved from is unknown.
        const norm = Math.hypot(step[0], step[1], step[2]);
        if (Number.isFinite(norm) && norm <= maxStep) labeler.tick(tip, step);
        else labeler.hold();
        break;
      }
      case 'hold':
        labeler.hold();
        break;
      case 'episode':
        labeler.episode(text.decode<{ data: string }>(e.data).data.trim().toLowerCase());
        break;
    }
  }
  labeler.finish();
}
