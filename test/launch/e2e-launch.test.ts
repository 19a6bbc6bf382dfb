// End to end under the real `ros2 launch`: sim.launch.xml serves the simulated PSM alone,
// shield.launch.xml puts the shield in front of it with a --params-file, and this process is the
// controller (streaming servo_cp on the remapped input at 200 Hz) and the observer. Needs a
// sourced ROS 2, real rclnodejs and a built dist/ (npm ci builds it).
import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadRobotProfile, packageRoot } from '../../src/config/profile.js';
import { createController } from '../../src/envs/index.js';
import { loadRclnodejs } from '../../src/transport/ros2/load-rclnodejs.js';
import { SimController } from '../../src/transport/ros2/sim-node.js';
import { hasRos2, isolateRos2, pollUntil } from '../transport/ros2/harness.js';
import { interrupt, launch, launchedPid, stopLaunch } from './launch-process.js';

const root = packageRoot();
const exec = promisify(execFile);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const until = pollUntil;

void t.test('sim.launch.xml + shield.launch.xml + a controller: forwarded steps, q_risk, hold on stale state, lifecycle, params, clean SIGINT', { skip: !hasRos2() && 'no ROS 2 sourced', timeout: 120_000 }, async (t) => {
  isolateRos2();
  const dir = mkdtempSync(join(tmpdir(), 'rshield-e2e-'));
  const params = join(dir, 'shield.params.yaml');
  writeFileSync(params, `/**:\n  ros__parameters:\n    profile: dvrk-reacher\n    model_dir: ${join(root, 'models/dvrk-reacher')}\n    stale_after_ms: 150.0\n`);
  const sim = launch('sim.launch.xml', ['with_controller:=false', 'with_shield:=false', 'seed:=3']);
  const shield = launch('shield.launch.xml', ['arm:=PSM1', 'profile:=dvrk-reacher', `params_file:=${params}`]);
  const rcl = await loadRclnodejs();
  await rcl.init();
  t.teardown(async () => {
    await stopLaunch(shield, sim);
    if (!rcl.isShutdown()) rcl.shutdown();
  });
  const node = new rcl.Node('e2e_observer');
  node.spin();
  const profile = loadRobotProfile('dvrk-reacher');
  const got = { servo: 0, hold: 0, qRisk: [] as number[], interventions: 0, diag: [] as string[] };
  node.createSubscription('geometry_msgs/msg/PoseStamped', '/PSM1/servo_cp', {}, () => got.servo++);
  node.createSubscription('std_msgs/msg/Empty', '/PSM1/hold', {}, () => got.hold++);
  node.createSubscription('std_msgs/msg/Float64', '/rshield/PSM1/q_risk', {}, (m: { data: number }) => got.qRisk.push(m.data));
  node.createSubscription('std_msgs/msg/Bool', '/rshield/PSM1/intervention', {}, (m: { data: boolean }) => (got.interventions += m.data ? 1 : 0));
  node.createSubscription('diagnostic_msgs/msg/DiagnosticArray', '/diagnostics', {}, (m: { status: { message: string }[] }) => got.diag.push(m.status[0]?.message ?? ''));
  t.ok(await until(() => got.diag.length > 0, 60_000), 'the shield is up (/diagnostics)');
  t.match(shield.output, /stale after 150 ms/, 'the --params-file parameter took effect');
  t.match((await exec('ros2', ['param', 'get', '/rshield', 'stale_after_ms'])).stdout, /150\.0/);
  const ctrl = new SimController({ rcl, node, profile, controller: createController('dvrk-reacher', { seed: 3 }), rateHz: 200 });
  t.ok(await until(() => got.servo > 100, 20_000), `controller goals are forwarded to the PSM (${got.servo})`);
  // q_risk and servo_cp are separate topics: wait for both rather than assume one arrives first.
  t.ok(await until(() => got.qRisk.length > 100, 5000), `q_risk published per tick (${got.qRisk.length})`);
  t.ok(got.qRisk.every((q) => q >= 0 && q <= 1), 'q_risk in [0, 1] for each tick');
  // The scripted controller is unsafe by design: the critic must step in at some point.
  t.ok(await until(() => got.interventions > 0, 10_000), `recovery steps published as interventions (${got.interventions})`);

  // Stale state: freeze the simulated PSM; the controller keeps talking.
  const simPid = launchedPid(sim, 'rshield_sim');
  t.ok(simPid > 0, 'sim pid from the launch log');
  const holdsBefore = got.hold;
  process.kill(simPid, 'SIGSTOP');
  await sleep(600);
  const servoFrozen = got.servo;
  await sleep(400);
  t.ok(got.hold > holdsBefore, 'hold published on stale state');
  t.equal(got.servo, servoFrozen, 'nothing forwarded while state is stale');
  t.ok(await until(() => got.diag.at(-1)?.startsWith('holding: stale') === true, 3500), `/diagnostics says holding: stale (last: ${got.diag.at(-1) ?? 'none'})`);
  process.kill(simPid, 'SIGCONT');
  t.ok(await until(() => got.servo > servoFrozen + 20, 5000), 'commands flow again once state returns');

  // ros2 lifecycle set: deactivate holds and stops forwarding; activate resumes.
  const holdsBeforeDeactivate = got.hold;
  t.match((await exec('ros2', ['lifecycle', 'set', '/rshield', 'deactivate'])).stdout, /Transitioning successful/);
  t.match((await exec('ros2', ['lifecycle', 'get', '/rshield'])).stdout, /inactive/);
  t.ok(await until(() => got.hold > holdsBeforeDeactivate, 3000), 'deactivate publishes hold');
  const servoInactive = got.servo;
  await sleep(300);
  t.ok(got.servo - servoInactive <= 1, 'inactive: nothing forwarded');
  t.match((await exec('ros2', ['lifecycle', 'set', '/rshield', 'activate'])).stdout, /Transitioning successful/);
  t.ok(await until(() => got.servo > servoInactive + 20, 5000), 'active again: forwarded');

  // Ctrl-C as launch delivers it: hold, exit 0.
  ctrl.close();
  const holdsBeforeStop = got.hold;
  t.equal(await interrupt(shield, 'rshield'), 0, 'ros2 launch exits 0');
  t.match(shield.output, /rshield: SIGINT: hold, flush, exit/);
  t.match(shield.output, /\[rshield-\d+\]: process has finished cleanly/, 'the shield exited 0');
  t.ok(await until(() => got.hold > holdsBeforeStop, 2000), 'hold published at shutdown');
  sim.proc.kill('SIGINT');
  t.equal(await sim.exited, 0);
  t.match(sim.output, /\[rshield_sim-\d+\]: process has finished cleanly/);
});
