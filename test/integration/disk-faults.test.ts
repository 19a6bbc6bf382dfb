// Disk faults while the robot runs: the MQTT shield's spool and `rshield record` hit ENOSPC part
// way through. Shielding goes on, the fault is said once (log, status, /diagnostics), and what
// reached the disk before it is neither lost nor sent broken.
import t from 'tap';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { McapStreamReader } from '@mcap/core';
import { statusPayload } from '../../src/config/mqtt-payloads.js';
import { createEnv } from '../../src/envs/index.js';
import { PassThroughShield } from '../../src/core/shield-port.js';
import { openDemoRecording } from '../../src/transport/ros2/open-demo-recording.js';
import { runRos2Shield } from '../../src/app/ros2-shield.js';
import type { ShieldNode } from '../../src/transport/ros2/shield-node.js';
import { SimController, SimPsm } from '../../src/transport/ros2/sim-node.js';
import { startBroker } from '../helpers/broker.js';
import { faultySinkFs, faultySpoolFs } from '../helpers/faulty-fs.js';
import { createFakeRclnodejs, fakeClock, settle } from '../transport/ros2/fake-rclnodejs.js';
import { client, shieldNode, topics, trainerNode, waitForMessage } from '../transport/mqtt/harness.js';

void t.test('spool full: shielding goes on, status says so once, every batch written before reaches the trainer', async (t) => {
  const broker = await startBroker();
  t.teardown(() => broker.stop());
  const { trainer } = await trainerNode(t, broker.url, { every: 1_000_000 });
  const { node, shield } = await shieldNode(t, broker.url, { batchSize: 16, spoolFs: faultySpoolFs(3) });
  const watcher = client(t, broker.url);
  await watcher.waitConnected();
  const faulted = waitForMessage((h) => void watcher.subscribe(topics.status, h), (p) => {
    const s = statusPayload.safeParse(JSON.parse(Buffer.from(p).toString('utf8')));
    return s.success && s.data.state === 'online' && s.data.diskError !== undefined;
  });
  const faults: string[] = [];
  node.on('diskFault', (why) => faults.push(why));
  for (let i = 0; i < 16 * 6; i++) await node.tick();
  await node.o.spool.flushed();
  const status = statusPayload.parse(JSON.parse(Buffer.from(await faulted).toString('utf8')));
  if (status.state !== 'online') throw new Error('online status');
  t.match(status.diskError, /^spool .*: ENOSPC writing .*\.rstb: .*no space left on device.*; writing stopped/);
  for (let i = 0; i < 100; i++) await node.tick();
  t.equal(shield.ticks, 196, 'every tick was shielded, after the fault too');
  t.equal(faults.length, 1, 'the fault is reported once');
  await node.drained();
  await new Promise<void>((resolve) => {
    const check = (): void => (trainer.received.length >= 48 ? resolve() : void setTimeout(check, 20));
    check();
  });
  t.equal(trainer.received.length, 48, 'the three batches on disk before the fault arrived whole');
  t.same(trainer.received.map((x) => x.step).slice(0, 3), [0, 1, 2]);
  t.ok(node.o.spool.dropped >= 3, `${node.o.spool.dropped} batches dropped and counted`);
});

void t.test('rshield record on a full disk: the node keeps running, one log line, /diagnostics warns, the MCAP reads back', async (t) => {
  const dir = t.testdir({});
  const out = join(dir, 'demos.mcap');
  const rcl = createFakeRclnodejs();
  const abort = new AbortController();
  let started: ShieldNode | undefined;
  let sim: SimPsm | undefined;
  let recording: ReturnType<typeof openDemoRecording> | undefined;
  const lines: string[] = [];
  const diagnostics: { level: number; message: string }[] = [];
  const done = runRos2Shield({
    rcl,
    rosArgs: ['--ros-args', '-p', 'profile:=dvrk-reacher', '-p', `record_out:=${out}`],
    nodeName: 'rshield_record',
    shield: new PassThroughShield(3),
    clock: fakeClock(rcl.ros),
    signal: abort.signal,
    log: (l) => lines.push(l),
    makeTap: (profile, p) => {
      recording = openDemoRecording(p.record_out, profile, { autostart: true, log: (l) => lines.push(l), fs: faultySinkFs(300_000) });
      return recording.tap;
    },
    beforeExit: () => recording?.close(),
    onStarted: (shield) => {
      started = shield;
      const node = new rcl.Node('sim');
      sim = new SimPsm({ rcl, node, profile: shield.profile, env: createEnv('dvrk-reacher', { seed: 3 }), seed: 3 });
      new SimController({ rcl, node, profile: shield.profile, controller: { act: () => Float32Array.from([0.001, 0, 0]), reset: () => undefined }, rateHz: 50 });
      node.spin();
      sim.start();
    },
  });
  await settle();
  if (started === undefined) throw new Error('node started');
  const peer = new rcl.Node('monitor');
  peer.createSubscription(started.profile.topics.diagnostics.type, started.profile.topics.diagnostics.topic, {}, (m: { status: { level: number; message: string }[] }) => {
    for (const s of m.status) diagnostics.push({ level: s.level, message: s.message });
  });
  peer.spin();
  await rcl.ros.advance(8000);
  const stepsAtFault = sim?.steps ?? 0;
  await rcl.ros.advance(2000);
  abort.abort();
  t.equal(await done, 0, 'exits 0 after the fault: no crash, no stack trace');
  t.ok((sim?.steps ?? 0) > stepsAtFault, 'the shield kept commanding the arm after the disk filled');
  const diskLines = lines.filter((l) => /disk error/.test(l));
  t.equal(diskLines.length, 1, 'said once in the log');
  t.match(diskLines[0], /^disk error: ENOSPC writing '.*demos\.mcap': recording stopped; the file is cut back to \d+ bytes .*; the shield keeps running$/);
  const last = diagnostics[diagnostics.length - 1];
  t.equal(last?.level, 1, '/diagnostics warns');
  t.match(last?.message, /recording stopped: ENOSPC/);
  const reader = new McapStreamReader({ validateCrcs: true });
  reader.append(await readFile(out));
  let messages = 0;
  for (let r = reader.nextRecord(); r !== undefined; r = reader.nextRecord()) if (r.type === 'Message') messages++;
  t.ok(messages > 100, `${messages} messages read back from the cut file`);
  t.equal(reader.bytesRemaining(), 0, 'it ends on a whole record');
});
