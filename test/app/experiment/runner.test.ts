import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import t from 'tap';
import { runEpisodes } from '../../../src/core/episode-runner.js';
import { createController, createEnv } from '../../../src/envs/index.js';
import { planRuns, type PlannedRun } from '../../../src/app/experiment/run-list.js';
import { readFinishedRun, runFiles } from '../../../src/app/experiment/run-store.js';
import { runExperiment, type RunEvent } from '../../../src/app/experiment/runner.js';
import { patternEpisode } from './fixtures/test-algorithms.js';

const fixtures = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'test-algorithms.ts')).href;
const plan = (algos: string[], seeds: number, episodes: number, robot = 'nav1'): PlannedRun[] => planRuns({ robot, algos, seeds, episodes, ablations: [], threads: 1 });
const lines = (path: string): unknown[] => readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as unknown);

void t.test('each run writes its episodes as JSONL and a done marker; a second call skips them', async (t) => {
  const dir = t.testdir();
  const runs = plan(['pattern'], 2, 6);
  const first = await runExperiment({ dir, runs, jobs: 2, modules: [fixtures] });
  t.same(first.finished.sort(), ['pattern/seed-0', 'pattern/seed-1']);
  const files = runFiles(dir, runs[1]!);
  t.same(lines(files.jsonl), Array.from({ length: 6 }, (_, k) => patternEpisode(1, k)), 'the episodes the algorithm reported, in order');
  t.match(JSON.parse(readFileSync(files.done, 'utf8')), { robot: 'nav1', algo: 'pattern', seed: 1, episodes: 6, ablations: [] });
  t.notOk(existsSync(files.part));
  const marker = statSync(files.done).mtimeMs;
  const events: RunEvent['type'][] = [];
  const again = await runExperiment({ dir, runs, jobs: 2, modules: [fixtures], onEvent: (e) => events.push(e.type) });
  t.same(again.skipped, ['pattern/seed-0', 'pattern/seed-1']);
  t.same(events, ['skipped', 'skipped'], 'no worker started');
  t.equal(statSync(files.done).mtimeMs, marker, 'marker untouched');
  // More episodes asked for: the finished 6-episode run is not that run, so it is redone.
  const longer = await runExperiment({ dir, runs: plan(['pattern'], 1, 8), jobs: 1, modules: [fixtures] });
  t.same(longer.finished, ['pattern/seed-0']);
  t.equal(lines(runFiles(dir, plan(['pattern'], 1, 8)[0]!).jsonl).length, 8);
});

void t.test('a half-written run is redone from scratch and replaced whole', async (t) => {
  const dir = t.testdir();
  const [a, b, c] = plan(['pattern'], 3, 5);
  const fa = runFiles(dir, a!);
  const fb = runFiles(dir, b!);
  const fc = runFiles(dir, c!);
  mkdirSync(dirname(fa.jsonl), { recursive: true });
  // a: killed mid-run (a .part); b: a JSONL without its marker; c: a marker, but the JSONL is short.
  writeFileSync(fa.part, `${JSON.stringify(patternEpisode(0, 0))}\n{"episode":1,"succ`);
  writeFileSync(fb.jsonl, `${JSON.stringify({ ...patternEpisode(1, 0), success: 'garbage' })}\n`);
  writeFileSync(fc.jsonl, `${JSON.stringify(patternEpisode(2, 0))}\n`);
  writeFileSync(fc.done, JSON.stringify({ robot: 'nav1', algo: 'pattern', seed: 2, episodes: 5, ablations: [], seconds: 1, finishedAt: 'x' }));
  for (const r of [a, b, c]) t.equal(await readFinishedRun(runFiles(dir, r!), r!.spec), null, `${r!.name} counts as unfinished`);
  const out = await runExperiment({ dir, runs: [a!, b!, c!], jobs: 2, modules: [fixtures] });
  t.same(out.skipped, []);
  t.same(out.finished.sort(), ['pattern/seed-0', 'pattern/seed-1', 'pattern/seed-2']);
  for (const [seed, f] of [fa, fb, fc].entries()) {
    t.same(lines(f.jsonl), Array.from({ length: 5 }, (_, k) => patternEpisode(seed, k)), `seed ${seed} complete and fresh`);
    t.notOk(existsSync(f.part));
  }
});

void t.test('a worker that throws or dies is reported by run name; the others finish', async (t) => {
  const dir = t.testdir();
  const runs = [...plan(['throws-seed-1'], 2, 4), ...plan(['dies-seed-0'], 1, 4)];
  const out = await runExperiment({ dir, runs, jobs: 2, modules: [fixtures] });
  t.same(out.finished, ['throws-seed-1/seed-0']);
  const failed = new Map(out.failed.map((f) => [f.name, f.error]));
  t.equal(failed.get('throws-seed-1/seed-1'), 'deliberate failure at episode 2');
  t.match(failed.get('dies-seed-0/seed-0'), /^worker exited with code 3/);
  for (const r of runs.slice(1)) {
    const f = runFiles(dir, r);
    t.notOk(existsSync(f.done) || existsSync(f.jsonl), `${r.name}: nothing that looks finished`);
  }
  t.equal(lines(runFiles(dir, runs[0]!).jsonl).length, 4);
});

void t.test('a stop (Ctrl-C) ends the workers after their episode; finished runs stay, nothing partial is left', async (t) => {
  const dir = t.testdir();
  const fast = plan(['pattern'], 1, 3);
  await runExperiment({ dir, runs: fast, jobs: 1, modules: [fixtures] });
  const slow = plan(['slow'], 3, 40);
  const stop = new AbortController();
  const out = await runExperiment({
    dir, runs: [...fast, ...slow], jobs: 2, modules: [fixtures], signal: stop.signal,
    onEvent: (e) => {
      if (e.type === 'episode' && e.episode === 1) stop.abort();
    },
  });
  t.same(out.skipped, ['pattern/seed-0']);
  t.same(out.finished, []);
  t.ok(out.stopped.length >= 1 && out.stopped.length <= 2, `stopped: ${out.stopped.join(', ')}`);
  t.notOk(out.stopped.includes('slow/seed-2'), 'no new run started after the stop');
  const slowDir = dirname(runFiles(dir, slow[0]!).jsonl);
  t.same(existsSync(slowDir) ? readdirSync(slowDir) : [], [], 'no partial or finished-looking file of a stopped run');
  t.ok(await readFinishedRun(runFiles(dir, fast[0]!), fast[0]!.spec), 'the finished run is intact');
});

void t.test('scripted runs record what the episode runner measures on the same seeds', async (t) => {
  const dir = t.testdir();
  const [run] = plan(['scripted'], 1, 4, 'dvrk-reacher');
  await runExperiment({ dir, runs: [run!], jobs: 1 });
  const got = lines(runFiles(dir, run!).jsonl) as { success: boolean; violation: boolean }[];
  const ref = await runEpisodes({ env: createEnv('dvrk-reacher', { seed: 0 }), controller: createController('dvrk-reacher', { seed: 0 }), episodes: 4, seed: 0 });
  t.same(got.map((e) => e.success), ref.cumulativeSuccesses.map((s, i) => s > (ref.cumulativeSuccesses[i - 1] ?? 0)));
  t.same(got.map((e) => e.violation), ref.cumulativeViolations.map((v, i) => v > (ref.cumulativeViolations[i - 1] ?? 0)));
});
