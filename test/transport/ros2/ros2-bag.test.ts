// rshield's MCAP files under the real `ros2 bag`: `info` lists every channel with its type and
// the count written, `play` publishes the ROS-typed channels to a subscriber, and the
// rshield_msgs channels (transitions, decisions) are skipped by name. Needs a sourced ROS 2.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRobotProfile } from '../../../src/config/profile.js';
import { runCli } from '../../helpers/cli.js';
import { openDemoRecording } from '../../../src/transport/ros2/open-demo-recording.js';
import { hasRos2, isolateRos2, pose } from './harness.js';
import { infoMatchesFile, listener, playBag } from './ros2-bag.js';

const skip = !hasRos2() && 'no ROS 2 sourced (ros2 bag is the thing under test)';
const dir = mkdtempSync(join(tmpdir(), 'rshield-bag-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

void t.test('rshield demo: ros2 bag info lists its channels, ros2 bag play publishes q_risk and intervention', { skip, timeout: 120_000 }, async (t) => {
  isolateRos2();
  const out = join(dir, 'demo');
  const r = await runCli(t, 'demo', '--episodes', '3', '--out', out, '--json');
  t.equal(r.code, 0, r.err);
  const file = join(out, 'shielded.mcap');
  const want = await infoMatchesFile(t, file);
  t.equal(want.get('/rshield/transitions')?.type, 'rshield_msgs/msg/Transition');
  t.equal(want.get('/rshield/decisions')?.type, 'rshield_msgs/msg/Decision');

  const node = await listener(t);
  const expected = new Map([['/rshield/q_risk', want.get('/rshield/q_risk')!.count], ['/rshield/intervention', want.get('/rshield/intervention')!.count]]);
  t.ok(expected.get('/rshield/q_risk')! > 10);
  const played = await playBag(node, file, { '/rshield/q_risk': 'std_msgs/msg/Float64', '/rshield/intervention': 'std_msgs/msg/Bool' }, expected);
  t.equal(played.code, 0, 'ros2 bag play exits 0');
  for (const [topic, n] of expected) t.equal(played.received.get(topic), n, `${topic}: all ${n} played messages received`);
  for (const topic of ['/rshield/transitions', '/rshield/decisions']) {
    t.match(played.output, new RegExp(`Ignoring a topic '${topic}', reason: package 'rshield_msgs' not found`), `${topic} skipped by name (no rshield_msgs type support installed)`);
  }
});

void t.test('rshield record: ros2 bag info lists every profile topic, ros2 bag play publishes the dVRK topics', { skip, timeout: 120_000 }, async (t) => {
  isolateRos2();
  const file = join(dir, 'record.mcap');
  const profile = loadRobotProfile('dvrk-reacher');
  // Log times 1 ms apart, as a live recording's are: play keeps them, and a subscriber keeps up.
  let clockNs = 1_700_000_000_000_000_000n;
  const rec = openDemoRecording(file, profile, { autostart: true, nowNs: () => (clockNs += 1_000_000n) });
  const topics = profile.topics;
  // What the shield node hands its tap for 60 ticks: state in, command in, goal out, q_risk, intervention.
  for (let i = 0; i < 60; i++) {
    const x = 0.04 + 0.001 * i;
    const stamp = { sec: 100 + Math.floor(i / 100), nanosec: (i % 100) * 10_000_000 };
    rec.tap.onMessage(topics.measuredCp.topic, topics.measuredCp.type, pose(x, 0.04, -0.1, stamp));
    rec.tap.onMessage(topics.measuredJs.topic, topics.measuredJs.type, { header: { stamp, frame_id: '' }, name: ['a', 'b'], position: Float64Array.from([x, 0]), velocity: new Float64Array(0), effort: new Float64Array(0) });
    rec.tap.onMessage(topics.commandIn.topic, topics.commandIn.type, pose(x + 0.002, 0.04, -0.1, stamp));
    rec.tap.onMessage(topics.commandOut.topic, topics.commandOut.type, pose(x + 0.001, 0.04, -0.1, stamp));
    rec.tap.onMessage(topics.qRisk.topic, topics.qRisk.type, { data: 0.1 });
    rec.tap.onMessage(topics.intervention.topic, topics.intervention.type, { data: i % 7 === 0 });
    rec.tap.onTick({ obs: Float32Array.from([x, 0.04, -0.1]), proposed: Float32Array.from([0.002, 0, 0]), executed: Float32Array.from([0.001, 0, 0]), source: 'task', qRisk: 0.1 });
  }
  rec.tap.onMessage(topics.hold.topic, topics.hold.type, {});
  rec.close();
  const want = await infoMatchesFile(t, file);
  t.equal(want.get(topics.measuredCp.topic)?.count, 60);
  t.equal(want.get('/rshield/transitions')?.count, 60);

  const node = await listener(t);
  const subscribe = { [topics.measuredCp.topic]: topics.measuredCp.type, [topics.commandOut.topic]: topics.commandOut.type, [topics.measuredJs.topic]: topics.measuredJs.type, [topics.hold.topic]: topics.hold.type };
  const expected = new Map(Object.keys(subscribe).map((topic) => [topic, want.get(topic)!.count]));
  const played = await playBag(node, file, subscribe, expected);
  t.equal(played.code, 0, 'ros2 bag play exits 0');
  for (const [topic, n] of expected) t.equal(played.received.get(topic), n, `${topic}: all ${n} played messages received`);
  t.match(played.output, /Ignoring a topic '\/rshield\/transitions', reason: package 'rshield_msgs' not found/);
});
