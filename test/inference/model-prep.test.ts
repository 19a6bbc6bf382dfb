import t from 'tap';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadModelCard } from '../../src/config/model-card.js';
import { isRShieldError } from '../../src/core/errors.js';
import { prepModel, type PrepRequest } from '../../src/inference/model-prep.js';
import { ModelPrepPool } from '../../src/inference/model-prep-pool.js';
import { cardFor, writeModelDir, type TestModelSpec } from './helpers/models.js';

const SPEC: TestModelSpec = { w: [0, 0, 0, 4, 0, 0], b: -2 };

async function request(dir: string, o: Partial<PrepRequest> = {}): Promise<PrepRequest> {
  return { modelDir: dir, card: await loadModelCard(dir), fuse: true, nearestSafe: false, ...o };
}

void t.test('the worker returns the bytes prepModel builds in-process', async (t) => {
  const pool = new ModelPrepPool({ recycleAfter: 10 });
  t.teardown(() => pool.close());
  const dir = await writeModelDir(t.testdir(), SPEC);
  for (const o of [{ fuse: true, nearestSafe: true }, { fuse: false, nearestSafe: false }]) {
    const req = await request(dir, o);
    const [inProcess, inWorker] = await Promise.all([prepModel(req), pool.run(req)]);
    t.same(inWorker, inProcess, `fuse ${o.fuse}, nearest-safe ${o.nearestSafe}`);
  }
  const fused = await pool.run(await request(dir));
  t.equal(fused.sessions.kind, 'fused');
  if (fused.sessions.kind === 'fused') t.equal(fused.sessions.bytes.byteOffset, 0, 'bytes arrive in their own buffer (transferred)');
});

void t.test('a refused model reads the same from the worker: code, message, context', async (t) => {
  const pool = new ModelPrepPool();
  t.teardown(() => pool.close());
  const dir = await writeModelDir(t.testdir(), SPEC);
  await writeFile(join(dir, 'model.json'), JSON.stringify({ ...cardFor(SPEC), obsDim: 4 }));
  const req = await request(dir);
  const local = await prepModel(req).then(
    () => t.fail('in-process prep accepted a card with the wrong obsDim'),
    (e: unknown) => e,
  );
  const remote = await pool.run(req).then(
    () => t.fail('worker prep accepted a card with the wrong obsDim'),
    (e: unknown) => e,
  );
  t.ok(isRShieldError(remote), 'an RShieldError again on this side');
  if (!isRShieldError(local) || !isRShieldError(remote)) return;
  t.equal(remote.code, local.code);
  t.equal(remote.message, local.message);
  t.match(remote.message, /critic input 'obs' has 3 columns, card says obsDim 4/);
  t.same(remote.context, local.context);
});

void t.test('workers are recycled after recycleAfter jobs and end when idle', async (t) => {
  const pool = new ModelPrepPool({ recycleAfter: 2, idleMs: 50 });
  t.teardown(() => pool.close());
  const req = await request(await writeModelDir(t.testdir(), SPEC));
  for (let i = 0; i < 5; i++) await pool.run(req);
  t.equal(pool.workersStarted, 3, '5 jobs at 2 per worker');
  t.ok(pool.hasWorker, 'the third worker waits for more');
  await new Promise((r) => setTimeout(r, 300));
  t.notOk(pool.hasWorker, 'an idle worker ends');
  await pool.run(req);
  t.equal(pool.workersStarted, 4, 'a new job starts a new worker');
});

void t.test('a worker that runs out of memory fails its job with E_MODEL; the next job gets a new worker', async (t) => {
  const dir = await writeModelDir(t.testdir(), SPEC);
  const req = await request(dir);
  const tight = new ModelPrepPool({ maxHeapMb: 1 });
  t.teardown(() => tight.close());
  await t.rejects(tight.run(req), { code: 'E_MODEL', message: /model preparation failed: its worker thread stopped/ });
  tight.configure({ maxHeapMb: null });
  t.equal((await tight.run(req)).sessions.kind, 'fused');
  t.equal(tight.workersStarted, 2);
  t.throws(() => new ModelPrepPool({ recycleAfter: 0 }), { code: 'E_CONFIG', message: /recycleAfter must be an integer ≥ 1, got 0/ });
});

void t.test('an idle prepare worker does not keep the process alive', async (t) => {
  const dir = await writeModelDir(t.testdir(), SPEC);
  // A program that loads a model and returns: it must exit by itself, with the pool's worker idle.
  const script = `import { Shield } from ${JSON.stringify(new URL('../../src/inference/shield.ts', import.meta.url).href)};
    const s = await Shield.load({ modelDir: ${JSON.stringify(dir)} }); await s.close(); console.log('loaded');`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const killer = setTimeout(() => child.kill(), 30_000);
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  clearTimeout(killer);
  t.equal(out.trim(), 'loaded');
  t.equal(code, 0, 'exited by itself (not killed after 30 s)');
});
