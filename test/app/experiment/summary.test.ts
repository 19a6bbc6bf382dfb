import t from 'tap';
import { curves, meanSe, summariseAlgo, summariseRun, type FinishedRun } from '../../../src/app/experiment/summary.js';
import type { EpisodeResult } from '../../../src/learn/algorithm.js';

const ep = (episode: number, success: boolean, violation: boolean, recoveryViolation = false): EpisodeResult => ({
  episode, success, violation, steps: 10, recoverySteps: recoveryViolation ? 3 : 0, recoveryViolation, return: -1,
});

void t.test('mean and standard error match hand values', async (t) => {
  // 1, 2, 3, 6: mean 3, sample variance (4+1+0+9)/3 = 14/3, se = √(14/3/4) = 1.0801…
  const m = meanSe([1, 2, 3, 6]);
  t.equal(m.mean, 3);
  t.ok(Math.abs(m.se! - Math.sqrt(14 / 12)) < 1e-12, `se ${m.se}`);
  t.same(meanSe([5]), { mean: 5, se: null }, 'one seed: no standard error');
  t.same(meanSe([]), { mean: null, se: null });
});

void t.test('a run: S, V, ratio at the last episode, share of violations under recovery', async (t) => {
  const run: FinishedRun = { seed: 3, file: 'runs/a/seed-3.jsonl', episodes: [ep(0, true, false), ep(1, false, true, true), ep(2, true, false), ep(3, false, true), ep(4, true, false)] };
  const r = summariseRun(run);
  t.equal(r.successes, 3);
  t.equal(r.violations, 2);
  t.equal(r.ratio, 4 / 3, '(3+1)/(2+1)');
  t.equal(r.recoveryViolations, 1);
  t.equal(r.recoveryViolationShare, 0.5);
  t.equal(r.recoverySteps, 3);
  t.equal(r.steps, 50);
  t.equal(summariseRun({ seed: 0, file: 'x', episodes: [ep(0, true, false)] }).recoveryViolationShare, null, 'no violations: N/A (thesis Table I)');
});

void t.test('an algorithm over seeds: means and standard errors of the per-seed numbers', async (t) => {
  const runs: FinishedRun[] = [
    { seed: 0, file: 'a', episodes: [ep(0, true, false), ep(1, true, false)] }, // S 2, V 0, ratio 3
    { seed: 1, file: 'b', episodes: [ep(0, false, true, true), ep(1, true, false)] }, // S 1, V 1, ratio 1, share 1
    { seed: 2, file: 'c', episodes: [ep(0, false, true), ep(1, false, true)] }, // S 0, V 2, ratio 1/3, share 0
  ];
  const a = summariseAlgo(runs);
  t.equal(a.successes.mean, 1);
  t.ok(Math.abs(a.successes.se! - Math.sqrt(1 / 3)) < 1e-12, 'se of 2,1,0 is √(1/3)');
  t.equal(a.violations.mean, 1);
  t.ok(Math.abs(a.ratio.mean! - (3 + 1 + 1 / 3) / 3) < 1e-12, `ratio mean ${a.ratio.mean}`);
  // ratios 3, 1, 1/3: mean 13/9; deviations 14/9, -4/9, -10/9 → ss = 312/81, se = √(312/81/2/3)
  t.ok(Math.abs(a.ratio.se! - Math.sqrt(312 / 81 / 6)) < 1e-12, `ratio se ${a.ratio.se}`);
  t.same(a.recoveryViolationShare.mean, 0.5, 'seeds without violations are left out of the share');
  t.same(a.runs.map((r) => r.seed), [0, 1, 2]);
});

void t.test('curves: mean ± s.e. over seeds after each episode', async (t) => {
  const runs: FinishedRun[] = [
    { seed: 0, file: 'a', episodes: [ep(0, true, false), ep(1, false, true)] },
    { seed: 1, file: 'b', episodes: [ep(0, false, true), ep(1, false, true)] },
  ];
  const c = curves(runs, 2);
  t.same(c.successes.map((x) => x.mean), [0.5, 0.5]);
  t.same(c.violations.map((x) => x.mean), [0.5, 1.5]);
  // after episode 0: ratios 2/1 and 1/2; after episode 1: 2/2 and 1/3
  t.same(c.ratio.map((x) => x.mean), [1.25, (1 + 1 / 3) / 2]);
  t.equal(c.ratio[0]!.se, 0.75, 's.d. of 2 and 0.5 is 1.0607, /√2');
});
