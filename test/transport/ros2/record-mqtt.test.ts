// `rshield record --broker`: episodes started and stopped from the MQTT cmd topic, on the fake
// rclnodejs and a real broker; invalid payloads counted and ignored, the ROS topic still works.
import t from 'tap';
import { join } from 'node:path';
import { readDataset } from '../../../src/data/read-dataset.js';
import { createEnv } from '../../../src/envs/index.js';
import { robotTopics } from '../../../src/transport/mqtt/topics.js';
import { runRecord, type RecordSession } from '../../../src/app/ros2-record.js';
import { SimController, SimPsm } from '../../../src/transport/ros2/sim-node.js';
import { startBroker } from '../../helpers/broker.js';
import { writeFileSync } from 'node:fs';
import { client, operator as operatorKey, signedCmd } from '../mqtt/harness.js';
import { createFakeRclnodejs, settle, fakeClock } from './fake-rclnodejs.js';

/** An operator moving the tip at 2 mm per step toward a corner away from the post. */
const operator = {
  act: (obs: Float32Array): Float32Array => {
    const d = [0.12 - obs[0]!, 0.1 - obs[1]!, -0.1 - obs[2]!];
    const k = Math.min(1, 0.002 / Math.max(Math.hypot(...d), 1e-9));
    return Float32Array.from(d.map((v) => v * k));
  },
  reset: () => undefined,
};

/** Serves the simulated PSM, driven by `operator`, beside a started recorder. */
function startSimPsm(rcl: ReturnType<typeof createFakeRclnodejs>, s: RecordSession, seed: number): void {
  const node = new rcl.Node('sim');
  const sim = new SimPsm({ rcl, node, profile: s.shield.profile, env: createEnv('dvrk-reacher', { seed }), seed });
  new SimController({ rcl, node, profile: s.shield.profile, controller: operator, rateHz: 50 });
  node.spin();
  sim.start();
}

/** Log lines, and a promise for the first one matching. */
function logLines(): { lines: string[]; log: (l: string) => void; until: (re: RegExp) => Promise<string> } {
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  return {
    lines,
    log: (l) => {
      lines.push(l);
      for (const w of waiters.splice(0)) {
        if (w.re.test(l)) w.resolve(l);
        else waiters.push(w);
      }
    },
    until: (re) => {
      const seen = lines.find((l) => re.test(l));
      return seen !== undefined ? Promise.resolve(seen) : new Promise((resolve) => waiters.push({ re, resolve }));
    },
  };
}

void t.test('signed record-start / record-stop on rshield/v1/<robot>/cmd start and stop episodes; invalid and unsigned payloads are counted and ignored', async (t) => {
  const broker = await startBroker();
  t.teardown(() => broker.stop());
  const dir = t.testdir({});
  const out = join(dir, 'demos.mcap');
  const operatorPub = join(dir, 'operator.pub');
  writeFileSync(operatorPub, operatorKey.publicKeyPem);
  const signed = (c: Parameters<typeof signedCmd>[0], id?: string): string => signedCmd(c, { robot: 'dvrk-reacher', ...(id !== undefined ? { id } : {}) });
  const rcl = createFakeRclnodejs();
  const abort = new AbortController();
  const { lines, log, until } = logLines();
  t.teardown(() => abort.abort());
  let started!: (s: RecordSession) => void;
  const whenStarted = new Promise<RecordSession>((resolve) => (started = resolve));
  const done = runRecord({
    rcl,
    profile: 'dvrk-reacher',
    out,
    broker: { url: broker.url },
    operatorKeyFiles: [operatorPub],
    stateDir: join(dir, 'state'),
    clock: fakeClock(rcl.ros),
    signal: abort.signal,
    log,
    nodeLog: () => undefined,
    onStarted: (s) => {
      started(s);
      startSimPsm(rcl, s, 5);
    },
  });
  const session = await whenStarted;
  t.ok(session.commands, 'subscribed to MQTT cmd');
  t.equal(session.commands!.topic, 'rshield/v1/dvrk-reacher/cmd', 'the topic is named after the profile');
  await session.subscribed;
  const tap = session.recording.tap;

  const operatorConsole = client(t, broker.url);
  await operatorConsole.waitConnected();
  const cmd = robotTopics('dvrk-reacher').cmd;
  const send = (payload: string | Uint8Array): Promise<void> => operatorConsole.publish(cmd, payload, { qos: 1 });

  await rcl.ros.advance(500);
  t.equal(tap.transitionCount, 0, 'nothing recorded before record-start');

  await send(signed('record-start', 'op-1'));
  await until(/episode 0 started/);
  await rcl.ros.advance(1000);
  const recorded = tap.transitionCount;
  t.ok(recorded > 20, `${recorded} transitions recorded after record-start`);

  // Invalid payloads: not JSON, binary, wrong version, unknown command, wrong types, extra nesting.
  const bad: (string | Uint8Array)[] = [
    'record-stop',
    '',
    Uint8Array.from([0, 255, 1, 2]),
    JSON.stringify({ v: 2, cmd: 'record-stop' }),
    JSON.stringify({ v: 1, cmd: 'record-pause' }),
    JSON.stringify({ v: 1, cmd: 42 }),
    JSON.stringify({ v: 1 }),
    JSON.stringify([{ v: 1, cmd: 'record-stop' }]),
    JSON.stringify({ v: 1, cmd: 'record-stop', id: 'x'.repeat(65) }),
    'null',
    // Well-formed but unsigned, or signed for another robot: refused all the same.
    JSON.stringify({ v: 1, cmd: 'record-stop' }),
    signedCmd('record-stop', { robot: 'psm1' }),
  ];
  for (const p of bad) await send(p);
  await send(signed('disarm'));
  await until(/disarm from .* ignored/);
  await rcl.ros.advance(500);
  t.ok(tap.transitionCount > recorded, 'still recording: no invalid payload stopped the episode');
  t.equal(session.commands!.invalid, bad.length, `${bad.length} refused payloads counted`);
  t.equal(session.commands!.ignored, 1, 'arm/disarm mean nothing to a recorder');

  await send(signed('record-stop'));
  await until(/^stopped; /);
  const atStop = tap.transitionCount;
  await rcl.ros.advance(1000);
  t.equal(tap.transitionCount, atStop, 'nothing recorded after record-stop');

  // The ROS episode topic works beside MQTT.
  const peer = new rcl.Node('ros_console');
  peer.spin();
  peer.createPublisher('std_msgs/msg/String', session.shield.profile.topics.episode.topic).publish({ data: 'start' });
  await settle();
  await rcl.ros.advance(500);
  t.ok(tap.transitionCount > atStop, 'the ROS episode topic started another episode');

  abort.abort();
  t.equal(await done, 0, 'exits 0');
  t.ok(lines.some((l) => l === `rshield/v1/dvrk-reacher/cmd: 2 applied, 1 ignored, ${bad.length} refused`), 'exit summary of the cmd topic');
  t.ok(lines.some((l) => /record-start from .* \(id op-1\)/.test(l)), 'the command id is logged');
  t.equal(lines.filter((l) => /^message on .* refused/.test(l)).length, 5, 'the first five refused payloads are logged, the rest only counted');

  const ds = await readDataset([out]);
  t.ok(ds.files[0]!.complete, 'closed cleanly');
  t.equal(ds.size, tap.transitionCount);
  t.same([...new Set(ds.episode)].sort(), [0, 1], 'two episodes: MQTT start/stop, then the ROS topic');
});

void t.test('with the broker down the recorder still records from the ROS topic', async (t) => {
  const dir = t.testdir({});
  const rcl = createFakeRclnodejs();
  const abort = new AbortController();
  const { log, lines } = logLines();
  t.teardown(() => abort.abort());
  let started!: (s: RecordSession) => void;
  const whenStarted = new Promise<RecordSession>((resolve) => (started = resolve));
  const done = runRecord({
    rcl,
    profile: 'dvrk-reacher',
    out: join(dir, 'demos.mcap'),
    broker: { url: 'mqtt://127.0.0.1:1' },
    stateDir: join(dir, 'state'),
    clock: fakeClock(rcl.ros),
    signal: abort.signal,
    log,
    nodeLog: () => undefined,
    onStarted: (s) => {
      started(s);
      startSimPsm(rcl, s, 6);
    },
  });
  const session = await whenStarted;
  await settle();
  const peer = new rcl.Node('ros_console');
  peer.spin();
  peer.createPublisher('std_msgs/msg/String', session.shield.profile.topics.episode.topic).publish({ data: 'start' });
  await settle();
  await rcl.ros.advance(1000);
  t.ok(session.recording.tap.transitionCount >= 10, `recording without the broker (${session.recording.tap.transitionCount})`);
  t.ok(lines.includes('episode 0 started'), 'started from the ROS episode topic');
  abort.abort();
  t.equal(await done, 0);
});

void t.test('a command the recorder obeyed is refused as replayed by the next run (nonces kept in --state)', async (t) => {
  const broker = await startBroker();
  t.teardown(() => broker.stop());
  const dir = t.testdir({});
  const operatorPub = join(dir, 'operator.pub');
  writeFileSync(operatorPub, operatorKey.publicKeyPem);
  const start = signedCmd('record-start', { robot: 'dvrk-reacher', id: 'op-7' });
  const operatorConsole = client(t, broker.url);
  await operatorConsole.waitConnected();
  const recordOnce = async (file: string): Promise<{ lines: string[]; replayed: number; transitions: number }> => {
    const rcl = createFakeRclnodejs();
    const abort = new AbortController();
    const { lines, log } = logLines();
    t.teardown(() => abort.abort());
    let started!: (s: RecordSession) => void;
    const whenStarted = new Promise<RecordSession>((resolve) => (started = resolve));
    const done = runRecord({
      rcl, profile: 'dvrk-reacher', out: join(dir, file), broker: { url: broker.url }, operatorKeyFiles: [operatorPub], stateDir: join(dir, 'state'),
      clock: fakeClock(rcl.ros), signal: abort.signal, log, nodeLog: () => undefined,
      onStarted: (s) => {
        started(s);
        startSimPsm(rcl, s, 7);
      },
    });
    const session = await whenStarted;
    await session.subscribed;
    const cmds = session.commands!;
    await operatorConsole.publish(robotTopics('dvrk-reacher').cmd, start, { qos: 1 });
    for (let i = 0; i < 400 && cmds.applied + cmds.invalid === 0; i++) await new Promise((r) => setTimeout(r, 5));
    await rcl.ros.advance(500);
    const result = { lines, replayed: lines.filter((l) => /replayed nonce/.test(l)).length, transitions: session.recording.tap.transitionCount };
    abort.abort();
    t.equal(await done, 0, `${file}: exits 0`);
    return result;
  };
  const first = await recordOnce('first.mcap');
  t.ok(first.lines.some((l) => /record-start from .* \(id op-7\)/.test(l)), 'the first run obeys record-start');
  t.ok(first.transitions > 0, `and records (${first.transitions} transitions)`);
  const second = await recordOnce('second.mcap');
  t.equal(second.replayed, 1, 'the restarted recorder refuses the same signed command as replayed');
  t.equal(second.transitions, 0, 'and records nothing from it');
});
