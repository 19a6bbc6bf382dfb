// The online trainer with a model-based start model (thesis §4; reference notes §3.2): it keeps
// the start model's dynamics ensemble, retrains it every K episodes on all data so far, and
// every version it exports carries dynamics.onnx, the `dynamics` and `planner` parts and the
// model-based recovery mode — so Shield.load builds and checks the planner from it.
import t from 'tap';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readDataset, TransitionColumns, TransitionWriter, type Dataset } from '../../src/data/index.js';
import { createEnv, generateOfflineData } from '../../src/envs/index.js';
import { Shield } from '../../src/inference/shield.js';
import { defaultsFor, dynamicsEveryFor } from '../../src/learn/defaults.js';
import { trainOffline } from '../../src/learn/offline.js';
import { createOnlineTrainer } from '../../src/learn/online.js';
import { loadModelCard } from '../../src/models/model-dir.js';
import { tempDir } from '../transport/mqtt/harness.js';

const ROBOT = 'nav2';
const { spec } = createEnv(ROBOT);
const PLANNER = { population: 24, elites: 4, iterations: 2, horizon: 3, particles: 2, alpha: 0.1 };

const base = await tempDir(t, 'rshield-online-dyn-');
const mcap = join(base, 'nav2.mcap');
const w = TransitionWriter.open(mcap, { robot: ROBOT, obsDim: spec.obsDim, actDim: spec.actDim, actLow: spec.actLow, actHigh: spec.actHigh, generator: 'test', seed: 1, requested: 1500 });
for (const tr of generateOfflineData(ROBOT, { seed: 1, transitions: 1500 })) w.write(tr);
w.close();
const dataset: Dataset = await readDataset([mcap]);
// `rshield train --recovery model-based` in miniature: a 2-member ensemble of 16 × 16.
const v0Dir = join(base, 'v0');
await trainOffline(dataset, {
  ...defaultsFor(ROBOT), robot: ROBOT, seed: 2, outDir: v0Dir, steps: 100, threads: 1, sizes: { hidden: [32, 32] },
  modelBased: { planner: PLANNER, epochs: 15, sizes: { ensemble: 2, hidden: [16, 16] } },
});
const v0Card = JSON.parse(await readFile(join(v0Dir, 'model.json'), 'utf8')) as Record<string, unknown> & { planner: unknown; training: Record<string, unknown> };
const v0Dynamics = await readFile(join(v0Dir, 'dynamics.onnx'));
const v0Planner = (await loadModelCard(v0Dir)).planner;

/** Online episodes: nav2 rollouts (≤ 10 steps each, ids 0, 1, …), as a shield streams them. */
const streamed = TransitionColumns.from(spec.obsDim, spec.actDim, [...generateOfflineData(ROBOT, { seed: 9, transitions: 600 })]);
const episodesIn = (c: TransitionColumns, rows: number): number => new Set(Array.from(c.episode.subarray(0, rows))).size;

interface Card {
  recoveryMode: string;
  dynamics: { file: string; ensemble: number };
  planner: unknown;
  metrics: { dynamics: { shipped: string; retrains: number; heldOutMse: number; heldOutRows: number; note?: string } };
  training: { dynamics?: { hidden: number[]; normalizer: unknown; retrains: number } };
}
const readCard = async (dir: string): Promise<Card> => JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as Card;

void t.test('a model-based start model: the ensemble is continued, retrained every K episodes, and shipped with the planner', async (t) => {
  const learner = await createOnlineTrainer({ robot: ROBOT, modelDir: v0Dir, data: [mcap], seed: 5, threads: 1, dynamics: { every: 3, epochs: 1 } });
  t.teardown(() => learner.release());
  t.match(learner.dynamics, { every: 3, epochs: 1, initialisedFrom: 'start-model', episodes: 0, retrains: 0 }, 'continued from the start weights');
  t.equal(learner.dynamics?.rows, learner.bufferSize, "D_offline's training split is in the retraining set");

  // Before any retraining a version carries the start model's ensemble, byte for byte.
  const v1 = join(base, 'v1');
  await learner.exportModel(v1, 'v1');
  t.same(await readFile(join(v1, 'dynamics.onnx')), v0Dynamics, 'the running ensemble is shipped unchanged');
  const c1 = await readCard(v1);
  t.equal(c1.recoveryMode, 'model-based');
  t.same((await loadModelCard(v1)).planner, v0Planner, "the planner is the start card's");
  t.equal(c1.metrics.dynamics.shipped, 'running');
  t.same(c1.training.dynamics?.normalizer, (v0Card.training['dynamics'] as { normalizer: unknown }).normalizer, 'the card says how to continue it');

  // Rows of two whole episodes and the start of a third: two ended, not yet K = 3.
  let rows = 0;
  while (episodesIn(streamed, rows + 1) <= 3) rows++;
  learner.addTransitions(sliceRows(streamed, 0, rows));
  await learner.update(1);
  t.equal(learner.dynamics?.episodes, 2, 'two episodes ended (the third is still open)');
  t.equal(learner.dynamics?.retrains, 0, 'not retrained before K episodes');
  // One more row starts the fourth episode: the third has ended, the next update retrains first.
  learner.addTransitions(sliceRows(streamed, rows, rows + 1));
  await learner.update(1);
  t.equal(learner.dynamics?.episodes, 3);
  t.equal(learner.dynamics?.retrains, 1, 'retrained once K = 3 episodes ended');
  t.match(learner.dynamics?.lastRetrain, { episodes: 3, epochs: 1 });
  t.equal(learner.dynamics?.rows, learner.bufferSize, 'on all training rows so far');

  const v2 = join(base, 'v2');
  await learner.exportModel(v2, 'v2');
  const c2 = await readCard(v2);
  t.equal(c2.recoveryMode, 'model-based');
  t.same(c2.dynamics, { file: 'dynamics.onnx', inputs: { obs: 'obs', act: 'act' }, outputs: { mean: 'mean', logvar: 'logvar' }, ensemble: 2 });
  t.same((await loadModelCard(v2)).planner, v0Planner);
  t.equal(c2.metrics.dynamics.retrains, 1);
  const shipped = c2.metrics.dynamics.shipped;
  t.ok(shipped === 'retrained' || shipped === 'running', `shipped ${shipped}`);
  const bytes = await readFile(join(v2, 'dynamics.onnx'));
  t.equal(Buffer.compare(bytes, v0Dynamics) !== 0, shipped === 'retrained', 'the bytes are the retrained ensemble exactly when the card says so');
  // Shield.load builds the CEM planner from the card and runs its check batch.
  const shield = await Shield.load({ modelDir: v2, robot: ROBOT, deadlineUs: 5_000_000 });
  t.teardown(() => shield.close());
  t.equal(shield.recoveryMode, 'model-based', 'the version loads as a model-based shield');
  t.equal(shield.modelVersion, 'v2');

  // The version is released: a later export without retraining ships the same ensemble again.
  learner.acceptCurrent();
  const v3 = join(base, 'v3');
  await learner.exportModel(v3, 'v3');
  t.same(await readFile(join(v3, 'dynamics.onnx')), bytes, 'after release the shipped ensemble is the running one');
  t.equal((await readCard(v3)).metrics.dynamics.shipped, 'running');
});

void t.test('a retrained ensemble that predicts the held-out episodes worse is not shipped: the running one stays', async (t) => {
  const learner = await createOnlineTrainer({ robot: ROBOT, modelDir: v0Dir, data: [mcap], seed: 5, threads: 1, dynamics: { every: 1, epochs: 3 } });
  t.teardown(() => learner.release());
  // Training episodes whose logged next states are 3 off what nav2 does, held-out ones (every
  // 10th online episode) as nav2 does: the retrained model learns an offset the held-out rows
  // (these and D_offline's) do not have.
  const broken = TransitionColumns.growable(spec.obsDim, spec.actDim, 1024);
  for (let k = 0; k < 3; k++) broken.append(streamed);
  let ordinal = 0;
  for (let i = 0; i < broken.size; i++) {
    if (i === 0 || broken.episode[i] !== broken.episode[i - 1]) ordinal++;
    if (ordinal % 10 !== 0) for (let j = 0; j < spec.obsDim; j++) broken.nextObs[i * spec.obsDim + j]! += 3;
  }
  learner.addTransitions(broken);
  await learner.update(1);
  t.equal(learner.dynamics?.retrains, 1);
  const out = join(base, 'broken-v1');
  await learner.exportModel(out, 'broken-v1');
  const c = await readCard(out);
  t.equal(c.metrics.dynamics.shipped, 'running', c.metrics.dynamics.note ?? 'no note');
  t.match(c.metrics.dynamics.note, /dynamics held-out MSE \S+ > \S+ × 1\.05; kept the running ensemble/);
  t.same(await readFile(join(out, 'dynamics.onnx')), v0Dynamics, "the start model's ensemble, byte for byte");
  const d = learner.dynamics?.lastDecision;
  t.ok(d !== null && d !== undefined && d.retrainedMse > d.runningMse * 1.05, `retrained MSE ${d?.retrainedMse.toFixed(4)} vs running ${d?.runningMse.toFixed(4)}`);
  t.equal(c.recoveryMode, 'model-based', 'still a model-based version');
});

void t.test("the robot's K by default: nav 1, maze 5, object extraction 20 (reference §3.2)", async (t) => {
  t.same(['nav1', 'nav2', 'maze', 'object-extraction', 'dvrk-reacher'].map(dynamicsEveryFor), [1, 1, 5, 20, 5]);
  const learner = await createOnlineTrainer({ robot: ROBOT, modelDir: v0Dir, seed: 5, threads: 1 });
  t.teardown(() => learner.release());
  t.match(learner.dynamics, { every: 1, epochs: 5 });
});

void t.test('a card that does not say how to continue its ensemble: a new one on D_offline, or a clear refusal', async (t) => {
  const dir = join(base, 'opaque');
  const { mkdir, copyFile } = await import('node:fs/promises');
  await mkdir(dir, { recursive: true });
  for (const f of ['critic.onnx', 'recovery.onnx', 'dynamics.onnx']) await copyFile(join(v0Dir, f), join(dir, f));
  const { dynamics: _d, ...training } = v0Card.training;
  await writeFile(join(dir, 'model.json'), JSON.stringify({ ...v0Card, training }));
  await t.rejects(createOnlineTrainer({ robot: ROBOT, modelDir: dir, seed: 5, threads: 1 }), {
    code: 'E_MODEL',
    message: /cannot continue the model's dynamics ensemble \(the card has no training\.dynamics\) and there are 0 offline transitions to train a new one on \(at least 32: give --data\)/,
  });
  const learner = await createOnlineTrainer({ robot: ROBOT, modelDir: dir, data: [mcap], seed: 5, threads: 1, dynamics: { every: 1, epochs: 1, offlineEpochs: 1 } });
  t.teardown(() => learner.release());
  t.match(learner.dynamics, { initialisedFrom: 'offline-data', retrains: 0 });
  t.ok((learner.dynamics?.rows ?? 0) > 1000, `D_offline's training split: ${learner.dynamics?.rows} rows`);
  const out = join(base, 'opaque-v1');
  await learner.exportModel(out, 'opaque-v1');
  const c = await readCard(out);
  t.equal(c.recoveryMode, 'model-based');
  t.equal(c.dynamics.ensemble, 2, "the card's member count (the planner's particles are a multiple of it)");
  t.ok(c.metrics.dynamics.heldOutRows > 0, 'scored on the held-out offline episodes');
});

void t.test('dynamics options with a start model that has no dynamics are refused', async (t) => {
  const dir = join(base, 'policy');
  await trainOffline(dataset, { ...defaultsFor(ROBOT), robot: ROBOT, seed: 2, outDir: dir, steps: 20, threads: 1, sizes: { hidden: [16] } });
  await t.rejects(createOnlineTrainer({ robot: ROBOT, modelDir: dir, seed: 5, threads: 1, dynamics: { every: 2 } }), { code: 'E_USAGE', message: /dynamics retraining needs a model-based start model/ });
  const learner = await createOnlineTrainer({ robot: ROBOT, modelDir: dir, seed: 5, threads: 1 });
  t.teardown(() => learner.release());
  t.equal(learner.dynamics, null);
  const out = join(base, 'policy-v1');
  await learner.exportModel(out, 'policy-v1');
  const c = (await readCard(out)) as Partial<Card>;
  t.equal(c.recoveryMode, 'policy');
  t.equal(c.dynamics, undefined);
});

/** Rows [from, to) of `c` as their own columns. */
function sliceRows(c: TransitionColumns, from: number, to: number): TransitionColumns {
  const out = TransitionColumns.growable(c.obsDim, c.actDim, Math.max(1, to - from));
  out.append(c, Uint32Array.from({ length: to - from }, (_, i) => from + i));
  return out;
}
