/**
 * Fault-injection matrix (DESIGN.md "Failure behaviour"): one row per fault, each saying what
 * the robot receives and what is counted. A row injects its fault into a running shield and
 * returns the tick(s) the robot got; the table asserts them. Add a row to cover a new fault.
 */
import t, { type Test } from 'tap';
import { join } from 'node:path';
import type { FailsafeReason } from '../../src/core/failsafe.js';
import { Shield, type Decision } from '../../src/inference/shield.js';
import { writeModelDir } from '../inference/helpers/models.js';
import { obsLoopingFor, writeLoopingModel } from '../inference/helpers/looping-critic.js';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { parsePrivateKey } from '../../src/models/signing.js';
import { buildModelMessages } from '../../src/transport/mqtt/model-transfer.js';
import { TransitionSpool } from '../../src/transport/mqtt/spool.js';
import { decodeTransitions } from '../../src/transport/mqtt/transition-codec.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { ROBOT, client, keys, next, shieldNode, topics, trainerNode } from '../transport/mqtt/harness.js';

/** Well under the slow (~0.3 s) and stuck (~3 s) graphs, well over a tick on a loaded 2-core machine. */
const DEADLINE_US = 50_000;
const SAFE = [0, 0, 0];
const PROPOSED = [-0.5, -0.5, -0.5];
/** The card's fail-safe action, distinct from zero so the robot's command shows it. */
const FAILSAFE = [0.25, 0, -0.25];

interface Received {
  readonly source: Decision['source'];
  readonly reason: FailsafeReason | null;
  readonly action: number[];
  /** decide() entry to result. */
  readonly ms: number;
}

interface Row {
  readonly fault: string;
  /** Injects the fault and returns what the robot received on the faulty tick(s). */
  readonly inject: (shield: Shield, dir: string) => Promise<Received[]>;
  /** Expected on every received tick. */
  readonly expect: { source: Decision['source']; reason?: FailsafeReason };
  /** The counter that must have moved, and by how much at least. */
  readonly counted?: { reason: FailsafeReason; atLeast: number };
  /** Each faulty tick must have answered within deadline + this (ms). */
  readonly withinMs?: number;
}

async function tick(shield: Shield, obs: number[], proposed: number[], stateStampMs?: number): Promise<Received> {
  const t0 = performance.now();
  const d = await shield.decide(obs, proposed, stateStampMs === undefined ? undefined : { stateStampMs });
  return { source: d.source, reason: d.failsafeReason, action: Array.from(d.action), ms: performance.now() - t0 };
}

const rows: Row[] = [
  {
    fault: 'stale state (stamp older than staleAfterMs, or zero)',
    inject: async (s) => [await tick(s, SAFE, PROPOSED, Date.now() - 10_000), await tick(s, SAFE, PROPOSED, 0)],
    expect: { source: 'failsafe', reason: 'stale' },
    counted: { reason: 'stale', atLeast: 2 },
  },
  {
    fault: 'NaN in state or proposed action',
    inject: async (s) => [await tick(s, [NaN, 0, 0], PROPOSED), await tick(s, SAFE, [0, Infinity, 0])],
    expect: { source: 'failsafe', reason: 'non-finite' },
    counted: { reason: 'non-finite', atLeast: 2 },
  },
  {
    fault: 'stuck inference (a graph that runs ~3 s), and the ticks while it is stuck',
    inject: async (s) => {
      const got = [await tick(s, obsLoopingFor(3), PROPOSED)];
      for (let i = 0; i < 3; i++) got.push(await tick(s, SAFE, PROPOSED));
      return got;
    },
    expect: { source: 'failsafe', reason: 'deadline' },
    counted: { reason: 'deadline', atLeast: 4 },
    withinMs: 100,
  },
  {
    fault: 'slow inference (a graph that takes ~0.3 s)',
    inject: async (s) => [await tick(s, obsLoopingFor(0.3), PROPOSED)],
    expect: { source: 'failsafe', reason: 'deadline' },
    counted: { reason: 'deadline', atLeast: 1 },
    withinMs: 100,
  },
  {
    fault: 'model swap requested mid-tick: the tick finishes on the old model, the next runs the new one',
    inject: async (s, dir) => {
      const next = await Shield.prepare({ modelDir: join(dir, '..', 'next') });
      const running = s.decide(SAFE, PROPOSED);
      const swapped = s.swap(next);
      const d = await running;
      const during = { source: d.source, reason: d.failsafeReason, action: Array.from(d.action), ms: 0 };
      await swapped;
      const after = await tick(s, SAFE, PROPOSED);
      return [during, after];
    },
    expect: { source: 'task' },
  },
];

for (const row of rows) {
  void t.test(row.fault, async (t) => {
    const root = t.testdir();
    const dir = await writeLoopingModel(join(root, 'model'), { card: { failsafe: FAILSAFE } });
    await writeModelDir(join(root, 'next'), { card: { version: 'next' } });
    const shield = await Shield.load({ modelDir: dir, deadlineUs: DEADLINE_US, stuckAfterMs: 60_000, staleAfterMs: 1_000 });
    t.teardown(() => shield.close());
    t.equal((await tick(shield, SAFE, PROPOSED, Date.now())).source, 'task', 'before the fault the controller drives');
    const before = shield.stats();
    const got = await row.inject(shield, dir);
    got.forEach((r, i) => {
      t.equal(r.source, row.expect.source, `tick ${i}: the robot receives ${row.expect.source}`);
      if (row.expect.reason !== undefined) t.equal(r.reason, row.expect.reason, `tick ${i}: reason ${row.expect.reason}`);
      if (r.source === 'failsafe') t.same(r.action, FAILSAFE, `tick ${i}: the card's fail-safe action`);
      if (row.withinMs !== undefined) t.ok(r.ms < DEADLINE_US / 1000 + row.withinMs, `tick ${i}: answered after ${r.ms.toFixed(1)} ms (deadline ${DEADLINE_US / 1000} ms)`);
    });
    if (row.counted !== undefined) {
      const moved = shield.stats().failsafesByReason[row.counted.reason] - before.failsafesByReason[row.counted.reason];
      t.ok(moved >= row.counted.atLeast, `${row.counted.reason} counted ${moved} times (≥ ${row.counted.atLeast})`);
    } else {
      t.equal(shield.stats().failsafes, before.failsafes, 'no fail-safe counted');
    }
  });
}

// Process and broker faults: each row runs what it needs (a shield node on a real broker, a
// shield or trainer process that is SIGKILLed) and asserts what the robot got, what was counted,
// and that nothing recorded was lost.
interface ProcessRow {
  readonly fault: string;
  readonly run: (t: Test, broker: TestBroker) => Promise<void>;
}

/** Ticks the node until `until` resolves; the number of ticks (each one a decision the robot got). */
async function tickWhile(node: { tick(): Promise<void> }, until: Promise<unknown>): Promise<number> {
  let done = false;
  void until.finally(() => (done = true));
  let n = 0;
  while (!done) {
    await node.tick();
    n++;
    await new Promise<void>((r) => setImmediate(r));
  }
  return n;
}

const processRows: ProcessRow[] = [
  {
    fault: 'broker restart: shielding goes on, transitions wait in the spool and all arrive',
    run: async (t, broker) => {
      const s = await shieldNode(t, broker.url, { batchSize: 8 });
      const tr = await trainerNode(t, broker.url, { clientId: `faults-trainer-${process.pid}`, every: 1e9 });
      for (let i = 0; i < 40; i++) await s.node.tick();
      await broker.down();
      const ticksDown = await tickWhile(s.node, new Promise((r) => setTimeout(r, 300)));
      t.notOk(s.transport.connected, 'the link is down');
      t.equal(s.shield.ticks, 40 + ticksDown, `every tick while the broker was down was decided by the shield (${ticksDown})`);
      t.ok(s.spool.pending > 0, `${s.spool.pending} batches spooled meanwhile`);
      await broker.up();
      await tickWhile(s.node, until(() => s.transport.connected));
      s.node.flushBatch();
      await until(() => tr.trainer.received.length >= s.shield.ticks, () => s.node.flushBatch());
      t.equal(tr.trainer.received.length, s.shield.ticks, 'every transition reached the trainer: none lost');
      t.equal(s.spool.dropped, 0);
    },
  },
  {
    fault: 'broker flood: 2 000 garbage commands and model messages; ticks go on, all counted, nothing changes',
    run: async (t, broker) => {
      const s = await shieldNode(t, broker.url);
      const attacker = client(t, broker.url);
      await attacker.waitConnected();
      const N = 1000;
      const sends = Promise.all(
        Array.from({ length: N }, (_, i) => [
          attacker.publish(topics.cmd, i % 2 === 0 ? JSON.stringify({ v: 1, cmd: 'disarm' }) : `{"v":1,"cmd":${i}}`, { qos: 1 }),
          attacker.publish(topics.model, JSON.stringify({ v: 1, kind: 'chunk', version: `x${i}`, file: 'critic.onnx', index: 0, total: 1, data: '' }), { qos: 1 }),
        ]).flat(),
      );
      const ticks = await tickWhile(s.node, sends.then(() => until(() => s.node.commands.refusedTotal + (s.node.invalidByTopic.get(topics.cmd) ?? 0) >= N && (s.node.invalidByTopic.get(topics.model) ?? 0) >= N)));
      t.ok(ticks > 0, `${ticks} ticks during the flood`);
      t.equal(s.node.commands.refused.unsigned, N / 2, 'unsigned disarms refused');
      t.equal(s.node.invalidByTopic.get(topics.cmd), N / 2, 'malformed commands counted');
      t.equal(s.node.invalidByTopic.get(topics.model), N, 'orphan chunks counted');
      t.equal(s.node.armed, true, 'still armed');
      t.equal(s.shield.modelVersion, 'v0', 'still the running model');
    },
  },
  {
    fault: 'SIGKILL of the shield while recording: every batch it had flushed to the spool stays readable and is sent by the next run',
    run: async (t) => {
      const dir = t.testdir({});
      const spoolDir = join(dir, 'spool');
      const script = `import { main } from ${JSON.stringify(new URL('../../src/cli/main.ts', import.meta.url).href)}; process.exitCode = await main(process.argv.slice(1));`;
      // A broker that is never there: every batch stays in the spool.
      const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), '--input-type=module', '-e', script, 'run', '--robot', 'dvrk-reacher', '--sim', '--broker', 'mqtt://127.0.0.1:1', '--rate', '500', '--batch', '8', '--allow-unsigned', '--spool', spoolDir, '--state', join(dir, 'state')], { stdio: 'ignore' });
      t.teardown(() => void (child.exitCode === null && child.signalCode === null && child.kill('SIGKILL')));
      await until(() => existsSync(spoolDir) && readdirSync(spoolDir).filter((n) => n.endsWith('.rstb')).length >= 10);
      child.kill('SIGKILL');
      t.equal(await new Promise((r) => child.once('exit', (_c, sig) => r(sig))), 'SIGKILL');
      const spool = await TransitionSpool.open({ dir: spoolDir, maxBatches: 10_000, maxBytes: 1e9 });
      const sent: Uint8Array[] = [];
      await spool.drain(async (b) => void sent.push(b), () => true);
      t.ok(sent.length >= 10, `${sent.length} batches of the killed run found (a torn last one is skipped: ${spool.skippedEmpty})`);
      const seqs = sent.map((b) => decodeTransitions(b, { obsDim: 3, actDim: 3 }));
      t.ok(seqs.every((b) => b.columns.size === 8), 'each one whole: 8 transitions, dims checked');
      t.same(seqs.map((b) => b.seq), seqs.map((_, i) => i), 'in order, none missing');
    },
  },
  {
    fault: 'SIGKILL of the trainer mid-publish: the half version is discarded, the running model stays, the next one goes in',
    run: async (t, broker) => {
      const s = await shieldNode(t, broker.url);
      const dir = t.testdir({});
      const card = { robot: ROBOT, obsDim: 2, actDim: 1, critic: { file: 'critic.onnx' }, recovery: { file: 'recovery.onnx' }, recoveryAction: -0.3 };
      const files = new Map([['critic.onnx', new Uint8Array(50_000).fill(1)], ['recovery.onnx', new Uint8Array(20_000).fill(2)]]);
      const signer = parsePrivateKey(keys.privateKeyPem);
      const messages = (version: string, sequence: number): string[] =>
        buildModelMessages({ card: { ...card, version }, files }, { robot: ROBOT, sequence, signer, transfer: 'inline', chunkBytes: 8192 }).map((m) => JSON.stringify(m));
      const half = messages('half', 1);
      writeFileSync(join(dir, 'payloads.json'), JSON.stringify(half));
      const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), new URL('./helpers/half-publisher.ts', import.meta.url).pathname, broker.url, join(dir, 'payloads.json'), String(Math.floor(half.length / 2)), topics.model], { stdio: ['ignore', 'pipe', 'inherit'] });
      t.equal(await new Promise((r) => child.once('exit', (_c, sig) => r(sig))), 'SIGKILL', 'the trainer was killed');
      const ticks = await tickWhile(s.node, new Promise((r) => setTimeout(r, 200)).then(() => s.node.modelsSettled()));
      t.equal(s.shield.modelVersion, 'v0', `the running model kept deciding (${ticks} ticks)`);
      t.equal(s.node.swaps + s.node.swapFailures, 0, 'no swap attempted from half a version');
      const trainer = client(t, broker.url);
      await trainer.waitConnected();
      const swapped = next<[string]>(s.node, 'swapped');
      for (const m of messages('whole', 2)) await trainer.publish(topics.model, m, { qos: 1 });
      await tickWhile(s.node, swapped);
      t.equal(s.shield.modelVersion, 'whole', 'a complete later version is swapped in');
    },
  },
];

void t.test('process and broker faults', async (t) => {
  const broker = await startBroker();
  t.teardown(() => broker.stop());
  for (const row of processRows) await t.test(row.fault, (t) => row.run(t, broker));
});

/** Polls a condition no event announces (spool files, a reconnection); `each` runs between polls. */
async function until(cond: () => boolean, each?: () => void): Promise<void> {
  while (!cond()) {
    each?.();
    await new Promise((r) => setTimeout(r, 10));
  }
}
