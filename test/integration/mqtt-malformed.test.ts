// 1000 malformed or random payloads on every subscribed topic while the shield keeps ticking:
// each is dropped and counted, none is applied, nothing crashes.
import t from 'tap';
import { Rng } from '../../src/core/rng.js';
import { TransitionColumns } from '../../src/data/transition-columns.js';
import { encodeTransitions } from '../../src/transport/mqtt/transition-codec.js';
import { startBroker } from '../helpers/broker.js';
import { client, next, shieldNode, signedCmd, topics, trainerNode } from '../transport/mqtt/harness.js';

const N = 1000;

function randomBytes(rng: Rng, max: number): Uint8Array {
  const b = new Uint8Array(rng.int(max));
  for (let i = 0; i < b.length; i++) b[i] = rng.int(256);
  return b;
}

function randomJson(rng: Rng, depth = 0): unknown {
  switch (rng.int(depth > 2 ? 4 : 6)) {
    case 0:
      return rng.normal() * 1e6;
    case 1:
      return ['arm', 'chunk', 'announce', '', 'x'.repeat(rng.int(300))][rng.int(5)];
    case 2:
      return rng.next() < 0.5;
    case 3:
      return null;
    case 4:
      return Array.from({ length: rng.int(4) }, () => randomJson(rng, depth + 1));
    default: {
      const keys = ['v', 'cmd', 'kind', 'version', 'robot', 'card', 'files', 'data', 'index', 'total', 'signature', 'transfer'];
      return Object.fromEntries(Array.from({ length: rng.int(6) }, () => [keys[rng.int(keys.length)] as string, randomJson(rng, depth + 1)]));
    }
  }
}

/** Near misses: right shape, one thing wrong. */
function badCmd(rng: Rng): unknown {
  return [
    { v: 2, cmd: 'arm' },
    { v: 1, cmd: 'self-destruct' },
    { cmd: 'disarm' },
    { v: 1, cmd: 'disarm', id: 'x'.repeat(65) },
    { v: '1', cmd: 'arm' },
  ][rng.int(5)];
}

function badModel(rng: Rng): unknown {
  return [
    { v: 1, kind: 'chunk', version: `never-announced-${rng.int(1e6)}`, file: 'critic.onnx', index: 0, total: 1, data: 'AAAA' },
    { v: 1, kind: 'chunk', version: 'x', file: '../../etc/passwd', index: 0, total: 1, data: 'AAAA' },
    { v: 1, kind: 'announce', robot: 'line', version: 'v9', card: { robot: 'line', version: 'v9', obsDim: 2, actDim: 1 }, files: [], transfer: { mode: 'hash' } },
    { v: 1, kind: 'announce', robot: 'line', version: 'v9', card: { robot: 'line' }, files: [{ name: 'critic.onnx', sha256: 'zz', bytes: 1 }], transfer: { mode: 'path', path: '/tmp/evil' } },
    { v: 1, kind: 'chunk', version: 'v9', file: 'critic.onnx', index: -1, total: 1, data: '!!notbase64' },
  ][rng.int(5)];
}

function badBatch(rng: Rng, good: Uint8Array): Uint8Array {
  const b = Uint8Array.from(good);
  const v = new DataView(b.buffer);
  switch (rng.int(6)) {
    case 0:
      return randomBytes(rng, 200);
    case 1:
      return b.subarray(0, rng.int(b.length));
    case 2:
      v.setUint32(0, rng.int(0xffffffff), true);
      return b;
    case 3:
      v.setUint16(4, 2 + rng.int(100), true);
      return b;
    case 4:
      v.setUint32(16, 2 + rng.int(1e6), true);
      return b;
    default:
      v.setUint16(20, 3 + rng.int(100), true);
      return b;
  }
}

void t.test(`${N} bad payloads on each of cmd, model and transitions: all dropped and counted, ticking goes on`, async (t) => {
  const broker = await startBroker();
  t.teardown(() => broker.stop());
  const { node: trainerN, trainer } = await trainerNode(t, broker.url, { every: 1_000_000 });
  const { node, shield } = await shieldNode(t, broker.url);
  node.recording = false; // the learner should see the attacker's one valid batch only
  const attacker = client(t, broker.url);
  await attacker.waitConnected();
  const rng = new Rng(5);
  const good = encodeTransitions({
    session: 7,
    seq: 0,
    columns: TransitionColumns.from(2, 1, [{ obs: new Float32Array([0, 0]), act: new Float32Array([0.1]), cost: 0, nextObs: new Float32Array([0.1, 1]), done: false, episode: 0, step: 0 }]),
  });

  let ticking = true;
  let ticks = 0;
  const loop = (async () => {
    while (ticking) {
      await node.tick();
      ticks++;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  })();
  const cmds: string[] = [];
  node.on('cmd', (c) => cmds.push(c.cmd));

  const sends: Promise<void>[] = [];
  for (let i = 0; i < N; i++) {
    const r = rng.next();
    const cmd = r < 0.3 ? randomBytes(rng, 100) : r < 0.6 ? JSON.stringify(randomJson(rng)) : JSON.stringify(badCmd(rng));
    const model = r < 0.3 ? randomBytes(rng, 300) : r < 0.6 ? JSON.stringify(randomJson(rng)) : JSON.stringify(badModel(rng));
    sends.push(attacker.publish(topics.cmd, cmd, { qos: 1 }), attacker.publish(topics.model, model, { qos: 1 }), attacker.publish(topics.transitions, badBatch(rng, good), { qos: 1 }));
  }
  await Promise.all(sends);
  // Sentinels after the garbage, same publisher and QoS 1: once they are handled, all garbage was.
  const sentinelCmd = next(node, 'cmd');
  const sentinelBatch = next(trainerN, 'batch');
  await attacker.publish(topics.cmd, signedCmd('disarm', { id: 'sentinel' }), { qos: 1 });
  await attacker.publish(topics.transitions, good, { qos: 1 });
  await attacker.publish(topics.model, JSON.stringify({ v: 1, kind: 'chunk', version: 'sentinel', file: 'critic.onnx', index: 0, total: 1, data: '' }), { qos: 1 });
  await sentinelCmd;
  await sentinelBatch;
  const ticksAtSentinel = ticks;
  while (node.invalidByTopic.get(topics.model) !== N + 1) await next(node, 'invalid');
  await node.modelsSettled();
  ticking = false;
  await loop;

  t.equal(node.invalidByTopic.get(topics.cmd), N, 'every bad command counted');
  t.equal(node.invalidByTopic.get(topics.model), N + 1, 'every bad model message counted (and the sentinel chunk)');
  t.equal(trainerN.invalidMessages, N, 'every bad batch counted by the trainer');
  t.same(cmds, ['disarm'], 'no bad command was applied; the valid one was');
  t.equal(trainer.received.length, 1, 'only the valid batch reached the learner');
  t.equal(shield.modelVersion, 'v0', 'the running model is untouched');
  t.equal(node.swapFailures, 0, 'no bad announcement got as far as a swap attempt');
  t.ok(ticksAtSentinel > 0, `the shield kept ticking (${ticksAtSentinel} ticks during the flood)`);
  t.ok(shield.ticks > 0, 'through the shield while it was armed');
});
