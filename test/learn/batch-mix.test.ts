// The online phase's batch composition (MixedBatchSampler): the share of violating rows and of
// D_offline in every critic batch holds as the shielded robot's (almost all safe) data grows.
import t from 'tap';
import { Rng } from '../../src/core/rng.js';
import type { Transition } from '../../src/core/types.js';
import { TransitionColumns } from '../../src/data/transition-columns.js';
import { MixedBatchSampler } from '../../src/learn/batch-sampler.js';

/** D_offline: 200 rows, obs = [-1 - i] (negative: offline), every 10th violating. */
function offline(): TransitionColumns {
  const ts: Transition[] = Array.from({ length: 200 }, (_, i) => ({
    obs: Float32Array.of(-1 - i), act: Float32Array.of(0), cost: i % 10 === 0 ? 1 : 0, nextObs: Float32Array.of(-2 - i), done: i % 10 === 0, episode: Math.floor(i / 10), step: i % 10,
  }));
  return TransitionColumns.from(1, 1, ts);
}

/** Online row `i`: obs = [i] (≥ 0: online); one in 500 violates, as under a working shield. */
function onlineRow(i: number): Transition {
  return { obs: Float32Array.of(i), act: Float32Array.of(0), cost: i % 500 === 499 ? 1 : 0, nextObs: Float32Array.of(i + 1), done: false, episode: 1000 + Math.floor(i / 50), step: i % 50 };
}

/** Shares of violating and of offline rows over `n` batches. */
function shares(s: MixedBatchSampler, ring: TransitionColumns, rng: Rng, n: number): { violations: number; offline: number } {
  let v = 0;
  let off = 0;
  let rows = 0;
  for (let k = 0; k < n; k++) {
    const b = s.sample(ring, rng);
    for (let i = 0; i < b.cost.length; i++) {
      rows++;
      if (b.cost[i]! > 0) v++;
      if (b.obs[i]! < 0) off++;
    }
  }
  return { violations: v / rows, offline: off / rows };
}

void t.test('the violating share and the offline share of a batch hold as the online buffer grows', async (t) => {
  const off = offline();
  const ring = TransitionColumns.ring(1, 1, 100_000, 256);
  const fixed = new MixedBatchSampler(256, { violationShare: 0.3, offlineShare: 0.5 }, off);
  const uniform = new MixedBatchSampler(256, { violationShare: null, offlineShare: null }, off);
  const rng = new Rng(3);
  t.same(shares(fixed, ring, rng, 4), { violations: 77 / 256, offline: 1 }, 'before any online data: all from D_offline, 30% violating');
  let pushed = 0;
  let lastUniform = 20 / 200;
  for (const size of [1000, 10_000, 50_000]) {
    for (; pushed < size; pushed++) {
      const row = ring.push(onlineRow(pushed));
      fixed.noteOnlineRow(ring, row);
      uniform.noteOnlineRow(ring, row);
    }
    const f = shares(fixed, ring, rng, 8);
    t.equal(f.violations, 77 / 256, `${size} online rows: 77 of 256 rows violate in every batch`);
    t.ok(f.offline >= 90 / 256, `${size} online rows: ≥ half the safe rows from D_offline (${f.offline.toFixed(3)})`);
    const u = shares(uniform, ring, rng, 8).violations;
    t.ok(u <= lastUniform, `uniform sampling, for contrast: the violating share falls (or stays) as the buffer grows (${u.toFixed(4)} at ${size})`);
    lastUniform = u;
  }
  t.ok(lastUniform < 0.01, 'uniform: under 1% violating rows at 50 000 online rows');
  t.equal(fixed.onlineViolations, 100, 'one online violation in 500 rows is indexed');
});

void t.test('a ring row overwritten by a safe one leaves the violation index', async (t) => {
  const ring = TransitionColumns.ring(1, 1, 4, 4);
  const s = new MixedBatchSampler(8, { violationShare: 0.5, offlineShare: 0 }, offline());
  const violating: Transition = { ...onlineRow(0), cost: 1 };
  s.noteOnlineRow(ring, ring.push(violating));
  for (let i = 1; i < 4; i++) s.noteOnlineRow(ring, ring.push(onlineRow(i)));
  t.equal(s.onlineViolations, 1);
  s.noteOnlineRow(ring, ring.push(onlineRow(4)));
  t.equal(s.onlineViolations, 0, 'the overwritten violating row is gone from the index');
  const b = s.sample(ring, new Rng(1));
  for (let i = 0; i < 8; i++) if (b.obs[i]! >= 0) t.equal(b.cost[i], 0, 'online rows drawn are the ring’s current safe rows');
  t.throws(() => new MixedBatchSampler(8, { violationShare: 1.5, offlineShare: 0 }, offline()), /violationShare must be in \[0, 1\)/);
});
