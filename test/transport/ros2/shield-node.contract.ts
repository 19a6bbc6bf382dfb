/**
 * Contract of the ROS 2 shield node, written once and run against every rclnodejs
 * implementation (shield-node.test.ts picks the fake or, with ROS_DISTRO set, the real one).
 * Every rig waits for DDS discovery before it publishes (a message sent before a match is
 * lost), and each step waits for what it expects; only "nothing is forwarded" checks wait a
 * quiet period.
 */
import type { Test } from 'tap';
import type { RobotProfile } from '../../../src/config/profile.js';
import type { Clock } from '../../../src/core/clock.js';
import type { DriftOptions } from '../../../src/core/drift-monitor.js';
import type { ActionSource, Decision } from '../../../src/core/shield-core.js';
import { PassThroughShield, type ShieldPort } from '../../../src/core/shield-port.js';
import { StatsCounter } from '../../../src/core/shield-stats.js';
import { ShieldNode, type PoseStampedMsg, type ShieldNodeTap } from '../../../src/transport/ros2/shield-node.js';
import { Peer, pose, testProfile, type Ros2Harness } from './harness.js';

interface Rig {
  shield: ShieldNode;
  peer: Peer;
  profile: RobotProfile;
  /** Publishes measured_cp and waits until the shield has it. */
  state(x: number, y: number, z: number, stamp?: { sec: number; nanosec: number }): Promise<void>;
  /** Publishes a controller goal and waits until the shield has it. */
  command(x: number, y: number, z: number): Promise<void>;
  /** Waits until the shield's endpoints and the peer's are matched (after configure). */
  discovered(): Promise<void>;
  servo: PoseStampedMsg[];
  hold: object[];
  qRisk: { data: number }[];
  intervention: { data: boolean }[];
  diagnostics: { status: { level: number; message: string; values: { key: string; value: string }[] }[] }[];
}

let nodeCount = 0;

async function rig(h: Ros2Harness, opts: { shield?: ShieldPort; profile?: RobotProfile; tap?: ShieldNodeTap; start?: boolean; drift?: DriftOptions; modelVersion?: () => string } = {}): Promise<Rig> {
  const profile = opts.profile ?? testProfile();
  const t = profile.topics;
  const node = h.lifecycleNode(`rshield_contract_${++nodeCount}`);
  const clock: Clock = { nowMs: () => h.clock(), monotonicUs: () => h.clock() * 1000 };
  const shield = new ShieldNode({
    rcl: h.rcl, node, profile, shield: opts.shield ?? new PassThroughShield(3), clock,
    ...(opts.tap ? { tap: opts.tap } : {}),
    ...(opts.drift ? { drift: opts.drift } : {}),
    ...(opts.modelVersion ? { modelVersion: opts.modelVersion } : {}),
  });
  node.spin();
  if (opts.start !== false) shield.start();
  const peer = new Peer(h, `rshield_contract_peer_${nodeCount}`);
  const statePub = peer.publisher(t.measuredCp.type, t.measuredCp.topic);
  const cmdPub = peer.publisher(t.commandIn.type, t.commandIn.topic);
  const c = shield.counters;
  const r: Rig = {
    shield,
    peer,
    profile,
    servo: peer.listen(t.commandOut.type, t.commandOut.topic) as PoseStampedMsg[],
    hold: peer.listen(t.hold.type, t.hold.topic),
    qRisk: peer.listen(t.qRisk.type, t.qRisk.topic) as { data: number }[],
    intervention: peer.listen(t.intervention.type, t.intervention.topic) as { data: boolean }[],
    diagnostics: peer.listen(t.diagnostics.type, t.diagnostics.topic) as Rig['diagnostics'],
    async state(x, y, z, stamp) {
      const n = c.states + 1;
      statePub.publish(pose(x, y, z, stamp));
      await h.until(() => c.states >= n);
    },
    async command(x, y, z) {
      const n = c.commands + 1;
      cmdPub.publish(pose(x, y, z, { sec: 200, nanosec: 7 }));
      await h.until(() => c.commands >= n);
    },
    // The peer's subscriptions see the shield's publishers, its publishers the shield's subscriptions.
    discovered: () => h.matched({ pubs: peer.pubs, subs: peer.subs }),
  };
  if (opts.start !== false) await r.discovered();
  return r;
}

/** A shield that always answers with a fixed decision. */
function fixed(source: ActionSource, action: [number, number, number], qRisk: number, asPromise = false): ShieldPort {
  const d: Decision = { action: Float32Array.from(action), source, qRisk, failsafeReason: source === 'failsafe' ? 'inference-error' : null };
  const stats = new StatsCounter();
  return { decide: () => (asPromise ? Promise.resolve(d) : d), resetEpisode: () => undefined, stats: () => stats.snapshot() };
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
    const r = await rig(h, { shield: fixed('task', [0.001, 0, 0], 0.25, true) });
    await r.state(0.05, 0.05, -0.1);
    await r.command(0.051, 0.05, -0.1);
    await h.until(() => r.servo.length >= 1 && r.qRisk.length >= 1 && r.intervention.length >= 1);
    await h.quiet();
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
    const r = await rig(h, { shield: fixed('recovery', [-0.001, 0, 0.0005], 0.9) });
    await r.state(0.05, 0.05, -0.1);
    await r.command(0.0515, 0.05, -0.1);
    await h.until(() => r.servo.length >= 1 && r.qRisk.length >= 1 && r.intervention.length >= 1);
    const p = r.servo.at(-1)?.pose.position;
    t.ok(p && close(p.x, 0.049, 1e-7) && close(p.z, -0.0995, 1e-7), 'recovery step executed');
    t.equal(r.intervention.at(-1)?.data, true);
    t.ok(close(r.qRisk.at(-1)?.data ?? 0, 0.9, 1e-6));
    t.equal(r.shield.counters.recovery, 1);
  });

  void t.test('hard limits: a step longer than maxStepM is shortened along its direction, goals stay in the workspace', async (t) => {
    const r = await rig(h);
    const max = r.profile.limits.maxStepM;
    await r.state(0.05, 0.05, -0.1);
    await r.command(0.08, 0.09, -0.1); // 5 cm away, direction (0.6, 0.8, 0)
    await h.until(() => r.servo.length >= 1);
    const p = r.servo.at(-1)!.pose.position;
    t.ok(close(p.x, 0.05 + 0.6 * max, 1e-9) && close(p.y, 0.05 + 0.8 * max, 1e-9), `step clipped to ${max} m`);
    const zMax = r.profile.limits.workspace.max[2];
    await r.state(0.05, 0.05, zMax - 0.0005);
    await r.command(0.05, 0.05, zMax + 0.01);
    await h.until(() => r.servo.length >= 2);
    t.ok(close(r.servo.at(-1)!.pose.position.z, zMax), 'clamped onto the workspace face');
    t.equal(r.shield.counters.clippedSteps, 2);
    t.equal(r.shield.counters.clampedToWorkspace, 1);
  });

  void t.test('stale state (older than staleAfterMs) → hold once, nothing forwarded, and recovery when state returns', async (t) => {
    const r = await rig(h);
    await r.state(0.05, 0.05, -0.1);
    await h.advance(r.profile.staleAfterMs + 20);
    await r.command(0.051, 0.05, -0.1);
    await r.command(0.051, 0.05, -0.1);
    await h.until(() => r.hold.length >= 1);
    await h.quiet();
    t.equal(r.servo.length, 0, 'no command forwarded on stale state');
    t.equal(r.hold.length, 1, 'hold published once');
    t.equal(r.shield.holdReason, 'stale');
    t.ok(r.shield.counters.staleState >= 1, 'counted as stale state');
    await r.state(0.05, 0.05, -0.1);
    await r.command(0.051, 0.05, -0.1);
    await h.until(() => r.servo.length >= 1);
    t.equal(r.servo.length, 1, 'fresh state: commands flow again');
    t.equal(r.shield.holding, false);
  });

  void t.test('a zero header.stamp (dVRK: invalid data) → hold', async (t) => {
    const r = await rig(h);
    await r.state(0.05, 0.05, -0.1, { sec: 0, nanosec: 0 });
    await r.command(0.051, 0.05, -0.1);
    await h.until(() => r.hold.length >= 1);
    await h.quiet();
    t.equal(r.servo.length, 0);
    t.equal(r.hold.length, 1);
    t.equal(r.shield.holdReason, 'stale', "a zero stamp is stale in the core's terms");
    t.equal(r.shield.counters.invalidState, 1, 'counted as invalid state, not as old state');
    t.equal(r.shield.counters.staleState, 0);
  });

  void t.test('no state ever received → hold on the first command', async (t) => {
    const r = await rig(h);
    await r.command(0.051, 0.05, -0.1);
    await h.until(() => r.hold.length >= 1);
    t.equal(r.hold.length, 1);
    t.equal(r.shield.holdReason, 'stale');
    t.equal(r.shield.counters.states, 0, 'no state was received');
  });

  void t.test('bytes on servo_cp or measured_cp that are not a PoseStamped are counted and ignored, never a crash', async (t) => {
    const r = await rig(h);
    const tp = r.profile.topics;
    const cmdRaw = r.peer.publisher(tp.commandIn.type, tp.commandIn.topic);
    const stateRaw = r.peer.publisher(tp.measuredCp.type, tp.measuredCp.topic);
    await h.matched({ pubs: [cmdRaw, stateRaw], subs: [] });
    await r.state(0.05, 0.05, -0.1);
    // Serialized as rclnodejs sends a Buffer: a std_msgs/Float64's CDR, far too short for a pose.
    const notAPose = Buffer.from([0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f]);
    cmdRaw.publish(notAPose);
    stateRaw.publish(notAPose);
    await h.until(() => r.shield.counters.malformed >= 2);
    await h.quiet();
    t.equal(r.shield.counters.commands, 0, 'not counted as a command');
    t.equal(r.shield.counters.states, 1, 'not counted as a state');
    t.equal(r.servo.length + r.hold.length, 0, 'nothing published for it');
    // The quiet period may have made the state stale: a fresh one, then a goal goes through.
    await r.state(0.05, 0.05, -0.1);
    await r.command(0.051, 0.05, -0.1);
    await h.until(() => r.servo.length >= 1);
    t.ok(close(r.servo.at(-1)?.pose.position.x ?? 0, 0.051), 'the next goal goes through');
  });

  void t.test('the shield answering failsafe, throwing or rejecting → hold, counted, never a crash', async (t) => {
    const boom = (): never => {
      throw new Error('boom');
    };
    const stats = new StatsCounter();
    for (const [name, shield] of [
      ['failsafe', fixed('failsafe', [0, 0, 0], Number.NaN)],
      ['throws', { decide: boom, resetEpisode: () => undefined, stats: () => stats.snapshot() }],
      ['rejects', { decide: () => Promise.reject(new Error('boom')), resetEpisode: () => undefined, stats: () => stats.snapshot() }],
    ] as const) {
      const r = await rig(h, { shield });
      await r.state(0.05, 0.05, -0.1);
      await r.command(0.051, 0.05, -0.1);
      await h.until(() => r.hold.length >= 1);
      await h.quiet();
      t.equal(r.servo.length, 0, `${name}: nothing forwarded`);
      t.equal(r.hold.length, 1, `${name}: hold`);
      t.equal(r.shield.holdReason, 'inference-error', `${name}: reason`);
    }
  });

  void t.test('while holding, the reason follows the cause: a fail-safe answer, then stale state, reads stale', async (t) => {
    const r = await rig(h, { shield: fixed('failsafe', [0, 0, 0], Number.NaN) });
    await r.state(0.05, 0.05, -0.1);
    await r.command(0.051, 0.05, -0.1);
    await h.until(() => r.hold.length >= 1);
    t.equal(r.shield.holdReason, 'inference-error');
    await h.advance(r.profile.staleAfterMs + 20);
    await r.command(0.051, 0.05, -0.1);
    await h.until(() => r.shield.holdReason === 'stale');
    await h.quiet();
    t.equal(r.shield.holdReason, 'stale', '/diagnostics names what holds the arm now');
    t.equal(r.hold.length, 1, 'hold still published once');
  });

  void t.test('lifecycle: inactive forwards nothing; deactivate publishes hold', async (t) => {
    const r = await rig(h, { start: false });
    r.shield.node.configure();
    await r.discovered();
    await r.state(0.05, 0.05, -0.1);
    await r.command(0.051, 0.05, -0.1);
    await h.quiet();
    t.equal(r.servo.length, 0, 'configured but inactive: nothing forwarded');
    r.shield.node.activate();
    // Fresh state: the quiet period above may be longer than staleAfterMs.
    await r.state(0.05, 0.05, -0.1);
    await r.command(0.051, 0.05, -0.1);
    await h.until(() => r.servo.length >= 1);
    t.equal(r.servo.length, 1, 'active: forwarded');
    r.shield.node.deactivate();
    await h.until(() => r.hold.length >= 1);
    t.equal(r.hold.length, 1, 'deactivate holds the arm');
    t.equal(r.shield.holdReason, 'deactivate');
    await r.command(0.051, 0.05, -0.1);
    await h.quiet();
    t.equal(r.servo.length, 1, 'inactive again: nothing forwarded');
  });

  void t.test('timer mode: the latest goal is re-decided at the rate while the controller talks', async (t) => {
    const profile = testProfile((doc) => {
      doc['tick'] = { mode: 'timer', rateHz: 100 };
      doc['staleAfterMs'] = 1000;
    });
    const r = await rig(h, { profile });
    await r.state(0.05, 0.05, -0.1);
    // The fake's clock stands still between advances, so it can show that the command itself
    // does not tick; on the wall clock the timer may already have fired.
    if (h.kind === 'fake') {
      await r.command(0.051, 0.05, -0.1);
      await h.quiet();
      t.equal(r.servo.length, 0, 'a command alone does not tick in timer mode');
    } else {
      await r.command(0.051, 0.05, -0.1);
      await h.until(() => r.servo.length >= 1);
    }
    // A window long enough that scheduling jitter on a loaded machine stays small against it.
    const windowMs = h.kind === 'fake' ? 55 : 400;
    const before = r.servo.length;
    const t0 = h.clock();
    await h.advance(windowMs);
    // Counted at once: the timer keeps ticking, and same-host delivery takes about a millisecond.
    const ticks = r.servo.length - before;
    const elapsed = h.clock() - t0;
    const expected = (elapsed * 100) / 1000;
    t.ok(ticks >= Math.floor(expected * 0.75) && ticks <= Math.ceil(expected * 1.25), `about ${expected.toFixed(1)} ticks in ${elapsed.toFixed(0)} ms at 100 Hz (got ${ticks})`);
    t.equal(r.shield.counters.commands, 1, 'from one command');
  });

  void t.test('watchdog: state that stops while the controller is idle still triggers hold, and /diagnostics says so', async (t) => {
    const r = await rig(h);
    await r.state(0.05, 0.05, -0.1);
    await r.command(0.051, 0.05, -0.1);
    await h.until(() => r.servo.length >= 1);
    t.equal(r.servo.length, 1);
    await h.advance(1100);
    await h.until(() => r.hold.length >= 1 && r.diagnostics.at(-1)?.status[0]?.level === 2, 2500);
    t.equal(r.hold.length, 1, 'hold without any further command');
    const last = r.diagnostics.at(-1)?.status[0];
    t.equal(last?.level, 2, 'diagnostics level ERROR while holding');
    t.match(last?.message, /holding: stale/);
    t.equal(last?.values.find((v) => v.key === 'task')?.value, '1');
    t.equal(last?.values.find((v) => v.key === 'command_out_subscribers')?.value, '1', 'the peer listens to servo_cp');
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
    await r.state(0.05, 0.05, -0.1);
    await r.command(0.051, 0.05, -0.1);
    await h.until(() => ticks.length >= 1);
    await h.quiet();
    t.equal(ticks.length, 1);
    t.ok(ticks[0]!.every(Number.isFinite));
    t.ok(close(ticks[0]![3]!, 0.001, 1e-7) && close(ticks[0]![6]!, 0.001, 1e-7));
    const tp = r.profile.topics;
    for (const topic of [tp.measuredCp.topic, tp.commandIn.topic, tp.commandOut.topic, tp.qRisk.topic, tp.intervention.topic]) {
      t.ok(topics.has(topic), `tap saw ${topic}`);
    }
  });

  // Drift (src/core/drift-monitor.ts) as the node can see it: q_risk of each proposed step and
  // the profile's constraints at the next tick. staleAfterMs is long so that the 1 Hz
  // diagnostics find the arm shielding, not holding on state that aged while the test waited.
  const patient = (): RobotProfile => testProfile((doc) => (doc['staleAfterMs'] = 5000));
  type Diag = Rig['diagnostics'][number]['status'][number];
  const value = (s: Diag | undefined, key: string): string | undefined => s?.values.find((v) => v.key === key)?.value;
  /** The next /diagnostics message published after now. */
  const nextDiagnostics = async (r: Rig): Promise<Diag | undefined> => {
    const n = r.diagnostics.length;
    await h.advance(1100);
    await h.until(() => r.diagnostics.length > n, 2500);
    return r.diagnostics.at(-1)?.status[0];
  };

  void t.test('drift: a violation right after a step the critic rated safe → /diagnostics WARN naming the missed violation', async (t) => {
    const r = await rig(h, { shield: fixed('task', [0.001, 0, 0], 0.05), profile: patient(), drift: { gammaRisk: 0.7 } });
    await r.state(0.05, 0.05, -0.1);
    await r.command(0.051, 0.05, -0.1);
    await h.until(() => r.servo.length >= 1);
    let s = await nextDiagnostics(r);
    t.equal(s?.level, 0, 'one step, no violation: OK');
    t.equal(value(s, 'drift_suspected'), 'no');
    t.equal(value(s, 'drift_transitions'), '0', 'the step is pending until the next tick sees where the tip went');
    // The tip left the constraint box (x < 0.03) though the critic rated the step safe (q_risk 0.05).
    await r.state(0.029, 0.05, -0.1);
    await r.command(0.03, 0.05, -0.1);
    await h.until(() => r.servo.length >= 2);
    s = await nextDiagnostics(r);
    t.equal(s?.level, 1, 'WARN');
    t.match(s?.message, /^shielding; critic drift suspected: missed violations 1$/);
    t.equal(value(s, 'drift_suspected'), 'yes');
    t.equal(value(s, 'drift_transitions'), '1');
    t.equal(value(s, 'drift_violations'), '1');
    t.equal(value(s, 'drift_missed_violations'), '1');
    // A step taken from inside the violation is no transition: nothing more is counted.
    await r.state(0.029, 0.05, -0.1);
    await r.command(0.03, 0.05, -0.1);
    await h.until(() => r.servo.length >= 3);
    s = await nextDiagnostics(r);
    t.equal(value(s, 'drift_transitions'), '1');
  });

  void t.test('drift: TD-error RMS of the decisions above the limit → WARN; a new model version is judged afresh', async (t) => {
    // q_risk 0.9 at every step, no violation, γ 0.5: TD error 0.9 − 0.5·0.9 = 0.45 > 0.25 once 3 targets are in.
    let version = 'v1';
    const r = await rig(h, { shield: fixed('task', [0.001, 0, 0], 0.9), profile: patient(), drift: { gammaRisk: 0.5, window: 3, tdErrorLimit: 0.25 }, modelVersion: () => version });
    for (let i = 0; i < 5; i++) {
      await r.state(0.05, 0.05, -0.1);
      await r.command(0.051, 0.05, -0.1);
      await h.until(() => r.servo.length >= i + 1);
    }
    let s = await nextDiagnostics(r);
    t.equal(s?.level, 1, 'WARN');
    t.match(s?.message, /critic drift suspected: TD-error RMS 0\.4500 > 0\.25$/);
    t.equal(value(s, 'drift_td_error_rms'), '0.4500');
    t.equal(value(s, 'drift_missed_violations'), '0');
    t.equal(value(s, 'drift_transitions'), '4');
    version = 'v2';
    s = await nextDiagnostics(r);
    t.equal(s?.level, 0, 'the new model has not been judged yet: OK');
    t.equal(value(s, 'drift_suspected'), 'no');
    t.equal(value(s, 'drift_transitions'), '0');
    t.equal(value(s, 'drift_td_error_rms'), 'n/a');
  });
}
