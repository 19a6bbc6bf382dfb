// The online learner's adapt() (the trainer's answer to reported drift): the last N training
// transitions only, held-out episodes never; MESA's recipe for a meta-trained start model (its
// own Adam at lr 1e-3, not counted as online updates), fine-tune steps otherwise.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import type { Transition } from '../../src/core/types.js';
import { readDataset, TransitionColumns, TransitionWriter } from '../../src/data/index.js';
import { createEnv, generateOfflineData } from '../../src/envs/index.js';
import { defaultsFor } from '../../src/learn/defaults.js';
import { trainOffline } from '../../src/learn/offline.js';
import { createOnlineTrainer, type OnlineTrainer } from '../../src/learn/online.js';

const dir = mkdtempSync(join(tmpdir(), 'rshield-online-adapt-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const spec = createEnv('nav1').spec;
const mcap = join(dir, 'nav1.mcap');
const w = TransitionWriter.open(mcap, { robot: 'nav1', obsDim: spec.obsDim, actDim: spec.actDim, actLow: spec.actLow, actHigh: spec.actHigh, generator: 'test', seed: 1, requested: 2000 });
for (const tr of generateOfflineData('nav1', { seed: 1, transitions: 2000 })) w.write(tr);
w.close();
const small = { hidden: [16, 16] };

/** `n` transitions of online episode `episode`, ending in a violation when `violates`. */
function episode(episode: number, n: number, violates: boolean): Transition[] {
  return Array.from({ length: n }, (_, step) => ({
    obs: Float32Array.from([-50 + step, 4.4 + episode / 100]),
    act: Float32Array.from([1, 1]),
    cost: violates && step === n - 1 ? 1 : 0,
    nextObs: Float32Array.from([-49 + step, 4.6]),
    done: step === n - 1,
    episode,
    step,
  }));
}

/** 9 training episodes of 12 (the first 5 and the last end in a violation), then the 10th, held out, violating. */
function stream(trainer: OnlineTrainer): void {
  const eps = Array.from({ length: 10 }, (_, e) => episode(100 + e, 12, e < 5 || e >= 8)).flat();
  for (let i = 0; i < eps.length; i += 16) trainer.addTransitions(TransitionColumns.from(spec.obsDim, spec.actDim, eps.slice(i, i + 16)));
}

const criticBytes = async (trainer: OnlineTrainer, name: string): Promise<Buffer> => {
  await trainer.exportModel(join(dir, name), name);
  return readFileSync(join(dir, name, 'critic.onnx'));
};

void t.test('a plain start model: fine-tune steps on the last N training transitions, held-out rows excepted', async (t) => {
  const trainer = await createOnlineTrainer({ robot: 'nav1', data: [mcap], seed: 3, steps: 10, threads: 1, recentTransitions: 40 });
  t.teardown(() => trainer.release());
  t.equal(trainer.metaTrained, false);
  stream(trainer);
  const before = await criticBytes(trainer, 'before');
  const updates = trainer.updates;
  const r = await trainer.adapt({ transitions: 40, steps: 6 });
  // Rows 68..107 of the 108 training rows: the tail of episode 5 and episodes 6-8; only 8 violates.
  // The 10th episode (held out for the gate, violating too) is not among them.
  t.same(r.rows, 40);
  t.equal(r.violations, 1, 'one violation in the last 40 training rows (6 in all; the held-out episode’s not counted)');
  t.equal(r.method, 'fine-tune');
  t.equal(r.steps, 6);
  t.ok(Number.isFinite(r.criticLoss), `critic loss ${r.criticLoss}`);
  t.equal(trainer.updates, updates + 6, 'fine-tune steps are online updates');
  t.not(Buffer.compare(before, await criticBytes(trainer, 'after')), 0, 'the critic changed');
  await t.rejects(trainer.adapt({ transitions: 41 }), { code: 'E_USAGE', message: /transitions must be an integer in \[1, 40\] \(recentTransitions\), got 41/ });
});

void t.test('a meta-trained start model: MESA adaptation, and the online versions say they descend from one', async (t) => {
  const ds = await readDataset([mcap]);
  const start = join(dir, 'start');
  await trainOffline(ds, { ...defaultsFor('nav1'), robot: 'nav1', seed: 4, outDir: start, steps: 20, threads: 1, sizes: small });
  // What `rshield meta-train` writes into the card (src/learn/meta/meta-train.ts); the weights here are an ordinary model's.
  const card = JSON.parse(readFileSync(join(start, 'model.json'), 'utf8')) as { training: Record<string, unknown> };
  card.training['algorithm'] = 'mesa-maml';
  writeFileSync(join(start, 'model.json'), JSON.stringify(card));

  const trainer = await createOnlineTrainer({ robot: 'nav1', data: [mcap], modelDir: start, seed: 4, threads: 1, recentTransitions: 50 });
  t.teardown(() => trainer.release());
  t.equal(trainer.metaTrained, true);
  stream(trainer);
  const before = await criticBytes(trainer, 'meta-before');
  const r = await trainer.adapt({ transitions: 50, steps: 5 });
  // Rows 58..107: the last two of episode 4 (its violation) and episodes 5-8 (8's violation).
  t.match(r, { method: 'mesa', rows: 50, steps: 5, violations: 2 });
  t.equal(trainer.updates, 0, 'MESA steps run on their own optimiser, not as online updates');
  t.not(Buffer.compare(before, await criticBytes(trainer, 'meta-after')), 0, 'the critic changed');
  const exported = JSON.parse(readFileSync(join(dir, 'meta-after', 'model.json'), 'utf8')) as { training: Record<string, unknown> };
  t.equal(exported.training['metaTrained'], true, 'a trainer continuing from this version adapts it as MESA too');
  const again = await trainer.adapt({ transitions: 50, steps: 5 });
  t.equal(again.rows, 50, 'adapting twice works (a fresh adaptation optimiser each time)');
});
