import t from 'tap';
import { MAX_CANDIDATES, nearestSafeCandidates, unitDirections } from '../../src/core/nearest-safe-candidates.js';
import { Rng } from '../../src/core/rng.js';

/** Largest angle (degrees) from a random unit vector to its nearest direction, over many samples. */
function worstGapDeg(dirs: number[][], dim: number): number {
  const rng = new Rng(3);
  const v = new Float64Array(dim);
  let worst = 0;
  for (let s = 0; s < 20_000; s++) {
    rng.fillNormal(v);
    const n = Math.hypot(...v);
    let best = -1;
    for (const d of dirs) best = Math.max(best, d.reduce((acc, x, i) => acc + x * (v[i] as number), 0) / n);
    worst = Math.max(worst, Math.acos(Math.min(1, best)));
  }
  return (worst * 180) / Math.PI;
}

void t.test('directions are unit vectors that cover the 2-D circle and the 3-D sphere', (t) => {
  for (let dim = 1; dim <= 7; dim++) {
    for (const d of unitDirections(dim)) t.ok(Math.abs(Math.hypot(...d) - 1) < 1e-12, `|d| = 1 in ${dim}-D`);
  }
  t.ok(worstGapDeg(unitDirections(2), 2) <= 11.25 + 1e-6, 'every 2-D heading is within 11.25° of a direction');
  t.ok(worstGapDeg(unitDirections(3), 3) < 30, 'every 3-D heading is within 30° of a direction');
  t.end();
});

void t.test('the set is sized from actDim: K ≈ 32–96, the proposal first, deterministic', (t) => {
  const k = (dim: number): number => nearestSafeCandidates(dim).count + 1;
  t.equal(k(2), 70, '2-D: proposal, 4 shrinks, 16 headings × 4 kinds, recovery');
  t.equal(k(3), 84, '3-D: proposal, 4 shrinks, 26 headings × 3 kinds, recovery');
  for (let dim = 1; dim <= 8; dim++) t.ok(k(dim) <= MAX_CANDIDATES, `actDim ${dim}: K = ${k(dim)}`);
  const c = nearestSafeCandidates(3);
  t.same([...c.scale.subarray(0, 3), ...c.radial.subarray(0, 3), ...c.offset.subarray(0, 3)], [1, 1, 1, 0, 0, 0, 0, 0, 0], 'row 0 is the proposal itself');
  t.same(nearestSafeCandidates(3), c, 'same set every time');
  t.throws(() => nearestSafeCandidates(0), RangeError);
  t.end();
});
