// `rshield record` end to end on the fake rclnodejs: params file (/** keys), pass-through with
// hard limits, a simulated PSM driven into its stay-out zone, episodes from the topic, MCAP out.
import t from 'tap';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { McapStreamReader, type McapTypes } from '@mcap/core';
import { readDataset } from '../../../src/data/read-dataset.js';
import { readRosBagDataset } from '../../../src/transport/ros2/bag-dataset.js';
import { createEnv } from '../../../src/envs/index.js';
import { PassThroughShield } from '../../../src/core/shield-port.js';
import { cdrCodec } from '../../../src/transport/ros2/msgs/cdr-codec.js';
import { openDemoRecording } from '../../../src/transport/ros2/open-demo-recording.js';
import { runRos2Shield } from '../../../src/app/ros2-shield.js';
import type { ShieldNode } from '../../../src/transport/ros2/shield-node.js';
import { SimController, SimPsm } from '../../../src/transport/ros2/sim-node.js';
import { createFakeRclnodejs, settle, fakeClock } from './fake-rclnodejs.js';

/** An operator that heads for the stay-out post at 3 mm per step. */
const operator = {
  act(obs: Float32Array): Float32Array {
    const d = [0.075 - obs[0]!, 0.07 - obs[1]!, -0.14 - obs[2]!];
    const n = Math.hypot(...d);
    const k = Math.min(1, 0.003 / n);
    return Float32Array.from(d.map((v) => v * k));
  },
  reset: () => undefined,
};

void t.test('records raw topics in CDR and labelled transitions; a violation ends the episode', async (t) => {
  const dir = t.testdir({});
  const out = join(dir, 'demos.mcap');
  const params = join(dir, 'record.params.yaml');
  // Only `/**` and the bare node name reach an rclnodejs node; the fully qualified key is ignored.
  await writeFile(params, `/**:\n  ros__parameters:\n    profile: dvrk-reacher\n    record_out: ${out}\n/PSM1/rshield_record:\n  ros__parameters:\n    profile: psm-nonexistent\n`);
  const rcl = createFakeRclnodejs();
  const abort = new AbortController();
  let sim: SimPsm | undefined;
  let started: ShieldNode | undefined;
  let recording: ReturnType<typeof openDemoRecording> | undefined;
  const lines: string[] = [];
  const done = runRos2Shield({
    rcl,
    rosArgs: ['--ros-args', '-r', '__node:=rshield_record', '--params-file', params],
    nodeName: 'rshield_record',
    shield: new PassThroughShield(3),
    clock: fakeClock(rcl.ros),
    signal: abort.signal,
    log: (l) => lines.push(l),
    makeTap: (profile, p) => {
      // Log times on the node's (manual) clock: staleness read back from the file then matches the node's.
      recording = openDemoRecording(p.record_out, profile, { log: (l) => lines.push(l), nowNs: () => BigInt(Math.round((rcl.ros.epochMs + rcl.ros.nowMs) * 1e6)) });
      return recording.tap;
    },
    beforeExit: () => recording?.close(),
    onStarted: (shield) => {
      started = shield;
      const node = new rcl.Node('sim');
      sim = new SimPsm({ rcl, node, profile: shield.profile, env: createEnv('dvrk-reacher', { seed: 3 }), seed: 3 });
      new SimController({ rcl, node, profile: shield.profile, controller: operator, rateHz: 50 });
      node.spin();
      sim.start();
    },
  });
  await settle();
  t.ok(started, 'node started');
  const peer = new rcl.Node('operator_console');
  peer.spin();
  const episode = peer.createPublisher('std_msgs/msg/String', started!.profile.topics.episode.topic);
  await rcl.ros.advance(200);
  episode.publish({ data: 'start' });
  await rcl.ros.advance(3000);
  episode.publish({ data: 'stop' });
  await settle();
  abort.abort();
  t.equal(await done, 0, 'exits 0');
  t.ok(lines.some((l) => /violation \(post\) ends episode 0/.test(l)), 'the violation was labelled from the profile');
  t.ok(sim!.steps > 10, `the sim moved (${sim!.steps} steps)`);

  const ds = await readDataset([out]);
  t.equal(ds.meta.robot, 'dvrk-reacher');
  t.ok(ds.size > 5, `${ds.size} transitions`);
  t.ok(ds.files[0]!.complete, 'closed cleanly');
  const violations = [...ds.cost].filter((c) => c === 1).length;
  t.ok(violations >= 1, 'at least one violation');
  const firstViolation = ds.cost.indexOf(1);
  t.equal(ds.done[firstViolation], 1, 'a violation ends the episode');
  t.equal(ds.episode[firstViolation], 0);
  for (let i = 0; i < ds.size; i++) {
    const step = Math.hypot(ds.act[3 * i]!, ds.act[3 * i + 1]!, ds.act[3 * i + 2]!);
    if (step > 0.009 + 1e-6) t.fail(`transition ${i} executed ${step} m, over the hard limit`);
  }

  // Raw topics: CDR channels with ros2msg schemas, decodable.
  const reader = new McapStreamReader();
  reader.append(await readFile(out));
  const channels = new Map<number, McapTypes.Channel>();
  const schemas = new Map<number, McapTypes.Schema>();
  const counts = new Map<string, number>();
  let firstCp: Uint8Array | undefined;
  for (let r; (r = reader.nextRecord()); ) {
    if (r.type === 'Schema') schemas.set(r.id, r);
    if (r.type === 'Channel') channels.set(r.id, r);
    if (r.type === 'Message') {
      const ch = channels.get(r.channelId)!;
      counts.set(ch.topic, (counts.get(ch.topic) ?? 0) + 1);
      if (ch.topic === '/PSM1/measured_cp') firstCp ??= r.data;
    }
  }
  for (const topic of ['/PSM1/measured_cp', '/PSM1/measured_js', '/PSM1/servo_cp', '/rshield/PSM1/servo_cp', '/rshield/PSM1/episode', '/PSM1/operating_state']) {
    t.ok((counts.get(topic) ?? 0) > 0, `${topic} recorded`);
  }
  const cpChannel = [...channels.values()].find((c) => c.topic === '/PSM1/measured_cp')!;
  t.equal(cpChannel.messageEncoding, 'cdr');
  t.equal(schemas.get(cpChannel.schemaId)?.name, 'geometry_msgs/msg/PoseStamped');
  t.equal(schemas.get(cpChannel.schemaId)?.encoding, 'ros2msg');
  const cp = cdrCodec('geometry_msgs/msg/PoseStamped').decode<{ header: { frame_id: string } }>(firstCp!);
  t.equal(cp.header.frame_id, 'PSM1_base');

  // The raw topics alone give the same dataset: what `rshield train --profile` reads from a ROS bag.
  const fromTopics = await readRosBagDataset([out], started!.profile);
  t.equal(fromTopics.size, ds.size, `${fromTopics.size} transitions from the raw topics`);
  t.equal(fromTopics.meta.robot, 'dvrk-reacher');
  for (const column of ['obs', 'act', 'cost', 'nextObs', 'done', 'episode', 'step', 'nextAct', 'hasNextAct'] as const) {
    t.same(Array.from(fromTopics[column]), Array.from(ds[column]), `${column}: as the recorder labelled it live`);
  }
});
