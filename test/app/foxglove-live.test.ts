// The live view as Foxglove sees it: the protocol's own client connects, subscribes to every
// advertised channel and decodes what arrives.
import t from 'tap';
import wsProtocol from '@foxglove/ws-protocol';
import { WebSocket } from 'ws';
import { FoxgloveLive, LIVE_TOPICS } from '../../src/app/foxglove-live.js';
import { sceneOf } from '../../src/envs/scene.js';
import { cameraOf } from '../../src/envs/index.js';
import type { Decision } from '../../src/core/shield-core.js';
import { freePort } from '../helpers/broker.js';
import { runCli } from '../helpers/cli.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const { FoxgloveClient } = wsProtocol;
interface Channel { id: number; topic: string; schemaName: string; encoding: string }

async function connect(t: { teardown(fn: () => unknown): void }, url: string): Promise<{ channels: Channel[]; got: Map<string, unknown[]> }> {
  const client = new FoxgloveClient({ ws: new WebSocket(url, [FoxgloveClient.SUPPORTED_SUBPROTOCOL]) });
  t.teardown(() => client.close());
  const channels: Channel[] = [];
  const got = new Map<string, unknown[]>();
  const byId = new Map<number, string>();
  client.on('message', (m) => {
    const topic = byId.get(m.subscriptionId) ?? '?';
    got.set(topic, [...(got.get(topic) ?? []), JSON.parse(Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength).toString("utf8"))]);
  });
  await new Promise<void>((resolve, reject) => {
    client.on('error', reject);
    client.on('advertise', (cs: Channel[]) => {
      for (const c of cs) {
        channels.push(c);
        byId.set(client.subscribe(c.id), c.topic);
      }
      resolve();
    });
  });
  return { channels, got };
}

/** Connects once a server answers on `port` (retrying for 30 s). */
async function connectWhenUp(t: { teardown(fn: () => unknown): void }, port: number): Promise<Awaited<ReturnType<typeof connect>>> {
  for (const end = Date.now() + 30_000; Date.now() < end; ) {
    const view = await connect(t, `ws://127.0.0.1:${port}`).catch(() => undefined);
    if (view !== undefined) return view;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no live view on port ${port}`);
}

const until = async (cond: () => boolean, ms: number): Promise<boolean> => {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  return cond();
};

void t.test('a Foxglove client receives Q_risk, the decision and a SceneUpdate with the constraints and the tool', async (t) => {
  const live = await FoxgloveLive.start({ port: 0, robot: 'dvrk-reacher', epsRisk: 0.2, scene: sceneOf('dvrk-reacher') });
  t.teardown(() => live.close());
  t.match(live.url, /^ws:\/\/127\.0\.0\.1:\d+$/, 'loopback by default');
  const { channels, got } = await connect(t, live.url);
  t.same(channels.map((c) => c.topic).sort(), [LIVE_TOPICS.decision, LIVE_TOPICS.qRisk, LIVE_TOPICS.scene].sort(), 'no camera channel for a robot without one');
  t.equal(channels.find((c) => c.topic === LIVE_TOPICS.scene)?.schemaName, 'foxglove.SceneUpdate');
  t.ok(channels.every((c) => c.encoding === 'json'));
  // Subscriptions reach the server asynchronously: tick until it sends.
  const d: Decision = { action: Float32Array.of(0.001, -0.002, 0), qRisk: 0.7, source: 'recovery', failsafeReason: null };
  const ok = await until(() => {
    live.publish(Float32Array.of(0.06, 0.07, -0.13), Float32Array.of(0.005, 0, 0), d, 'v7');
    return (got.get(LIVE_TOPICS.scene)?.length ?? 0) >= 2 && (got.get(LIVE_TOPICS.decision)?.length ?? 0) > 0;
  }, 5000);
  t.ok(ok, 'messages arrive on every channel');
  t.match(got.get(LIVE_TOPICS.qRisk)?.at(-1), { q_risk: 0.7, eps_risk: 0.2 });
  t.match(got.get(LIVE_TOPICS.decision)?.at(-1), { source: 'recovery', failsafe_reason: null, model_version: 'v7' });
  const dec = got.get(LIVE_TOPICS.decision)?.at(-1) as { proposed: number[]; executed: number[] };
  t.same(dec.proposed.map((x) => Number(x.toFixed(4))), [0.005, 0, 0], 'proposed');
  t.same(dec.executed.map((x) => Number(x.toFixed(4))), [0.001, -0.002, 0], 'executed');
  const scenes = got.get(LIVE_TOPICS.scene) as { entities: { id: string; cylinders: unknown[]; spheres: { pose: { position: { x: number } } }[]; texts: { text: string }[] }[] }[];
  const ids = scenes.flatMap((s) => s.entities.map((e) => e.id));
  t.ok(ids.includes('constraints') && ids.includes('tool'), `entities: ${[...new Set(ids)].join(', ')}`);
  const constraints = scenes.flatMap((s) => s.entities).find((e) => e.id === 'constraints');
  t.equal(constraints?.cylinders.length, 1, 'the stay-out post');
  const tool = scenes.flatMap((s) => s.entities).filter((e) => e.id === 'tool').at(-1);
  t.equal(Number(tool?.spheres[0]?.pose.position.x.toFixed(3)), 0.06, 'the tool where the state is');
  t.match(tool?.texts[0]?.text, /Q_risk 0.70 recovery/);
});

void t.test('nothing is encoded without a subscriber, and a busy port is a clear error', async (t) => {
  const live = await FoxgloveLive.start({ port: 0, robot: 'nav1', epsRisk: 0.3, scene: sceneOf('nav1') });
  t.teardown(() => live.close());
  const d = { action: Float32Array.of(0, 0), qRisk: 0.1, source: 'task', failsafeReason: null } as Decision;
  for (let i = 0; i < 100; i++) live.publish(Float32Array.of(-50, 0), Float32Array.of(1, 0), d, 'v1');
  await new Promise((r) => setTimeout(r, 100));
  t.same(live.sent, { qRisk: 0, decision: 0, scene: 0, camera: 0 });
  await t.rejects(FoxgloveLive.start({ port: live.port, robot: 'nav1', epsRisk: 0.3, scene: null }), { code: 'E_IO', message: new RegExp(`--foxglove: cannot listen on 127.0.0.1:${live.port}: .*EADDRINUSE`) });
  await t.rejects(FoxgloveLive.start({ port: 70000, robot: 'nav1', epsRisk: 0.3, scene: null }), { code: 'E_USAGE', message: /--foxglove takes a TCP port \(0-65535\), got 70000/ });
});

void t.test('a viewer that subscribes before the first tick gets no made-up decision', async (t) => {
  const live = await FoxgloveLive.start({ port: 0, robot: 'nav1', epsRisk: 0.3, scene: null, rateHz: 100 });
  t.teardown(() => live.close());
  const view = await connect(t, live.url);
  t.ok(await until(() => live.sent.qRisk === 0 && view.channels.length === 3, 1000), 'subscribed');
  await new Promise((r) => setTimeout(r, 100));
  t.same(live.sent, { qRisk: 0, decision: 0, scene: 0, camera: 0 }, 'ten flush periods, nothing sent');
  const d = { action: Float32Array.of(0.1, 0), qRisk: 0.1, source: 'task', failsafeReason: null } as Decision;
  live.publish(Float32Array.of(-50, 0), Float32Array.of(0.1, 0), d, 'v3');
  t.ok(await until(() => (view.got.get(LIVE_TOPICS.decision)?.length ?? 0) > 0, 2000), 'the first tick is sent');
  t.match(view.got.get(LIVE_TOPICS.decision), [{ model_version: 'v3', tick: 1 }]);
});

void t.test('rshield demo --foxglove streams the shielded run, paced, and closes the server at the end', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rshield-live-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  const run = runCli(t, 'demo', '--episodes', '3', '--out', dir, '--foxglove', String(port), '--rate', '200', '--json');
  // The server comes up after the model loads and the unshielded run.
  const { got } = await connectWhenUp(t, port);
  const r = await run;
  t.equal(r.code, 0, r.err);
  t.match(r.err, new RegExp(`Foxglove live view on ws://127.0.0.1:${port} \\(200 ticks/s\\)`));
  const decisions = (got.get(LIVE_TOPICS.decision) ?? []) as { source: string; model_version: string }[];
  t.ok(decisions.length > 5, `decisions received while it ran (${decisions.length})`);
  const summary = JSON.parse(r.out) as { model: { version: string }; shielded: { interventions: number } };
  t.same([...new Set(decisions.map((d) => d.model_version))], [summary.model.version], 'every decision names the running model');
  t.ok((got.get(LIVE_TOPICS.scene)?.length ?? 0) > 0, 'scene updates');
  await t.rejects(connect(t, `ws://127.0.0.1:${port}`), /ECONNREFUSED/, 'the server is gone after the run');
});

void t.test('rshield run --sim --foxglove: the MQTT shield streams its decisions (broker down: shielding goes on)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rshield-live-run-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  const run = runCli(t, 'run', '--robot', 'dvrk-reacher', '--sim', '--broker', 'mqtt://127.0.0.1:1', '--allow-unsigned', '--ticks', '500', '--rate', '200',
    '--spool', join(dir, 'spool'), '--state', join(dir, 'state'), '--foxglove', String(port));
  const view = await connectWhenUp(t, port);
  const r = await run;
  t.equal(r.code, 0, r.err);
  t.match(r.out, new RegExp(`Foxglove live view on ws://127.0.0.1:${port}`));
  const decisions = (view.got.get(LIVE_TOPICS.decision) ?? []) as { source: string; model_version: string }[];
  t.ok(decisions.length > 5, `decisions received while it ran (${decisions.length})`);
  t.same([...new Set(decisions.map((d) => d.model_version))], [/model (\S+),/.exec(r.out)?.[1]], 'every decision names the running model');
  t.ok((view.got.get(LIVE_TOPICS.scene)?.length ?? 0) > 0, 'scene updates');
  await t.rejects(connect(t, `ws://127.0.0.1:${port}`), /ECONNREFUSED/, 'the server is gone after the run');
});

void t.test("a camera robot's image goes out on /rshield/camera as foxglove.RawImage, drawn from the latest state", async (t) => {
  const camera = cameraOf('dvrk-reacher-image');
  if (camera === null) throw new Error('dvrk-reacher-image has a camera');
  const live = await FoxgloveLive.start({ port: 0, robot: 'dvrk-reacher-image', epsRisk: 0.2, scene: sceneOf('dvrk-reacher'), camera, rateHz: 100 });
  t.teardown(() => live.close());
  const view = await connect(t, live.url);
  t.ok(view.channels.some((c) => c.topic === LIVE_TOPICS.camera && c.schemaName === 'foxglove.RawImage'), 'the camera channel is advertised');
  await new Promise((r) => setTimeout(r, 50));
  const obs = Float32Array.of(0.06, 0.05, -0.12);
  const d = { action: Float32Array.of(0, 0, 0), qRisk: 0.1, source: 'task', failsafeReason: null } as Decision;
  for (let i = 0; i < 30; i++) {
    live.publish(obs, Float32Array.of(0.001, 0, 0), d, 'v1');
    await new Promise((r) => setTimeout(r, 10));
  }
  t.ok(await until(() => (view.got.get(LIVE_TOPICS.camera)?.length ?? 0) > 0, 3000), 'an image arrived');
  const img = view.got.get(LIVE_TOPICS.camera)?.at(-1) as { width: number; height: number; encoding: string; step: number; data: string };
  t.match(img, { width: camera.width, height: camera.height, encoding: 'rgb8', step: camera.width * 3 });
  const want = new Uint8Array(camera.width * camera.height * 3);
  camera.render(obs, want);
  t.same(Buffer.from(img.data, 'base64'), Buffer.from(want), "the camera's own rendering of that state");
});
