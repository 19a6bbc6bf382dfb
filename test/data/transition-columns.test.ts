import t from 'tap';
import { isRShieldError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import type { Transition } from '../../src/core/types.js';
import { createReplayBuffer } from '../../src/data/replay-buffer.js';
import { TransitionColumns, transitionAt, transitionsOf } from '../../src/data/transition-columns.js';
import { BatchSampler } from '../../src/learn/batch-sampler.js';

/** Transition i: obs = [i, -i], act = [i / 10], step = i; every 3rd has no next action. */
function tr(i: number): Transition {
  return {
    obs: Float32Array.from([i, -i]),
    act: Float32Array.from([i / 10]),
    cost: i % 5 === 4 ? 1 : 0,
    nextObs: Float32Array.from([i + 1, -i - 1]),
    done: i % 5 === 4,
    episode: Math.floor(i / 5),
    step: i,
    ...(i % 3 === 2 ? {} : { nextAct: Float32Array.from([i / 10 + 0.05]) }),
  };
}

const steps = (c: TransitionColumns): number[] => [...c.step.subarray(0, c.size)];

void t.test('fixed columns take their capacity, and one more row is an error naming it', (t) => {
  const c = TransitionColumns.fixed(2, 1, 3);
  for (let i = 0; i < 3; i++) c.push(tr(i));
  t.ok(c.full);
  t.same(steps(c), [0, 1, 2]);
  try {
    c.push(tr(3));
    t.fail('a fourth row was accepted');
  } catch (err) {
    t.ok(isRShieldError(err) && err.code === 'E_DATA', 'E_DATA');
    t.match((err as Error).message, /at most 3 rows/, 'names the capacity');
  }
  t.same(steps(c), [0, 1, 2], 'the rows held are untouched');
  t.throws(() => c.append(TransitionColumns.from(2, 1, [tr(9)])), /at most 3 rows/, 'a bulk append that overflows is refused too');
  c.clear();
  t.equal(c.size, 0);
  c.push(tr(7));
  t.same(steps(c), [7], 'cleared columns are reused from row 0');
  t.end();
});

void t.test('growable columns keep every row, values and next actions exact', (t) => {
  const c = TransitionColumns.growable(2, 1, 2);
  const ts = Array.from({ length: 1000 }, (_, i) => tr(i));
  for (const x of ts.slice(0, 500)) c.push(x);
  c.append(TransitionColumns.from(2, 1, ts.slice(500)));
  t.equal(c.size, 1000);
  t.equal(c.capacity, Number.POSITIVE_INFINITY);
  t.same(transitionsOf(c), ts, 'every transition back as it went in');
  t.equal(transitionAt(c, 2).nextAct, undefined, 'a row without a next action has none');
  t.same([...c.nextAct.subarray(2, 3)], [0], 'and zeros in the nextAct column');
  t.end();
});

void t.test('ring columns overwrite the oldest row and a sampler draws only valid rows', (t) => {
  const ring = TransitionColumns.ring(2, 1, 5, 2);
  for (let i = 0; i < 3; i++) ring.push(tr(i));
  const sampler = new BatchSampler(64, 0, 2, 1);
  const rng = new Rng(3);
  const drawn = new Set<number>();
  for (let k = 0; k < 20; k++) for (const v of sampler.sample(ring, rng).obs.filter((_, j) => j % 2 === 0)) drawn.add(v);
  t.same([...drawn].sort((a, b) => a - b), [0, 1, 2], 'before the ring fills, only the rows pushed are drawn (no zero rows beyond them)');

  for (let i = 3; i < 8; i++) ring.push(tr(i));
  t.equal(ring.size, 5, 'size stops at the capacity');
  t.same([...steps(ring)].sort((a, b) => a - b), [3, 4, 5, 6, 7], 'the three oldest were overwritten');
  ring.append(TransitionColumns.from(2, 1, [8, 9, 10, 11].map(tr)));
  t.same([...steps(ring)].sort((a, b) => a - b), [7, 8, 9, 10, 11], 'a bulk append wraps around the end the same way');
  drawn.clear();
  for (let k = 0; k < 20; k++) for (const v of sampler.sample(ring, rng).obs.filter((_, j) => j % 2 === 0)) drawn.add(v);
  t.same([...drawn].sort((a, b) => a - b), [7, 8, 9, 10, 11], 'a full ring samples only the rows it holds');

  const replay = createReplayBuffer(2, 1, 4);
  replay.append(TransitionColumns.from(2, 1, [0, 1, 2, 3, 4, 5].map(tr)), Uint32Array.from([5, 0, 4, 1, 3]));
  t.same([...steps(replay)].sort((a, b) => a - b), [0, 1, 3, 4], 'picked rows go in in order; the first picked is overwritten');
  t.end();
});

void t.test('columns of other dimensions are refused with both shapes named', (t) => {
  const c = TransitionColumns.growable(2, 1);
  t.throws(() => c.append(TransitionColumns.growable(3, 1)), /obsDim 3, actDim 1; these hold 2, 1/);
  t.throws(() => TransitionColumns.fixed(2, 1, 0), /capacity ≥ 1, got 0/);
  t.end();
});
