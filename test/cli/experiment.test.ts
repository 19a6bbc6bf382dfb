import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import t from 'tap';
import { runCli, type Capturing } from '../helpers/cli.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'app', 'experiment', 'fixtures', 'test-algorithms.ts');
const run = (t: Capturing, ...argv: string[]): ReturnType<typeof runCli> => runCli(t, 'experiment', ...argv);

interface MeanSe { mean: number | null; se: number | null }
interface Summary {
  robot: string; episodes: number; seeds: number;
  algos: Record<string, { successes: MeanSe; violations: MeanSe; ratio: MeanSe; recoveryViolationShare: MeanSe; runs: { seed: number; successes: number; violations: number; ratio: number; file: string }[] }>;
}

void t.test('scripted vs scripted-shielded on dvrk-reacher: summary.json, --json, three plots', async (t) => {
  const out = t.testdir();
  const r = await run(t, '--robot', 'dvrk-reacher', '--algo', 'scripted,scripted-shielded', '--seeds', '2', '--episodes', '6', '--out', out, '--json');
  t.equal(r.code, 0, r.err);
  const s = JSON.parse(r.out) as Summary;
  t.same(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')), s, '--json prints summary.json');
  t.same(Object.keys(s), ['robot', 'episodes', 'seeds', 'algos']);
  t.match(s, { robot: 'dvrk-reacher', episodes: 6, seeds: 2 });
  t.same(Object.keys(s.algos), ['scripted', 'scripted-shielded']);
  for (const [name, a] of Object.entries(s.algos)) {
    t.same(Object.keys(a), ['successes', 'violations', 'ratio', 'recoveryViolationShare', 'runs'], name);
    t.same(a.runs.map((x) => x.seed), [0, 1]);
    for (const x of a.runs) t.equal(x.ratio, (x.successes + 1) / (x.violations + 1));
    t.equal(a.ratio.mean, (a.runs[0]!.ratio + a.runs[1]!.ratio) / 2);
    t.equal(a.runs[0]!.file, `runs/${name}/seed-0.jsonl`);
  }
  t.ok(s.algos.scripted!.violations.mean! > 0, 'the straight-line controller hits the zone');
  t.ok(s.algos['scripted-shielded']!.violations.mean! < s.algos.scripted!.violations.mean!, 'the shield lowers violations');
  t.match(r.err, /summary: all 4 runs finished/);
  const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' });
  for (const f of ['ratio.svg', 'successes.svg', 'violations.svg']) {
    const text = readFileSync(join(out, f), 'utf8');
    t.equal(XMLValidator.validate(text), true, `${f} is well-formed XML`);
    const svg = (parser.parse(text) as { svg: { polyline: { points: string }[]; polygon: unknown[] } }).svg;
    t.equal(svg.polyline.length, 2, `${f}: one line per algorithm`);
    t.equal(svg.polygon.length, 2, `${f}: one s.e. band per algorithm`);
    t.equal(svg.polyline[0]!.points.split(' ').length, 6, `${f}: a point per episode`);
  }
});

void t.test('the table, and --help lists the algorithms', async (t) => {
  const out = t.testdir();
  const r = await run(t, '--robot', 'nav1', '--algo', 'pattern', '--module', fixtures, '--seeds', '2', '--episodes', '4', '--out', out);
  t.equal(r.code, 0, r.err);
  // pattern seeds 0, 1 over 4 episodes: S 2 and 2, V 1 and 1 (under recovery: seed 1's) → ratio 1.5
  t.match(r.out, /pattern\s+2\s+2\.0 ± 0\.0\s+1\.0 ± 0\.0\s+1\.50 ± 0\.00\s+0\.50 ± 0\.50/);
  const h = await run(t, '--help');
  t.equal(h.code, 0);
  t.match(h.out, /scripted-shielded\s+the scripted controller under the shield/);
  t.match(h.out, /scripted-online .*ablations: no-pretraining, no-online, offline-size/);
});

void t.test('shards run disjoint parts; the summary merges what is finished and names what is missing', async (t) => {
  const out = t.testdir();
  const base = ['--robot', 'nav1', '--algo', 'pattern', '--module', fixtures, '--seeds', '3', '--episodes', '5', '--out', out, '--json'];
  const one = await run(t, ...base, '--shard', '1/2');
  t.equal(one.code, 0, one.err);
  t.match(one.err, /2 of 3 runs finished; missing: pattern\/seed-1/);
  t.same((JSON.parse(one.out) as Summary).algos.pattern!.runs.map((x) => x.seed), [0, 2]);
  const two = await run(t, ...base, '--shard', '2/2');
  t.equal(two.code, 0, two.err);
  t.match(two.err, /runs: 1 done, 0 already finished.*shard 2\/2: 1 runs/);
  t.match(two.err, /all 3 runs finished/);
  const whole = t.testdir();
  const all = await run(t, ...base.slice(0, -3), '--out', whole, '--json');
  t.same(JSON.parse(two.out), JSON.parse(all.out), 'merged shards summarise as one unsharded experiment');
});

void t.test('a crashed run is reported by name, the others go on, the exit code is 1', async (t) => {
  const out = t.testdir();
  const r = await run(t, '--robot', 'nav1', '--algo', 'throws-seed-1', '--module', fixtures, '--seeds', '3', '--episodes', '4', '--out', out, '--json');
  t.equal(r.code, 1);
  t.match(r.err, /run throws-seed-1\/seed-1 failed: deliberate failure at episode 2/);
  t.match(r.err, /2 of 3 runs finished; missing: throws-seed-1\/seed-1/);
  t.same((JSON.parse(r.out) as Summary).algos['throws-seed-1']!.runs.map((x) => x.seed), [0, 2]);
});

void t.test('bad options are refused by name before anything runs', async (t) => {
  const out = t.testdir();
  const cases: [string[], RegExp][] = [
    [['--algo', 'nope'], /unknown algorithm 'nope' \(known: scripted, scripted-shielded/],
    [['--algo', 'scripted', '--ablate', 'no-online'], /algorithm 'scripted' has no ablation 'no-online' \(it takes none\)/],
    [['--algo', 'scripted-online', '--ablate', 'no-relabeling'], /algorithm 'scripted-online' has no ablation 'no-relabeling'/],
    [['--algo', 'scripted', '--ablate', 'fewer-bugs'], /unknown ablation 'fewer-bugs'/],
    [['--algo', 'scripted', '--shard', '3/2'], /--shard must be i\/n/],
    [['--algo', 'scripted', '--seeds', '0'], /--seeds must be an integer ≥ 1/],
    [['--algo', 'scripted,scripted'], /names an algorithm twice/],
  ];
  for (const [args, msg] of cases) {
    const r = await run(t, '--robot', 'nav1', '--out', out, ...args);
    t.equal(r.code, 2, args.join(' '));
    t.match(r.err, msg, args.join(' '));
  }
  const robot = await run(t, '--robot', 'r2d2', '--algo', 'scripted', '--out', out);
  t.match(robot.err, /unknown robot 'r2d2'/);
});
