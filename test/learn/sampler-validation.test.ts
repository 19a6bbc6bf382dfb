import t from 'tap';
import { Rng } from '../../src/core/rng.js';
import { BatchSampler, type SampledColumns } from '../../src/learn/batch-sampler.js';
import { splitByEpisode, violationWithin } from '../../src/learn/validation.js';

/** 100 rows, obs = [i], act = [i + 0.5]; every 10th row violates; odd rows have a next action. */
function columns(): SampledColumns {
  const n = 100;
  return {
    size: n, obsDim: 1, actDim: 1,
    obs: Float32Array.from({ length: n }, (_, i) => i),
    act: Float32Array.from({ length: n }, (_, i) => i + 0.5),
    cost: Float32Array.from({ length: n }, (_, i) => (i % 10 === 0 ? 1 : 0)),
    nextObs: Float32Array.from({ length: n }, (_, i) => i + 1),
    done: Uint8Array.from({ length: n }, (_, i) => (i % 10 === 0 ? 1 : 0)),
    nextAct: Float32Array.from({ length: n }, (_, i) => (i % 2 === 1 ? -i : 0)),
    hasNextAct: Uint8Array.from({ length: n }, (_, i) => i % 2),
  };
}

void t.test('a batch with a violation share holds that share of violating rows', async (t) => {
  const s = new BatchSampler(50, 0.3, 1, 1);
  const b = s.sample(columns(), new Rng(1));
  t.equal(b.cost.reduce((a, c) => a + c, 0), 15);
  for (let i = 0; i < 50; i++) {
    const row = b.obs[i]!;
    t.equal(b.act[i], row + 0.5, 'rows stay aligned');
    t.equal(b.cost[i], row % 10 === 0 ? 1 : 0);
    t.equal(b.done[i], b.cost[i], 'no bootstrap past a violation');
    t.equal(b.next_act[i], row % 2 === 1 ? -row : row + 0.5, 'a′ is the logged next action, else a');
  }
});

void t.test('uniform sampling draws only from the given rows', async (t) => {
  const s = new BatchSampler(64, -1, 1, 1);
  const rows = Uint32Array.from([3, 4, 5]);
  const b = s.sample(columns(), new Rng(2), rows);
  t.ok(Array.from(b.obs).every((o) => o >= 3 && o <= 5));
  t.equal(new Set(b.obs).size, 3, 'all three rows are drawn');
});

void t.test('the validation split keeps episodes whole and is seeded', async (t) => {
  const episode = Uint32Array.from({ length: 1000 }, (_, i) => Math.floor(i / 7));
  const a = splitByEpisode(episode, 0.2, new Rng(5));
  const b = splitByEpisode(episode, 0.2, new Rng(5));
  t.same(Array.from(a.validation), Array.from(b.validation));
  t.equal(a.train.length + a.validation.length, 1000);
  const held = new Set(Array.from(a.validation, (r) => episode[r]));
  t.ok(Array.from(a.train).every((r) => !held.has(episode[r])), 'no episode is in both');
  t.ok(a.validation.length > 100 && a.validation.length < 300, `${a.validation.length} held out`);
});

void t.test('violationWithin labels the k steps before an episode\'s first violation', async (t) => {
  const d = {
    size: 8,
    cost: Float32Array.from([0, 0, 0, 1, 0, 0, 0, 0]),
    episode: Uint32Array.from([0, 0, 0, 0, 1, 1, 1, 1]),
    step: Uint32Array.from([0, 1, 2, 3, 0, 1, 2, 3]),
  };
  t.same(Array.from(violationWithin(d, 2)), [0, 0, 1, 1, 0, 0, 0, 0]);
  t.same(Array.from(violationWithin(d, 4)), [1, 1, 1, 1, 0, 0, 0, 0]);
});

void t.test('violationWithin counts every violating step when an episode goes on after one', async (t) => {
  // Maze-style segment: violation at step 1, then a frozen state violating at steps 2 and 3.
  const d = {
    size: 5,
    cost: Float32Array.from([0, 1, 1, 1, 0]),
    episode: Uint32Array.from([0, 0, 0, 0, 0]),
    step: Uint32Array.from([0, 1, 2, 3, 4]),
  };
  t.same(Array.from(violationWithin(d, 1)), [0, 1, 1, 1, 0]);
});
