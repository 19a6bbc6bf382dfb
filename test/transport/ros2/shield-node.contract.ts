/**
 * Contract of the ROS 2 shield node, written once and run against every rclnodejs
 * implementation (shield-node.test.ts picks the fake or, with ROS_DISTRO set, the real one).
 */
import type { Test } from 'tap';
import type { RobotProfile } from '../../../src/config/profile.js';
import type { Decider, Decision } from '../../../src/transport/ros2/decider.js';
import { PassThroughDecider } from '../../../src/transport/ros2/decider.js';
import { ShieldNode, type PoseStampedMsg, type ShieldNodeTap } from '../../../src/transport/ros2/shield-node.js';
import { Peer, pose, testProfile, type Ros2Harness } from './harness.js';

interface Rig {
  shield: ShieldNode;
  peer: Peer;
  profile: RobotProfile;
  state(x: number, y: number, z: number, stamp?: { sec: number; nanosec: number }): void;
  command(x: number, y: number, z: number): void;
  servo: PoseStampedMsg[];
  hold: object[];
  qRisk: { data: number }[];
  intervention: { data: boolean }[];
  diagnostics: { status: { level: number; message: string; values: { key: string; value: string }[] }[] }[];
}

let nodeCount = 0;

async function rig(h: Ros2Harness, opts: { decider?: Decider; profile?: RobotProfile; tap?: ShieldNodeTap; start?: boolean } = {}): Promise<Rig> {
  const profile = opts.profile ?? testProfile();
  const t = profile.topics;
  const node = new h.rcl.lifecycle.LifecycleNode(`rshield_contract_${++nodeCount}`);
  const shield = new ShieldNode({ rcl: h.rcl, node, profile, decider: opts.decider ?? new PassThroughDecider(3), clock: h.clock, ...(opts.tap ? { tap: opts.tap } : {}) });
  node.spin();
  if (opts.start !== false) shield.start();
  const peer = new Peer(h.rcl, `rshield_contract_peer_${nodeCount}`);
  const r: Rig = {
    shield,
    peer,
    profile,
    servo: peer.listen(t.commandOut.type, t.commandOut.topic) as PoseStampedMsg[],
    hold: peer.listen(t.hold.type, t.hold.topic),
    qRisk: peer.listen(t.qRisk.type, t.qRisk.topic) as { data: number }[],
    intervention: peer.listen(t.intervention.type, t.intervention.topic) as { data: boolean }[],
    diagnostics: peer.listen(t.diagnostics.type, t.diagnostics.topic) as Rig['diagnostics'],
    state: () => undefined,
    command: () => undefined,
  };
  const statePub = peer.publisher(t.measuredCp.type, t.measuredCp.topic);
  const cmdPub = peer.publisher(t.commandIn.type, t.commandIn.topic);
  r.state = (x, y, z, stamp) => statePub.publish(pose(x, y, z, stamp));
  r.command = (x, y, z) => cmdPub.publish(pose(x, y, z, { sec: 200, nanosec: 7 }));
  await h.settle();
  return r;
}

/** A decider that always answers with a fixed decision. */
function fixed(source: Decision['source'], action: [number, number, number], qRisk: number, asPromise = false): Decider {
  const d: Decision = { action: Float32Array.from(action), source, qRisk };
  return { decide: () => (asPromise ? Promise.resolve(d) : d) };
}

const close = (a: number, b: number, eps = 1e-9): boolean => Math.abs(a - b) <= eps;

export function shieldNodeContract(t: Test, makeHarness: () => Promise<Ros2Harness>): void {
  let h: Ros2Harness;
  t.beforeEach(async () => {
    h = await makeHarness();
  });
  t.afterEach(async () => {
    await h.close();
  });

  void t.test('forwards a small controller step unchanged, with its orientation and stamp, and reports q_risk', async (t) => {
    const r = await rig(h, { decider: fixed('task', [0.001, 0, 0], 0.25, true) });
    r.state(0.05, 0.05, -0.1);
    await h.settle();
    r.command(0.051, 0.05, -0.1);
    await h.settle();
    t.equal(r.servo.length, 1, 'one servo_cp out per command');
    const out = r.servo[0]!;
    t.ok(close(out.pose.position.x, 0.051) && close(out.pose.position.y, 0.05) && close(out.pose.position.z, -0.1), 'goal = state + step');
    t.same(out.pose.orientation, { x: 0, y: 0, z: 0.6, w: 0.8 }, 'orientation passes through');
    t.same(out.header.stamp, { sec: 200, nanosec: 7 }, "the controller's stamp passes through");
    t.equal(out.header.frame_id, r.profile.frames.base);
    t.equal(r.qRisk.at(-1)?.data, 0.25);
    t.equal(r.intervention.at(-1)?.data, false);
    t.equal(r.hold.length, 0);
  });

  void t.test('a recovery decision is published instead of the command and flagged as an intervention', async (t) => {
    const r = await rig(h, { decider: fixed('recovery', [-0.001, 0, 0.0005], 0.9) });
    r.state(0.05, 0.05, -0.1);
    await h.settle();
    r.command(0.0515, 0.05, -0.1);
    await h.settle();
    const p = r.servo.at(-1)?.pose.position;
    t.ok(p && close(p.x, 0.049, 1e-7) && close(p.z, -0.0995, 1e-7), 'recovery step executed');
    t.equal(r.intervention.at(-1)?.data, true);
    t.ok(close(r.qRisk.at(-1)?.data ?? 0, 0.9, 1e-6));
    t.equal(r.shield.counters.recovery, 1);
  });

  void t.test('hard limits: a step longer than maxStepM is shortened along its direction, goals stay in the workspace', async (t) => {
    const r = await rig(h);
    const max = r.profile.limits.maxStepM;
    r.state(0.05, 0.05, -0.1);
    await h.settle();
    r.command(0.08, 0.09, -0.1); // 5 cm away, direction (0.6, 0.8, 0)
    await h.settle();
    const p = r.servo.at(-1)!.pose.position;
    t.ok(close(p.x, 0.05 + 0.6 * max, 1e-9) && close(p.y, 0.05 + 0.8 * max, 1e-9), `step clipped to ${max} m`);
    const zMax = r.profile.limits.workspace.max[2];
    r.state(0.05, 0.05, zMax - 0.0005);
    await h.settle();
    r.command(0.05, 0.05, zMax + 0.01);
    await h.settle();
    t.ok(close(r.servo.at(-1)!.pose.position.z, zMax), 'clamped onto the workspace face');
    t.equal(r.shield.counters.clippedSteps, 2);
    t.equal(r.shield.counters.clampedToWorkspace, 1);
  });

  void t.test('stale state (older than staleAfterMs) → hold once, nothing forwarded, and recovery when state returns', async (t) => {
    const r = await rig(h);
    r.state(0.05, 0.05, -0.1);
    await h.settle();
    await h.advance(r.profile.staleAfterMs + 20);
    r.command(0.051, 0.05, -0.1);
    r.command(0.051, 0.05, -0.1);
    await h.settle();
    t.equal(r.servo.length, 0, 'no command forwarded on stale state');
    t.equal(r.hold.length, 1, 'hold published once');
    t.equal(r.shield.holdReason, 'stale_state');
    r.state(0.05, 0.05, -0.1);
    await h.settle();
    r.command(0.051, 0.05, -0.1);
    await h.settle();
    t.equal(r.servo.length, 1, 'fresh state: commands flow again');
    t.equal(r.shield.holding, false);
  });

  void t.test('a zero header.stamp (dVRK: invalid data) → hold', async (t) => {
    const r = await rig(h);
    r.state(0.05, 0.05, -0.1, { sec: 0, nanosec: 0 });
    await h.settle();
    r.command(0.051, 0.05, -0.1);
    await h.settle();
    t.equal(r.servo.length, 0);
    t.equal(r.hold.length, 1);
    t.equal(r.shield.holdReason, 'invalid_state');
  });

  void t.test('no state ever received → hold on the first command', async (t) => {
    const r = await rig(h);
    r.command(0.051, 0.05, -0.1);
    await h.settle();
    t.equal(r.hold.length, 1);
    t.equal(r.shield.holdReason, 'no_state');
  });

  void t.test('the shield answering failsafe, throwing or rejecting → hold, counted, never a crash', async (t) => {
    for (const [name, decider] of [
      ['failsafe', fixed('failsafe', [0, 0, 0], Number.NaN)],
      ['throws', { decide: () => { throw new Error('boom'); } }],
      ['rejects', { decide: () => Promise.reject(new Error('boom')) }],
    ] as const) {
      const r = await rig(h, { decider });
      r.state(0.05, 0.05, -0.1);
      await h.settle();
      r.command(0.051, 0.05, -0.1);
      await h.settle();
      t.equal(r.servo.length, 0, `${name}: nothing forwarded`);
      t.equal(r.hold.length, 1, `${name}: hold`);
    }
  });

  void t.test('lifecycle: inactive forwards nothing; deactivate publishes hold', async (t) => {
    const r = await rig(h, { start: false });
    r.shield.node.configure();
    r.state(0.05, 0.05, -0.1);
    await h.settle();
    r.command(0.051, 0.05, -0.1);
    await h.settle();
    t.equal(r.servo.length, 0, 'configured but inactive: nothing forwarded');
    r.shield.node.activate();
    r.command(0.051, 0.05, -0.1);
    await h.settle();
    t.equal(r.servo.length, 1, 'active: forwarded');
    r.shield.node.deactivate();
    await h.settle();
    t.equal(r.hold.length, 1, 'deactivate holds the arm');
    r.command(0.051, 0.05, -0.1);
    await h.settle();
    t.equal(r.servo.length, 1, 'inactive again: nothing forwarded');
  });

  void t.test('timer mode: the latest goal is re-decided at the rate while the controller talks', async (t) => {
    const profile = testProfile((doc) => {
      doc['tick'] = { mode: 'timer', rateHz: 100 };
      doc['staleAfterMs'] = 1000;
    });
    const r = await rig(h, { profile });
    r.state(0.05, 0.05, -0.1);
    r.command(0.051, 0.05, -0.1);
    await h.settle();
    t.equal(r.servo.length, 0, 'a command alone does not tick in timer mode');
    await h.advance(55);
    await h.settle();
    t.ok(r.servo.length >= 4 && r.servo.length <= 6, `about 5 ticks in 55 ms at 100 Hz (got ${r.servo.length})`);
  });

  void t.test('watchdog: state that stops while the controller is idle still triggers hold, and /diagnostics says so', async (t) => {
    const r = await rig(h);
    r.state(0.05, 0.05, -0.1);
    await h.settle();
    r.command(0.051, 0.05, -0.1);
    await h.settle();
    t.equal(r.servo.length, 1);
    await h.advance(1100);
    await h.settle();
    t.equal(r.hold.length, 1, 'hold without any further command');
    const last = r.diagnostics.at(-1)?.status[0];
    t.equal(last?.level, 2, 'diagnostics level ERROR while holding');
    t.match(last?.message, /holding: stale_state/);
    t.equal(last?.values.find((v) => v.key === 'task')?.value, '1');
  });

  void t.test('the tap sees ticks (obs, proposed, executed) and every message on profile topics', async (t) => {
    const ticks: number[][] = [];
    const topics = new Set<string>();
    const r = await rig(h, {
      tap: {
        onTick: (k) => ticks.push([...k.obs, ...k.proposed, ...k.executed]),
        onMessage: (topic) => topics.add(topic),
      },
    });
    r.state(0.05, 0.05, -0.1);
    await h.settle();
    r.command(0.051, 0.05, -0.1);
    await h.settle();
    t.equal(ticks.length, 1);
    t.ok(ticks[0]!.every(Number.isFinite));
    t.ok(close(ticks[0]![3]!, 0.001, 1e-7) && close(ticks[0]![6]!, 0.001, 1e-7));
    const tp = r.profile.topics;
    for (const topic of [tp.measuredCp.topic, tp.commandIn.topic, tp.commandOut.topic, tp.qRisk.topic, tp.intervention.topic]) {
      t.ok(topics.has(topic), `tap saw ${topic}`);
    }
  });
}
