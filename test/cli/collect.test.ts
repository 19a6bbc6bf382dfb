import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { runCli, type Capturing } from '../helpers/cli.js';
import { readDataset } from '../../src/data/index.js';
import { createEnv, generatorInfo } from '../../src/envs/index.js';

const dir = mkdtempSync(join(tmpdir(), 'rshield-collect-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const collect = (t: Capturing, ...argv: string[]): ReturnType<typeof runCli> => runCli(t, 'collect', ...argv);

void t.test('collect writes the generator\'s data and says what it wrote', async (t) => {
  const out = join(dir, 'nav1.mcap');
  const r = await collect(t, '--robot', 'nav1', '--transitions', '2000', '--seed', '3', '--out', out);
  t.equal(r.code, 0, r.err);
  const m = /^collect: wrote (\d+) transitions \((\d+) violations, (\d+) episodes\) of nav1 to .*nav1\.mcap, [\d.]+ (B|KiB|MiB) in [\d.]+ s$/.exec(r.out);
  t.ok(m, `summary line: ${r.out}`);
  const d = await readDataset([out]);
  t.equal(d.size, Number(m?.[1]), 'the file holds the transitions the summary reports');
  t.equal(d.cost.reduce((s, c) => s + c, 0), Number(m?.[2]), 'and the violations');
  t.equal(new Set(d.episode).size, Number(m?.[3]), 'and the episodes');
  const spec = createEnv('nav1').spec;
  t.same([d.meta.robot, d.obsDim, d.actDim, d.meta.seed, d.meta.requested], ['nav1', spec.obsDim, spec.actDim, 3, 2000]);
  t.same(Array.from(d.meta.actLow), Array.from(spec.actLow));
  t.equal(d.meta.generator, generatorInfo('nav1').name);

  const again = join(dir, 'nav1-again.mcap');
  t.equal((await collect(t, '--robot', 'nav1', '--transitions', '2000', '--seed', '3', '--out', again)).code, 0);
  const d2 = await readDataset([again]);
  t.same(Array.from(d2.obs), Array.from(d.obs), 'same seed, same data');
  const other = join(dir, 'nav1-seed4.mcap');
  t.equal((await collect(t, '--robot', 'nav1', '--transitions', '2000', '--seed', '4', '--out', other)).code, 0);
  t.notSame(Array.from((await readDataset([other])).obs.subarray(0, 20)), Array.from(d.obs.subarray(0, 20)), 'another seed, other data');
});

void t.test('robot parameters reach the generator and the metadata', async (t) => {
  const out = join(dir, 'cartpole.mcap');
  const r = await collect(t, '--robot', 'cartpole-length', '--transitions', '300', '--param', 'length=1.2', '--out', out);
  t.equal(r.code, 0, r.err);
  t.same((await readDataset([out])).meta.params, { length: 1.2 });
  const bad = await collect(t, '--robot', 'cartpole-length', '--transitions', '300', '--param', 'lenght=1.2', '--out', join(dir, 'typo.mcap'));
  t.equal(bad.code, 1);
  t.match(bad.err, /unknown option 'lenght'/);
  t.notOk(existsSync(join(dir, 'typo.mcap')), 'no file is left behind');
});

void t.test('bad input: one line naming the problem, non-zero exit, no file', async (t) => {
  const existing = join(dir, 'existing.mcap');
  writeFileSync(existing, 'keep me');
  const x = join(dir, 'x.mcap');
  const cases: [string[], number, RegExp][] = [
    [['--robot', 'foo', '--transitions', '10', '--out', x], 1, /unknown robot 'foo' \(known: .*nav1.*dvrk-reacher/],
    [['--robot', 'nav1', '--transitions', '0', '--out', x], 2, /--transitions must be an integer ≥ 1, got '0'/],
    [['--robot', 'nav1', '--transitions', '2.5', '--out', x], 2, /--transitions must be an integer ≥ 1, got '2.5'/],
    [['--robot', 'nav1', '--transitions', 'many', '--out', x], 2, /--transitions .* got 'many'/],
    [['--robot', 'nav1', '--out', x], 2, /--transitions is required/],
    [['--robot', 'nav1', '--transitions', '10'], 2, /--out is required/],
    [['--robot', 'nav1', '--transitions', '10', '--out', join(dir, 'nope', 'x.mcap')], 1, /cannot write '.*x\.mcap': directory '.*nope' does not exist/],
    [['--robot', 'nav1', '--transitions', '10', '--out', existing], 1, /exists \(pass --force to overwrite it\)/],
    [['--robot', 'nav1', '--transitions', '10', '--out', dir], 1, /is a directory/],
    [['--robot', 'nav1', '--transitions', '10', '--out', x, '--bogus'], 2, /Unknown option '--bogus'/],
  ];
  for (const [argv, code, message] of cases) {
    const r = await collect(t, ...argv);
    t.equal(r.code, code, argv.join(' '));
    t.match(r.err, message);
    t.equal(r.err.split('\n').length, 1, 'one line');
    t.equal(r.out, '');
  }
  t.notOk(existsSync(x), 'no output file was created');
  t.equal((await import('node:fs')).readFileSync(existing, 'utf8'), 'keep me', 'an existing file is untouched');
});

void t.test('as a real process: bad input prints one line, no stack trace; --help works', (t) => {
  const run = (...argv: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e',
      "const { main } = await import('./src/cli/main.ts'); process.exitCode = await main(process.argv.slice(1));", 'collect', ...argv],
    { encoding: 'utf8', cwd: new URL('../..', import.meta.url).pathname });
  const bad = run('--robot', 'nav1', '--transitions', '-3', '--out', join(dir, 'y.mcap'));
  t.equal(bad.status, 2);
  t.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
  t.match(bad.stderr, /^rshield collect: .*transitions/);
  t.notMatch(bad.stderr, /\n\s+at /);
  const help = run('--help');
  t.equal(help.status, 0);
  t.match(help.stdout, /usage: rshield collect --robot R --transitions N --out FILE\.mcap/);
  t.end();
});
