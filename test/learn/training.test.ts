import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { readDataset, TransitionColumns, TransitionWriter } from '../../src/data/index.js';
import { createEnv, generateOfflineData } from '../../src/envs/index.js';
import { Shield } from '../../src/inference/shield.js';
import { defaultsFor } from '../../src/learn/defaults.js';
import { trainOffline } from '../../src/learn/offline.js';
import { createOnlineTrainer } from '../../src/learn/online.js';

const dir = mkdtempSync(join(tmpdir(), 'rshield-train-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

/** nav1's reference D_offline (rollouts aimed at the corridor walls) as an MCAP file. */
function writeNav1(path: string, n: number, seed: number): void {
  const spec = createEnv('nav1').spec;
  const w = TransitionWriter.open(path, { robot: 'nav1', obsDim: spec.obsDim, actDim: spec.actDim, actLow: spec.actLow, actHigh: spec.actHigh, generator: 'test', seed, requested: n });
  for (const tr of generateOfflineData('nav1', { seed, transitions: n })) w.write(tr);
  w.close();
}

const small = { hidden: [64, 64] } as const;

void t.test('offline training learns where the walls are, and the shield loads the result', async (t) => {
  const data = join(dir, 'nav1.mcap');
  writeNav1(data, 4000, 1);
  const ds = await readDataset([data]);
  const out = join(dir, 'model');
  const progress: number[] = [];
  const r = await trainOffline(ds, { ...defaultsFor('nav1'), robot: 'nav1', seed: 3, outDir: out, steps: 600, sizes: small, onProgress: (s) => progress.push(s) });
  t.ok(progress.length > 0 && progress[progress.length - 1] === 600, 'progress reaches the last step');
  t.ok(r.auroc > 0.8, `held-out AUROC ${r.auroc.toFixed(3)} > 0.8`);

  const card = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')) as Record<string, unknown>;
  t.match(card, { robot: 'nav1', obsDim: 2, actDim: 2, gammaRisk: 0.8, epsRisk: 0.3, critic: { inputs: { obs: 'obs', act: 'act' }, output: 'q_risk' } });
  t.match((card.data as { sha256: string }[])[0]?.sha256, /^[0-9a-f]{64}$/);

  const shield = await Shield.load({ modelDir: out, robot: 'nav1' });
  t.teardown(() => shield.close());
  // At the corridor's upper wall (y ∈ [5, 10] is an obstacle), pushing up is riskier than pushing down.
  const obs = Float32Array.from([-40, 4.3]);
  const up = (await shield.decide(obs, Float32Array.from([0, 1]))).qRisk;
  const down = (await shield.decide(obs, Float32Array.from([0, -1]))).qRisk;
  t.ok(up > down + 0.2, `Q_risk up ${up.toFixed(3)} > down ${down.toFixed(3)}`);
  // Far from every wall, the controller's own action is left alone.
  const free = await shield.decide(Float32Array.from([-40, 0]), Float32Array.from([1, 0]));
  t.equal(free.source, 'task', `free space: Q_risk ${free.qRisk.toFixed(3)}`);
  // Pushed into the wall, the recovery policy's action moves away from it.
  const rec = await shield.decide(Float32Array.from([-40, 4.6]), Float32Array.from([0, 1]));
  t.equal(rec.source, 'recovery');
  t.ok(rec.action[1]! < 0.5, `recovery action y ${rec.action[1]!.toFixed(2)} does not push into the wall`);
});

void t.test('the online trainer continues from a model directory and exports a loadable version', async (t) => {
  const out = join(dir, 'model');
  const trainer = await createOnlineTrainer({ robot: 'nav1', modelDir: out, seed: 1, threads: 1 });
  t.teardown(() => trainer.release());
  // Before any update, an export decides exactly as the model it started from.
  const v0 = join(dir, 'v0');
  await trainer.exportModel(v0, 'nav1-online-0');
  const [a, b] = await Promise.all([Shield.load({ modelDir: out }), Shield.load({ modelDir: v0 })]);
  for (const [x, y, ax] of [[-40, 4.3, 1], [-60, -4.5, -1], [-10, 0, 0.5]] as const) {
    const o = Float32Array.from([x, y]);
    const p = Float32Array.from([ax, ax]);
    const qa = (await a.decide(o, p)).qRisk;
    const qb = (await b.decide(o, p)).qRisk;
    t.ok(Math.abs(qa - qb) < 1e-6, `same Q_risk at (${x}, ${y}): ${qa} vs ${qb}`);
  }
  await Promise.all([a.close(), b.close()]);
  const env = createEnv('nav1', { seed: 4 });
  let obs = env.reset();
  const batch = [];
  for (let i = 0; i < 40; i++) {
    const act = Float32Array.from([1, 0.2]);
    const r = env.step(act);
    batch.push({ obs, act, cost: r.violation ? 1 : 0, nextObs: r.obs, done: r.done, episode: 0, step: i });
    obs = r.done ? env.reset() : r.obs;
  }
  trainer.addTransitions(TransitionColumns.from(env.spec.obsDim, env.spec.actDim, batch));
  t.equal(trainer.bufferSize, 40);
  const loss = await trainer.update(20);
  t.ok(Number.isFinite(loss.criticLoss) && Number.isFinite(loss.recoveryLoss));
  t.equal(trainer.updates, 20);
  const v2 = join(dir, 'v2');
  await trainer.exportModel(v2, 'nav1-online-1');
  const shield = await Shield.load({ modelDir: v2, robot: 'nav1' });
  t.equal(shield.modelVersion, 'nav1-online-1');
  await shield.close();
});

void t.test('a model directory not written by rshield train cannot be continued', async (t) => {
  await t.rejects(createOnlineTrainer({ robot: 'nav2', modelDir: join(dir, 'model'), seed: 1 }), /model is for robot 'nav1', not 'nav2'/);
  await t.rejects(createOnlineTrainer({ robot: 'nav1', seed: 1 }), /needs offline data or a model directory/);
});
