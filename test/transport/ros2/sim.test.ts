// The simulated PSM over ROS 2 (fake rclnodejs): dVRK names and types, servo_cp steps, hold,
// and a whole shielded loop (sim + scripted controller + shield) without hardware.
import t from 'tap';
import { createController, createEnv } from '../../../src/envs/index.js';
import { loadRobotProfile } from '../../../src/config/profile.js';
import { PassThroughShield } from '../../../src/core/shield-port.js';
import { runRos2Sim } from '../../../src/app/ros2-sim.js';
import { ShieldNode } from '../../../src/transport/ros2/shield-node.js';
import type { SimPsm } from '../../../src/transport/ros2/sim-node.js';
import { createFakeRclnodejs, settle, fakeClock } from './fake-rclnodejs.js';
import { pose } from './harness.js';
import { join } from 'node:path';
import { packageRoot } from '../../../src/config/profile.js';
import { ImageShield } from '../../../src/inference/image-shield.js';

void t.test('serves measured_cp / measured_js / operating_state with the dVRK types and obeys servo_cp and hold', async (t) => {
  const rcl = createFakeRclnodejs();
  const abort = new AbortController();
  let sim: SimPsm | undefined;
  const done = runRos2Sim({ rcl, profile: 'dvrk-reacher', env: createEnv('dvrk-reacher', { seed: 5 }), seed: 5, signal: abort.signal, log: () => undefined, onStarted: (s) => (sim = s) });
  await settle();
  const peer = new rcl.Node('peer');
  peer.spin();
  const cps: { pose: { position: { x: number; y: number; z: number } }; header: { frame_id: string; stamp: { sec: number } } }[] = [];
  const jss: { name: string[]; position: unknown }[] = [];
  const ops: { state: string; is_homed: boolean }[] = [];
  peer.createSubscription('geometry_msgs/msg/PoseStamped', '/PSM1/measured_cp', { qos: new rcl.QoS(1, 1, 2, 2) }, (m: never) => cps.push(m));
  peer.createSubscription('sensor_msgs/msg/JointState', '/PSM1/measured_js', {}, (m: never) => jss.push(m));
  peer.createSubscription('crtk_msgs/msg/OperatingState', '/PSM1/operating_state', {}, (m: never) => ops.push(m));
  await rcl.ros.advance(105);
  t.ok(cps.length >= 10 && cps.length <= 12, `about 100 Hz state (${cps.length} in 105 ms)`);
  t.equal(cps[0]!.header.frame_id, 'PSM1_base');
  t.not(cps.at(-1)!.header.stamp.sec, 0, 'valid data has a non-zero stamp');
  t.type(jss[0]!.position, Float64Array, 'JointState.position arrives as Float64Array, as rclnodejs delivers it');
  t.same(jss[0]!.name.slice(0, 3), ['outer_yaw', 'outer_pitch', 'outer_insertion'], 'dVRK PSM joint names');

  const start = cps.at(-1)!.pose.position;
  const servo = peer.createPublisher('geometry_msgs/msg/PoseStamped', '/PSM1/servo_cp');
  servo.publish(pose(start.x + 0.002, start.y, start.z));
  await rcl.ros.advance(20);
  const moved = cps.at(-1)!.pose.position;
  t.ok(moved.x - start.x > 0.001 && moved.x - start.x < 0.0025, `one servo_cp goal moves the tip ~2 mm (moved ${(moved.x - start.x).toFixed(5)} m)`);
  t.equal(sim!.steps, 1);
  peer.createPublisher('std_msgs/msg/Empty', '/PSM1/hold').publish({});
  await settle();
  t.equal(sim!.holds, 1, 'hold received');
  t.equal(sim!.holding, true);
  await rcl.ros.advance(1000);
  t.ok(ops.some((o) => o.state === 'ENABLED' && o.is_homed), 'operating_state ENABLED and homed, re-sent each second for late joiners');
  abort.abort();
  t.equal(await done, 0);
});

void t.test('a whole shielded loop runs without hardware: sim + scripted controller + shield', async (t) => {
  const rcl = createFakeRclnodejs();
  const abort = new AbortController();
  let sim: SimPsm | undefined;
  const done = runRos2Sim({
    rcl,
    profile: 'dvrk-reacher',
    env: createEnv('dvrk-reacher', { seed: 2 }),
    seed: 2,
    controller: createController('dvrk-reacher', { seed: 2 }),
    signal: abort.signal,
    log: () => undefined,
    onStarted: (s) => (sim = s),
  });
  await settle();
  const shield = new ShieldNode({ rcl, node: new rcl.lifecycle.LifecycleNode('rshield'), profile: loadRobotProfile('dvrk-reacher'), shield: new PassThroughShield(3), clock: fakeClock(rcl.ros) });
  shield.node.spin();
  shield.start();
  await rcl.ros.advance(2000);
  t.ok(shield.counters.task > 20, `the shield forwarded ${shield.counters.task} controller commands`);
  t.ok(sim!.steps > 10, `the sim stepped ${sim!.steps} times`);
  t.equal(shield.counters.staleState, 0, 'state never went stale');
  abort.abort();
  t.equal(await done, 0);
});

void t.test('camera robot over ROS 2: the sim publishes its camera, the image shield encodes its frames and shields the arm', async (t) => {
  const rcl = createFakeRclnodejs();
  const abort = new AbortController();
  let sim: SimPsm | undefined;
  const profile = loadRobotProfile('dvrk-reacher-image');
  const done = runRos2Sim({
    rcl,
    profile: 'dvrk-reacher-image',
    env: createEnv('dvrk-reacher-image', { seed: 2 }),
    seed: 2,
    controller: createController('dvrk-reacher-image', { seed: 2 }),
    signal: abort.signal,
    log: () => undefined,
    onStarted: (s) => (sim = s),
  });
  await settle();
  const peer = new rcl.Node('camera_peer');
  peer.spin();
  const images: { width: number; height: number; encoding: string; step: number; data: Uint8Array }[] = [];
  peer.createSubscription('sensor_msgs/msg/Image', profile.topics.image!.topic, {}, (m: never) => images.push(m));
  const clock = fakeClock(rcl.ros);
  const image = await ImageShield.load({ modelDir: join(packageRoot(), 'models', 'dvrk-reacher-image'), robot: 'dvrk-reacher-image', imageStaleAfterMs: profile.imageStaleAfterMs!, clock });
  t.teardown(() => image.close());
  const shield = new ShieldNode({ rcl, node: new rcl.lifecycle.LifecycleNode('rshield'), profile, shield: image, frames: image, clock });
  shield.node.spin();
  shield.start();
  for (let i = 0; i < 100; i++) {
    await rcl.ros.advance(20);
    await new Promise((r) => setImmediate(r)); // let ONNX Runtime's encoder runs finish
  }
  t.ok(images.length >= 50 && images.length <= 70, `about 30 Hz camera (${images.length} frames in 2 s)`);
  t.match(images[0], { width: 64, height: 48, encoding: 'rgb8', step: 192 });
  t.equal(images[0]!.data.length, 64 * 48 * 3);
  t.equal(shield.framesReceived, images.length, 'the shield node received every frame');
  t.ok(image.frameStats().encoded > 10, `frames encoded: ${image.frameStats().encoded}`);
  t.ok(shield.counters.task + shield.counters.recovery > 20, `the shield decided ${shield.counters.task + shield.counters.recovery} commands from frames`);
  t.equal(sim!.violations, 0, 'no violation');
  abort.abort();
  t.equal(await done, 0);
});
