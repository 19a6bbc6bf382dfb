// The live view on the ROS 2 shield node (foxglove_port parameter), on the fake rclnodejs with
// the shipped dvrk-reacher model: the protocol's own client sees its decisions, the profile's
// stay-out post and workspace, and the holds with their reason.
import t from 'tap';
import wsProtocol from '@foxglove/ws-protocol';
import { WebSocket } from 'ws';
import { LIVE_TOPICS } from '../../src/app/foxglove-live.js';
import { runRos2Shield } from '../../src/app/ros2-shield.js';
import { createEnv } from '../../src/envs/index.js';
import { SimController, SimPsm } from '../../src/transport/ros2/sim-node.js';
import type { ShieldNode } from '../../src/transport/ros2/shield-node.js';
import { createFakeRclnodejs, fakeClock } from '../transport/ros2/fake-rclnodejs.js';

const { FoxgloveClient } = wsProtocol;

void t.test('foxglove_port: decisions of the ROS 2 node, the profile as a scene, holds with their reason', async (t) => {
  const rcl = createFakeRclnodejs();
  const abort = new AbortController();
  t.teardown(() => abort.abort());
  const lines: string[] = [];
  let started!: (s: ShieldNode) => void;
  const whenStarted = new Promise<ShieldNode>((resolve) => (started = resolve));
  const done = runRos2Shield({
    rcl, params: { profile: 'dvrk-reacher', model_dir: 'models/dvrk-reacher', foxglove_port: 0 }, clock: fakeClock(rcl.ros), signal: abort.signal,
    log: (l) => lines.push(l), onStarted: (s) => started(s),
  });
  const shield = await whenStarted;
  const url = /Foxglove live view on (ws:\/\/127\.0\.0\.1:\d+)/.exec(lines.join('\n'))?.[1];
  t.ok(url !== undefined, `announced: ${url}`);
  const client = new FoxgloveClient({ ws: new WebSocket(url!, [FoxgloveClient.SUPPORTED_SUBPROTOCOL]) });
  t.teardown(() => client.close());
  const got = new Map<string, { [k: string]: unknown }[]>();
  const byId = new Map<number, string>();
  client.on('message', (m) => {
    const topic = byId.get(m.subscriptionId) ?? '?';
    got.set(topic, [...(got.get(topic) ?? []), JSON.parse(Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength).toString('utf8')) as { [k: string]: unknown }]);
  });
  await new Promise<void>((resolve) => client.on('advertise', (cs) => {
    for (const c of cs) byId.set(client.subscribe(c.id), c.topic);
    resolve();
  }));
  // The simulated PSM and a controller on the fake ROS graph, in fake time; the view's own timer is real.
  const node = new rcl.Node('sim');
  const sim = new SimPsm({ rcl, node, profile: shield.profile, env: createEnv('dvrk-reacher', { seed: 4 }), seed: 4 });
  const toPost = { act: (o: Float32Array) => Float32Array.from([Math.sign(0.075 - o[0]!) * 0.002, Math.sign(0.07 - o[1]!) * 0.002, 0]), reset: () => undefined };
  new SimController({ rcl, node, profile: shield.profile, controller: toPost, rateHz: 50 });
  node.spin();
  sim.start();
  for (let i = 0; i < 40 && (got.get(LIVE_TOPICS.decision)?.length ?? 0) < 3; i++) {
    for (let k = 0; k < 10; k++) await rcl.ros.advance(10);
    await new Promise((r) => setTimeout(r, 25));
  }
  const decisions = got.get(LIVE_TOPICS.decision) ?? [];
  t.ok(decisions.length >= 3, `${decisions.length} decisions received`);
  t.ok(decisions.every((d) => String(d['model_version']).startsWith('dvrk-reacher')), 'each names the running model');
  t.ok(decisions.some((d) => d['source'] === 'task' || d['source'] === 'recovery'), 'shielded ticks');
  t.ok(decisions.every((d) => (d['source'] === 'failsafe') === (typeof d['failsafe_reason'] === 'string')), 'a fail-safe, and only a fail-safe, names its reason');
  const entities = (got.get(LIVE_TOPICS.scene) ?? []).flatMap((s) => s['entities'] as { id: string; cylinders: unknown[] }[]);
  t.equal(entities.find((e) => e.id === 'constraints')?.cylinders.length, 1, "the profile's stay-out post");
  t.ok((got.get(LIVE_TOPICS.qRisk) ?? []).every((q) => q['eps_risk'] === 0.2), 'ε_risk of the model card');
  shield.node.deactivate();
  for (let i = 0; i < 40 && !(got.get(LIVE_TOPICS.decision) ?? []).some((d) => d['failsafe_reason'] === 'deactivate'); i++) await new Promise((r) => setTimeout(r, 25));
  t.ok((got.get(LIVE_TOPICS.decision) ?? []).some((d) => d['source'] === 'failsafe' && d['failsafe_reason'] === 'deactivate'), 'a hold shows with its reason');
  abort.abort();
  t.equal(await done, 0, 'exits 0');
});
