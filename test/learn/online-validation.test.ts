// The online learner's held-out set (the trainer's quality gate): whole episodes, never trained on.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import type { Transition } from '../../src/core/types.js';
import { readDataset, TransitionColumns, TransitionWriter } from '../../src/data/index.js';
import { createEnv, generateOfflineData } from '../../src/envs/index.js';
import { createOnlineTrainer } from '../../src/learn/online.js';

const dir = mkdtempSync(join(tmpdir(), 'rshield-online-validation-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const spec = createEnv('nav1').spec;
const mcap = join(dir, 'nav1.mcap');
const w = TransitionWriter.open(mcap, { robot: 'nav1', obsDim: spec.obsDim, actDim: spec.actDim, actLow: spec.actLow, actHigh: spec.actHigh, generator: 'test', seed: 1, requested: 3000 });
for (const tr of generateOfflineData('nav1', { seed: 1, transitions: 3000 })) w.write(tr);
w.close();
const ds = await readDataset([mcap]);

/** `n` transitions of online episode `episode`, the last one violating. */
function episode(episode: number, n: number): Transition[] {
  return Array.from({ length: n }, (_, step) => ({
    obs: Float32Array.from([-50 + step, 4.4]),
    act: Float32Array.from([1, 1]),
    cost: step === n - 1 ? 1 : 0,
    nextObs: Float32Array.from([-49 + step, 4.6]),
    done: step === n - 1,
    episode,
    step,
  }));
}

void t.test('about 10% of the offline episodes and every 10th online episode are held out, never put in the replay buffer', async (t) => {
  const trainer = await createOnlineTrainer({ robot: 'nav1', data: [mcap], seed: 1, steps: 20, threads: 1, onPretrainProgress: () => {} });
  t.teardown(() => trainer.release());
  const held = trainer.validationRows;
  t.ok(held > 0.03 * ds.size && held < 0.25 * ds.size, `${held} of ${ds.size} offline transitions held out`);
  t.equal(trainer.bufferSize + held, ds.size, 'every offline row is either trained on or held out, never both');
  const episodes = new Set(ds.episode);
  t.ok(episodes.size > 10, `${episodes.size} offline episodes`);

  // 25 online episodes of 12 transitions, streamed in uneven batches: the 10th and 20th are held out.
  const all = Array.from({ length: 25 }, (_, e) => episode(100 + e, 12)).flat();
  for (let i = 0; i < all.length; i += 7) trainer.addTransitions(TransitionColumns.from(spec.obsDim, spec.actDim, all.slice(i, i + 7)));
  t.equal(trainer.validationRows - held, 24, 'two whole online episodes (the 10th and the 20th) held out');
  t.equal(trainer.bufferSize, ds.size - held + 23 * 12, 'the other 23 went to the replay buffer');

  // The same seed holds out the same episodes.
  const again = await createOnlineTrainer({ robot: 'nav1', data: [mcap], seed: 1, steps: 0, threads: 1 });
  t.equal(again.validationRows, held, 'seeded split');
  await again.release();
});

void t.test('evaluate() scores the current weights against the reference on the same held-out rows', async (t) => {
  const trainer = await createOnlineTrainer({ robot: 'nav1', data: [mcap], seed: 2, steps: 30, threads: 1 });
  t.teardown(() => trainer.release());
  const first = await trainer.evaluate();
  t.equal(first.rows, trainer.validationRows);
  t.ok(first.positives > 0 && first.positives < first.rows, `${first.positives} positives of ${first.rows}`);
  t.ok(first.auroc > 0 && first.auroc < 1, `AUROC ${first.auroc}`);
  t.equal(first.reference, first.auroc, 'before any online update the reference is the start model itself');

  await trainer.update(40);
  const later = await trainer.evaluate();
  t.equal(later.reference, first.reference, 'the reference stays the start model until a version is accepted');
  t.not(later.auroc, first.auroc, 'updates changed the critic');
  trainer.acceptCurrent();
  const accepted = await trainer.evaluate();
  t.equal(accepted.reference, accepted.auroc, 'after acceptCurrent() the current weights are the reference');

  // The gate's two sets apart: D_offline's held-out episodes (all of them so far) and the online ones.
  t.equal(accepted.offline.candidate.rows, trainer.validationRows);
  t.equal(accepted.online.candidate.rows, 0);
  t.ok(accepted.offline.candidate.caught >= 0 && accepted.offline.candidate.caught <= 1, `caught ${accepted.offline.candidate.caught}`);
  const online = Array.from({ length: 10 }, (_, e) => episode(500 + e, 12)).flat();
  trainer.addTransitions(TransitionColumns.from(spec.obsDim, spec.actDim, online));
  const split = await trainer.evaluate();
  t.equal(split.online.candidate.rows, 12, 'the 10th online episode is scored as an online episode');
  t.equal(split.online.candidate.positives, 5, 'its last 5 steps lead to its violation');
  t.equal(split.offline.candidate.rows + split.online.candidate.rows, split.rows, 'the two sets make up the pooled one');

  await trainer.exportModel(join(dir, 'v1'), 'nav1-online.1', { auroc: 0.8123 });
  const card = JSON.parse(readFileSync(join(dir, 'v1', 'model.json'), 'utf8')) as { metrics: Record<string, unknown> };
  t.equal(card.metrics.auroc, 0.8123, 'the gate’s metrics go into the card');
  t.equal(card.metrics.validationRows, trainer.validationRows);
});
