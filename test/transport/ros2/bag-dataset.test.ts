// ROS 2 bags of a robot's topics read into a dataset through its profile (what
// `rshield train --profile` does), on bags written here as rosbag2 writes them: ros2msg
// schemas, CDR messages, log time = receive time. The real `ros2 bag record` is in test/launch.
import t from 'tap';
import { join } from 'node:path';
import { loadRobotProfile } from '../../../src/config/profile.js';
import { McapRecorder } from '../../../src/data/mcap-recorder.js';
import { readRosBagDataset } from '../../../src/transport/ros2/bag-dataset.js';
import { cdrCodec } from '../../../src/transport/ros2/msgs/cdr-codec.js';
import type { RosMsgType } from '../../../src/transport/ros2/msgs/definitions.js';
import { pose } from './harness.js';

const profile = loadRobotProfile('dvrk-reacher');
const T0 = 1_700_000_000_000_000_000n;
const ms = (n: number): bigint => T0 + BigInt(Math.round(n * 1e6));

/** A bag of `topics`; `write(topic, atMs, message)`. */
function bag(path: string, topics: Readonly<Record<string, RosMsgType>>): { write(topic: string, atMs: number, m: object): void; close(): void } {
  const rec = McapRecorder.open(path);
  const ids = new Map(Object.entries(topics).map(([topic, type]) => [topic, { id: rec.addChannel({ topic, schemaName: type, schemaText: cdrCodec(type).schemaText }), type }]));
  return {
    write: (topic, atMs, m) => {
      const c = ids.get(topic)!;
      rec.write(c.id, ms(atMs), cdrCodec(c.type).encode(m));
    },
    close: () => rec.close(),
  };
}

const dvrkTopics = { '/PSM1/measured_cp': 'geometry_msgs/msg/PoseStamped', '/PSM1/servo_cp': 'geometry_msgs/msg/PoseStamped', '/PSM1/hold': 'std_msgs/msg/Empty' } as const;

void t.test('one transition per goal sent to the arm; a gap in state breaks the chain; a violation ends the episode', async (t) => {
  const path = join(t.testdir({}), 'bag_0.mcap');
  const b = bag(path, dvrkTopics);
  let x = 0.05;
  // 100 Hz state, a goal 1 mm ahead after each; state stops from 300 to 500 ms (goals go on).
  for (let i = 0; i < 60; i++) {
    const at = 10 * i;
    if (at < 300 || at >= 500) b.write('/PSM1/measured_cp', at, pose(x, 0.05, -0.1, { sec: 1, nanosec: at * 1e6 }));
    b.write('/PSM1/servo_cp', at + 2, pose(x + 0.001, 0.05, -0.1));
    x += 0.001;
  }
  // Then into the stay-out post (0.075, 0.07): the tip jumps inside it.
  b.write('/PSM1/measured_cp', 610, pose(0.075, 0.07, -0.14, { sec: 1, nanosec: 610e6 }));
  b.write('/PSM1/servo_cp', 612, pose(0.076, 0.07, -0.14));
  b.close();

  const ds = await readRosBagDataset([path], profile);
  t.equal(ds.meta.robot, 'dvrk-reacher');
  t.equal(ds.obsDim, 3);
  t.ok(ds.files[0]!.complete);
  // Before the gap 34 goals have fresh state (the last four use the state of 290 ms, within
  // staleAfterMs 50): 33 chained transitions; the goal at 342 ms finds state stale and drops the
  // pending step. After it, 11 goals (the last at the post): 10 transitions.
  t.equal(ds.size, 43);
  let spansGap = 0;
  for (let i = 0; i < ds.size; i++) if (ds.obs[3 * i]! < 0.0795 && ds.nextObs[3 * i]! > 0.0995) spansGap++;
  t.equal(spansGap, 0, 'no transition spans the stale gap');
  t.ok(Math.abs(ds.act[0]! - 0.001) < 1e-6 && Math.abs(ds.act[1]!) < 1e-9, 'a = goal − tip');
  const last = ds.size - 1;
  t.equal(ds.cost[last], 1, 'reaching the post is a violation');
  t.equal(ds.done[last], 1, 'and ends the episode');
  t.equal(ds.cost.reduce((n, c) => n + c, 0), 1, 'one violation');
});

void t.test('a goal farther from the recorded tip than the hard limit breaks the chain', async (t) => {
  const path = join(t.testdir({}), 'bag_0.mcap');
  const b = bag(path, dvrkTopics);
  for (let i = 0; i < 20; i++) {
    b.write('/PSM1/measured_cp', 10 * i, pose(0.05 + 0.001 * i, 0.05, -0.1, { sec: 1, nanosec: 0 }));
    // Goal 10 is 2 cm away: not a step the shield (maxStepM 9 mm) sent from this tip.
    b.write('/PSM1/servo_cp', 10 * i + 2, pose(0.051 + 0.001 * i + (i === 10 ? 0.02 : 0), 0.05, -0.1));
  }
  b.close();
  const ds = await readRosBagDataset([path], profile);
  // Goals 0..9 chain into 9 transitions, goal 10 drops the pending step, 11..19 give 8 more and the last ends the episode.
  t.equal(ds.size, 18);
  t.ok(Array.from(ds.act).every((a) => Math.abs(a) <= profile.limits.maxStepM), 'every action within the hard limit');
});

void t.test('episodes follow the episode topic when the bag has it', async (t) => {
  const path = join(t.testdir({}), 'bag_0.mcap');
  const b = bag(path, { ...dvrkTopics, '/rshield/PSM1/episode': 'std_msgs/msg/String' });
  for (let i = 0; i < 40; i++) {
    if (i === 5) b.write('/rshield/PSM1/episode', 10 * i - 1, { data: 'start' });
    if (i === 20) b.write('/rshield/PSM1/episode', 10 * i - 1, { data: 'stop' });
    if (i === 25) b.write('/rshield/PSM1/episode', 10 * i - 1, { data: 'start' });
    b.write('/PSM1/measured_cp', 10 * i, pose(0.05 + 0.001 * i, 0.05, -0.1, { sec: 1, nanosec: 0 }));
    b.write('/PSM1/servo_cp', 10 * i + 2, pose(0.051 + 0.001 * i, 0.05, -0.1));
  }
  b.close();
  const ds = await readRosBagDataset([path], profile);
  t.same([...new Set(ds.episode)], [0, 1], 'two episodes');
  t.equal(ds.episode.filter((e) => e === 0).length, 15, 'goals 5..19 in the first');
  t.equal(ds.episode.filter((e) => e === 1).length, 15, 'goals 25..39 in the second');
});

void t.test('a bag without the profile\'s topics, or with other types, is refused by name', async (t) => {
  const dir = t.testdir({});
  const noGoals = join(dir, 'a.mcap');
  const a = bag(noGoals, { '/PSM1/measured_cp': 'geometry_msgs/msg/PoseStamped' });
  a.write('/PSM1/measured_cp', 0, pose(0.05, 0.05, -0.1));
  a.close();
  await t.rejects(readRosBagDataset([noGoals], profile), { message: /a\.mcap has no \/PSM1\/servo_cp \(profile dvrk-reacher\); topics: \/PSM1\/measured_cp/ });
  const wrongType = join(dir, 'b.mcap');
  const b = bag(wrongType, { '/PSM1/measured_cp': 'geometry_msgs/msg/TransformStamped', '/PSM1/servo_cp': 'geometry_msgs/msg/PoseStamped' });
  b.close();
  await t.rejects(readRosBagDataset([wrongType], profile), { message: /topic \/PSM1\/measured_cp has type 'geometry_msgs\/msg\/TransformStamped' \(cdr\), profile dvrk-reacher expects geometry_msgs\/msg\/PoseStamped/ });
});
