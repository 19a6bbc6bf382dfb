// The ROS 2 shield in the online loop (broker parameter): executed ticks reach a trainer-side
// receiver over a real broker as labelled transitions (c = C(s′) from the profile, a violation
// ends the episode); a signed version published on the model topic is swapped in between ticks
// and decides the later commands (/diagnostics names it); unsigned, untrusted and replayed
// versions are refused, counted, and never stop the shield; with the broker down the ticks go on
// and the transitions wait in the spool. On the in-repo fake rclnodejs, or on the real one where
// ROS 2 is sourced (ROS_DISTRO set).
import t, { type Test } from 'tap';
import { cpSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot, loadRobotProfile } from '../../src/config/profile.js';
import { runRos2Shield } from '../../src/app/ros2-shield.js';
import type { Ros2Online } from '../../src/app/ros2-online.js';
import { transitionsOf } from '../../src/data/transition-columns.js';
import type { Transition } from '../../src/core/types.js';
import { createEnv } from '../../src/envs/index.js';
import { Shield } from '../../src/inference/shield.js';
import { readModelDir } from '../../src/models/model-dir.js';
import { generateSigningKeys, parsePrivateKey } from '../../src/models/signing.js';
import { buildModelMessages } from '../../src/transport/mqtt/model-transfer.js';
import { robotTopics } from '../../src/transport/mqtt/topics.js';
import { decodeTransitions } from '../../src/transport/mqtt/transition-codec.js';
import { ConstraintLabeler } from '../../src/transport/ros2/constraints.js';
import { loadRclnodejs } from '../../src/transport/ros2/load-rclnodejs.js';
import type { RclModule } from '../../src/transport/ros2/rclnodejs-api.js';
import type { ShieldNode } from '../../src/transport/ros2/shield-node.js';
import { SimController, SimPsm } from '../../src/transport/ros2/sim-node.js';
import { startBroker } from '../helpers/broker.js';
import { client, signedCmd, operator } from '../transport/mqtt/harness.js';
import { createFakeRclnodejs, fakeClock } from '../transport/ros2/fake-rclnodejs.js';
import { hasRos2, isolateRos2 } from '../transport/ros2/harness.js';

const ROBOT = 'dvrk-reacher';
const topics = robotTopics(ROBOT);
const shipped = join(packageRoot(), 'models', ROBOT);
const constraints = new ConstraintLabeler(loadRobotProfile(ROBOT).constraints);
const trainerKeys = generateSigningKeys();
const intruder = generateSigningKeys();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The fake rclnodejs (time driven by hand) or, with ROS 2 sourced, the real one (wall clock). */
interface Ros {
  readonly kind: 'fake' | 'rclnodejs';
  readonly rcl: RclModule;
  readonly clock?: ReturnType<typeof fakeClock>;
  /** Lets `ms` of ROS time pass. */
  advance(ms: number): Promise<void>;
}

async function ros(): Promise<Ros> {
  if (hasRos2()) {
    isolateRos2();
    return { kind: 'rclnodejs', rcl: await loadRclnodejs(), advance: sleep };
  }
  const rcl = createFakeRclnodejs();
  return {
    kind: 'fake',
    rcl,
    clock: fakeClock(rcl.ros),
    // ROS time in 10 ms steps; inference runs in a worker on the wall clock, so let it answer.
    advance: async (ms) => {
      for (let done = 0; done < ms; done += 10) {
        await rcl.ros.advance(10);
        await sleep(1);
      }
    },
  };
}

/** A copy of the shipped model whose card says `version` and ε_risk (0.999: hardly ever intervene; 0: on every tick). */
function modelCopy(dir: string, version: string, epsRisk: number): string {
  const out = join(dir, version);
  cpSync(shipped, out, { recursive: true });
  const card = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(out, 'model.json'), JSON.stringify({ ...card, version, epsRisk }, null, 2));
  return out;
}

/** An operator who drives the tip out of the constraint box (+x), where episodes end in violation. */
const outward = {
  act: (obs: Float32Array): Float32Array => {
    const d = [0.134 - obs[0]!, 0.07 - obs[1]!, -0.13 - obs[2]!];
    const k = Math.min(1, 0.003 / Math.max(Math.hypot(...d), 1e-9));
    return Float32Array.from(d.map((v) => v * k));
  },
  reset: () => undefined,
};

interface Started {
  node: ShieldNode;
  online: Ros2Online;
  done: Promise<number>;
  abort: AbortController;
  lines: string[];
  /** /diagnostics values as they arrive, newest last. */
  diagnostics: Map<string, string>[];
  shield: Shield;
}

async function startShield(t: Test, r: Ros, o: { broker: string; dir: string; startModel: string }): Promise<Started> {
  // A generous deadline: this machine is shared, and the test is about the online loop, not the watchdog.
  const shield = await Shield.load({ modelDir: o.startModel, robot: ROBOT, deadlineUs: 200_000 });
  const abort = new AbortController();
  t.teardown(() => abort.abort());
  const lines: string[] = [];
  writeFileSync(join(o.dir, 'trainer.pub'), trainerKeys.publicKeyPem);
  writeFileSync(join(o.dir, 'operator.pub'), operator.publicKeyPem);
  let started!: (s: { node: ShieldNode; online: Ros2Online }) => void;
  const whenStarted = new Promise<{ node: ShieldNode; online: Ros2Online }>((resolve) => (started = resolve));
  const diagnostics: Map<string, string>[] = [];
  const done = runRos2Shield({
    rcl: r.rcl,
    shield,
    params: {
      profile: ROBOT,
      model_dir: o.startModel,
      broker: o.broker,
      trust_keys: join(o.dir, 'trainer.pub'),
      operator_keys: join(o.dir, 'operator.pub'),
      spool_dir: join(o.dir, 'spool'),
      state_dir: join(o.dir, 'state'),
    },
    batchSize: 16,
    ...(r.clock !== undefined ? { clock: r.clock } : {}),
    signal: abort.signal,
    log: (l) => lines.push(l),
    onStarted: (node, online) => {
      started({ node, online: online! });
      const sim = new r.rcl.Node('sim_psm');
      const psm = new SimPsm({ rcl: r.rcl, node: sim, profile: node.profile, env: createEnv(ROBOT, { seed: 3 }), seed: 3, endPauseS: 0.1 });
      new SimController({ rcl: r.rcl, node: sim, profile: node.profile, controller: outward, rateHz: 50 });
      sim.createSubscription('diagnostic_msgs/msg/DiagnosticArray', '/diagnostics', {}, (m: { status: { values: { key: string; value: string }[] }[] }) => {
        diagnostics.push(new Map(m.status[0]!.values.map((v) => [v.key, v.value])));
      });
      sim.spin();
      psm.start();
    },
  });
  // A start that fails (or never comes) fails the test with the node's log instead of hanging it.
  const s = await Promise.race([
    whenStarted,
    done.then((code) => Promise.reject(new Error(`the shield exited ${code} before it started: ${lines.join(' | ')}`))),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`the shield did not start within 60 s: ${lines.join(' | ')}`)), 60_000).unref()),
  ]);
  return { ...s, done, abort, lines, diagnostics, shield };
}

/** The trainer's side of the transitions topic: every row, in arrival order. */
function trainerReceiver(t: Test, url: string): { rows: Transition[]; batches: { session: number; seq: number }[]; ready: Promise<void> } {
  const c = client(t, url);
  const rows: Transition[] = [];
  const batches: { session: number; seq: number }[] = [];
  const ready = (async () => {
    await c.waitConnected();
    await c.subscribe(topics.transitions, (_topic, payload) => {
      const b = decodeTransitions(payload, { obsDim: 3, actDim: 3 });
      batches.push({ session: b.session, seq: b.seq });
      rows.push(...transitionsOf(b.columns));
    });
  })();
  return { rows, batches, ready };
}

async function until(r: Ros, done: () => boolean, maxMs: number): Promise<boolean> {
  for (let waited = 0; waited < maxMs && !done(); waited += 100) await r.advance(100);
  return done();
}

void t.test(`ROS 2 ticks reach the trainer as labelled transitions; a signed version is swapped in; bad ones are refused and counted (${hasRos2() ? 'real rclnodejs' : 'fake rclnodejs'})`, async (t) => {
  const broker = await startBroker();
  t.teardown(() => broker.stop());
  const dir = t.testdir({});
  const r = await ros();
  const receiver = trainerReceiver(t, broker.url);
  await receiver.ready;
  const s = await startShield(t, r, { broker: broker.url, dir, startModel: modelCopy(dir, 'start-v0', 0.999) });
  const link = s.online.link;
  t.equal(link.robot, ROBOT, "the topic tree is the model's robot (what rshield trainer --robot names)");

  // 1. Transitions, labelled as rshield record labels them.
  t.ok(await until(r, () => receiver.rows.filter((x) => x.cost === 1).length >= 2 && receiver.rows.length >= 64, 30_000), `${receiver.rows.length} transitions received, ${receiver.rows.filter((x) => x.cost === 1).length} violations`);
  const rows = receiver.rows;
  t.ok(rows.every((x) => x.cost === (constraints.violated(x.nextObs[0]!, x.nextObs[1]!, x.nextObs[2]!) !== null ? 1 : 0)), "every cost is C(s′) of the profile's constraints");
  t.ok(rows.every((x) => x.cost === 0 || x.done), 'a violation ends its episode');
  t.ok(rows.every((x) => !x.done || x.nextAct === undefined), 'a terminal row has no a′');
  let chained = true;
  for (let i = 1; i < rows.length; i++) {
    const [a, b] = [rows[i - 1]!, rows[i]!];
    if (a.done ? b.episode !== a.episode + 1 || b.step !== 0 : b.episode !== a.episode || b.step !== a.step + 1) chained = false;
  }
  t.ok(chained, 'episode ids count up after each ending, steps count up within one');
  t.ok(new Set(rows.map((x) => x.episode)).size >= 2, `${new Set(rows.map((x) => x.episode)).size} episodes`);
  t.equal(new Set(receiver.batches.map((b) => b.session)).size, 1, 'one session');
  t.same(receiver.batches.map((b) => b.seq), receiver.batches.map((_, i) => i), 'batches in order, none lost');

  // The start model (ε_risk 0.999) hardly ever intervenes.
  await until(r, () => s.diagnostics.length > 0, 3000);
  const before = s.diagnostics.at(-1)!;
  t.equal(before.get('model_version'), 'start-v0', '/diagnostics names the running version');
  const c0 = { ...s.node.counters };
  const shareBefore = c0.recovery / Math.max(1, c0.task + c0.recovery);
  t.ok(shareBefore < 0.5, `recovery on ${(100 * shareBefore).toFixed(0)}% of the decisions under ε_risk 0.999`);
  t.equal(before.get('broker'), 'connected');

  // 2. A signed version (ε_risk 0: recovery on every tick) is swapped in and decides what follows.
  const publisher = client(t, broker.url);
  await publisher.waitConnected();
  const send = async (msgs: readonly object[]): Promise<void> => {
    for (const m of msgs) await publisher.publish(topics.model, JSON.stringify(m), { qos: 1 });
  };
  const v1 = await readModelDir(modelCopy(dir, 'online-v1', 0));
  const v1Messages = buildModelMessages(v1, { robot: ROBOT, sequence: 1, signer: parsePrivateKey(trainerKeys.privateKeyPem), transfer: 'inline' });
  await send(v1Messages);
  t.ok(await until(r, () => link.swaps === 1, 30_000), 'swapped in');
  t.equal(s.shield.modelVersion, 'online-v1');
  const c1 = { ...s.node.counters };
  await until(r, () => s.node.counters.recovery + s.node.counters.task > c1.recovery + c1.task + 30, 10_000);
  const recoveryAfter = s.node.counters.recovery - c1.recovery;
  const shareAfter = recoveryAfter / Math.max(1, recoveryAfter + s.node.counters.task - c1.task);
  t.ok(shareAfter > 0.9, `the new version decides: recovery on ${(100 * shareAfter).toFixed(0)}% of the ${recoveryAfter} + ${s.node.counters.task - c1.task} decisions since the swap`);
  t.ok(s.lines.some((l) => l === 'rshield: model online-v1 swapped in'), 'the swap is logged');

  // 3. Refused: unsigned, signed by an untrusted key, a replay of v1. The shield goes on.
  const ticks = s.node.counters.ticks;
  const v2 = await readModelDir(modelCopy(dir, 'online-v2', 0.5));
  await send(buildModelMessages(v2, { robot: ROBOT, sequence: 2, transfer: 'inline' }));
  await send(buildModelMessages(v2, { robot: ROBOT, sequence: 3, signer: parsePrivateKey(intruder.privateKeyPem), transfer: 'inline' }));
  await send(v1Messages);
  t.ok(await until(r, () => link.swapFailures === 3, 20_000), `3 versions refused (${link.swapFailures})`);
  t.match(link.lastSwapError, /online-v1: .*sequence 1, equal to 1 of online-v1: an older or replayed version is refused/, 'the replay, with its reason');
  t.ok(s.lines.some((l) => /model online-v2 refused: .*unsigned/i.test(l)), 'the unsigned one, logged with its reason');
  await until(r, () => s.node.counters.ticks > ticks + 20 && s.diagnostics.at(-1)?.get('model_refused') === '3', 5000);
  t.ok(s.node.counters.ticks > ticks + 20, 'ticks go on');
  const after = s.diagnostics.at(-1)!;
  t.same([after.get('model_version'), after.get('model_swaps'), after.get('model_refused')], ['online-v1', '1', '3'], '/diagnostics: the running version, the swap and the refusals');
  t.equal(s.shield.modelVersion, 'online-v1', 'the swapped-in version still runs');

  // 4. Commands: a signed disarm is the lifecycle's business (ignored); record-stop stops streaming.
  await publisher.publish(topics.cmd, signedCmd('disarm', { robot: ROBOT }), { qos: 1 });
  await publisher.publish(topics.cmd, signedCmd('record-stop', { robot: ROBOT }), { qos: 1 });
  t.ok(await until(r, () => !link.recording, 5000), 'record-stop obeyed');
  t.equal(link.commandsIgnored, 1, 'disarm ignored');
  t.ok(s.node.active, 'still active: arming is the lifecycle state');

  s.abort.abort();
  t.equal(await s.done, 0, 'exits 0');
  t.ok(s.lines.some((l) => /^rshield: online: \d+ transitions, \d+ batches sent, 0 spooled, 1 swaps, 3 versions refused$/.test(l)), 'exit summary');
});

void t.test(`with the broker down at start and mid-run, ticks go on and the transitions wait in the spool (${hasRos2() ? 'real rclnodejs' : 'fake rclnodejs'})`, async (t) => {
  const broker = await startBroker();
  t.teardown(() => broker.stop());
  await broker.down();
  const dir = t.testdir({});
  const r = await ros();
  const s = await startShield(t, r, { broker: broker.url, dir, startModel: modelCopy(dir, 'start-v0', 0.2) });
  const link = s.online.link;
  t.ok(await until(r, () => readdirSync(join(dir, 'spool')).filter((f) => f.endsWith('.rstb')).length >= 3, 20_000), 'batches spooled on disk while the broker is down');
  t.ok(s.node.counters.ticks >= 40, `${s.node.counters.ticks} ticks without a broker`);
  t.equal(link.batchesSent, 0);
  await until(r, () => s.diagnostics.length > 0, 3000);
  t.match(s.diagnostics.at(-1)?.get('broker'), /^disconnected/, '/diagnostics says so');

  const receiver = trainerReceiver(t, broker.url);
  await broker.up();
  await receiver.ready;
  t.ok(await until(r, () => link.batchesSent >= 3 && receiver.batches.length >= 3, 20_000), `${link.batchesSent} batches sent once the broker is up`);
  t.equal(receiver.batches[0]?.seq, 0, 'the oldest first');

  await broker.down();
  const ticks = s.node.counters.ticks;
  await r.advance(1000);
  t.ok(s.node.counters.ticks > ticks + 20, 'ticks go on when the broker goes down mid-run');
  s.abort.abort();
  t.equal(await s.done, 0, 'exits 0');
});
