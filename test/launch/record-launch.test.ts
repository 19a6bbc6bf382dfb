// Recordings end to end under the real `ros2 launch`: record_demos.launch.xml in front of the
// simulated PSM (episodes from the topic, Ctrl-C, a complete MCAP that `ros2 bag info` and
// `rshield train` read), and the other direction: `ros2 bag record -s mcap` of the dVRK topics
// of sim.launch.xml (simulated PSM, scripted controller, shield) read by `rshield train
// --profile`. Needs a sourced ROS 2, real rclnodejs and a built dist/.
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRobotProfile } from '../../src/config/profile.js';
import { readDataset } from '../../src/data/read-dataset.js';
import { readRosBagDataset } from '../../src/transport/ros2/bag-dataset.js';
import { loadRclnodejs } from '../../src/transport/ros2/load-rclnodejs.js';
import { runCli } from '../helpers/cli.js';
import { hasRos2, isolateRos2, pollUntil } from '../transport/ros2/harness.js';
import { infoMatchesFile } from '../transport/ros2/ros2-bag.js';
import { interrupt, launch, stopLaunch } from './launch-process.js';

const skip = !hasRos2() && 'no ROS 2 sourced';
const dir = mkdtempSync(join(tmpdir(), 'rshield-record-e2e-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const profile = loadRobotProfile('dvrk-reacher');

void t.test('record_demos.launch.xml: episodes from the topic, Ctrl-C, a complete MCAP for ros2 bag and rshield train', { skip, timeout: 120_000 }, async (t) => {
  isolateRos2();
  const out = join(dir, 'demos.mcap');
  // The simulated PSM and its (unsafe) scripted controller, no shield: the recorder is the pass-through in between.
  const sim = launch('sim.launch.xml', ['with_shield:=false', 'seed:=2']);
  const rec = launch('record_demos.launch.xml', ['profile:=dvrk-reacher', `out:=${out}`]);
  const rcl = await loadRclnodejs();
  await rcl.init();
  const node = new rcl.Node('record_e2e_operator');
  node.spin();
  t.teardown(async () => {
    await stopLaunch(rec, sim);
    node.destroy();
    if (!rcl.isShutdown()) rcl.shutdown();
  });
  let forwarded = 0;
  node.createSubscription('geometry_msgs/msg/PoseStamped', '/PSM1/servo_cp', {}, () => forwarded++);
  const episode = node.createPublisher('std_msgs/msg/String', '/rshield/PSM1/episode');
  t.ok(await pollUntil(() => episode.subscriptionCount > 0 && forwarded > 20, 60_000), `the recorder is up and forwards the controller's goals (${forwarded})`);
  episode.publish({ data: 'start' });
  t.ok(await pollUntil(() => /episode 0 started/.test(rec.output), 5000), 'episode started from the topic');
  const startedAt = forwarded;
  t.ok(await pollUntil(() => forwarded > startedAt + 400, 30_000), `goals recorded (${forwarded - startedAt})`);
  episode.publish({ data: 'stop' });
  t.ok(await pollUntil(() => /stopped; \d+ transitions/.test(rec.output), 5000), 'episode stopped from the topic');

  t.equal(await interrupt(rec, 'rshield_record'), 0, 'ros2 launch exits 0 on Ctrl-C');
  t.match(rec.output, /\[rshield_record-\d+\]: process has finished cleanly/, 'the recorder exited 0');
  const ds = await readDataset([out]);
  t.ok(ds.files[0]!.complete, 'the MCAP is complete (summary and footer written)');
  // The unsafe controller violates often, and the sim rests a second in violation after each one
  // (nothing is labelled there), so how many of the ~400 goals become transitions depends on where
  // the window falls (45 to 122 seen); the count must be what the recorder reported.
  const reported = /stopped; (\d+) transitions/.exec(rec.output);
  t.ok(ds.size >= 20, `${ds.size} transitions`);
  t.equal(ds.size, Number(reported?.[1]), 'every transition the recorder reported is in the file');
  t.equal(ds.meta.robot, 'dvrk-reacher');
  // The raw topics of the same file give the same transitions (the path a ros2 bag takes).
  const fromTopics = await readRosBagDataset([out], profile);
  t.equal(fromTopics.size, ds.size, 'the raw topics give the same transitions');
  t.same(Array.from(fromTopics.cost), Array.from(ds.cost), 'with the same labels');
  const want = await infoMatchesFile(t, out);
  t.equal(want.get('/rshield/transitions')?.count, ds.size);
  t.ok((want.get('/PSM1/measured_cp')?.count ?? 0) > 100, 'state recorded');
  sim.proc.kill('SIGINT');
  t.equal(await sim.exited, 0);
});

void t.test('ros2 bag record -s mcap of the dVRK topics of sim.launch.xml, read by rshield train --profile', { skip, timeout: 180_000 }, async (t) => {
  isolateRos2();
  const bagDir = join(dir, 'psm1_bag');
  const sim = launch('sim.launch.xml', ['seed:=4']);
  const bag = spawn('ros2', ['bag', 'record', '-s', 'mcap', '-o', bagDir, '/PSM1/measured_cp', '/PSM1/servo_cp', '/PSM1/hold'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let bagLog = '';
  bag.stdout.on('data', (b: Buffer) => (bagLog += b.toString()));
  bag.stderr.on('data', (b: Buffer) => (bagLog += b.toString()));
  const bagExited = new Promise<number | null>((r) => bag.on('close', (code) => r(code)));
  const rcl = await loadRclnodejs();
  await rcl.init();
  const node = new rcl.Node('bag_e2e_observer');
  node.spin();
  t.teardown(async () => {
    if (bag.exitCode === null) bag.kill('SIGINT');
    await bagExited;
    await stopLaunch(sim);
    node.destroy();
    if (!rcl.isShutdown()) rcl.shutdown();
  });
  let goals = 0;
  node.createSubscription('geometry_msgs/msg/PoseStamped', '/PSM1/servo_cp', {}, () => goals++);
  t.ok(await pollUntil(() => /All requested topics are subscribed/.test(bagLog) && goals > 20, 60_000), `ros2 bag record subscribed, the shield forwards goals (${goals})`);
  const from = goals;
  t.ok(await pollUntil(() => goals > from + 600, 60_000), `goals streamed while recording (${goals - from})`);
  bag.kill('SIGINT');
  t.equal(await bagExited, 0, 'ros2 bag record exits 0');
  sim.proc.kill('SIGINT');
  t.equal(await sim.exited, 0);

  const file = readdirSync(bagDir).find((f) => f.endsWith('.mcap'));
  t.ok(file, `${bagDir} holds the MCAP file`);
  const path = join(bagDir, file!);
  const want = await infoMatchesFile(t, path);
  const ds = await readRosBagDataset([path], profile);
  const goalsInBag = want.get('/PSM1/servo_cp')!.count;
  t.ok(ds.size > 300 && ds.size <= goalsInBag, `${ds.size} transitions from ${goalsInBag} goals in the bag`);
  let largest = 0;
  for (let i = 0; i < ds.size; i++) largest = Math.max(largest, Math.hypot(ds.act[3 * i]!, ds.act[3 * i + 1]!, ds.act[3 * i + 2]!));
  t.ok(largest <= profile.limits.maxStepM + 1e-6, `every action within the dataset's bounds, the hard limit (largest ${largest.toFixed(4)} m)`);

  const models = join(dir, 'from-bag');
  const r = await runCli(t, 'train', '--robot', 'dvrk-reacher', '--profile', 'dvrk-reacher', '--data', path, '--steps', '30', '--violation-share=-1', '--out', models);
  t.equal(r.code, 0, r.err);
  t.match(r.err, new RegExp(`train dvrk-reacher: ${ds.size} transitions`), 'rshield train read the bag through the profile');
  t.ok(existsSync(join(models, 'model.json')) && existsSync(join(models, 'critic.onnx')), 'and wrote a model');
});
