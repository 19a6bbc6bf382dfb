// `rshield import`: the reference implementations' pickled D_offline (Recovery RL 5-tuples of
// numpy float64 arrays at protocol 4, MESA 6-tuples of float32 arrays at protocol 2; fixtures
// written by test/fixtures/reference/make-fixtures.py) become an MCAP dataset rshield trains on;
// a hostile pickle runs nothing and is refused by name.
import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readDataset } from '../../src/data/read-dataset.js';
import { parseReferencePickle, referenceTransitions } from '../../src/data/reference-pickle.js';
import { runCli } from '../helpers/cli.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'reference');

void t.test('Recovery RL 5-tuples: values, episodes from masks and resets, a′ within an episode', async (t) => {
  const { rows, format } = parseReferencePickle(readFileSync(join(fixtures, 'nav1-rrl.pkl')), 'nav1-rrl.pkl');
  t.equal(format, 'rrl');
  t.equal(rows.length, 40);
  t.equal(rows[0]!.obs.length, 2);
  t.ok(rows.every((r) => r.cost === 0 || r.cost === 1));
  t.ok(rows.every((r) => r.mask === 1 - r.cost), 'mask = not done, 0 exactly on the violations (as generated)');
  const ts = referenceTransitions(rows);
  const episodes = new Set(ts.map((x) => x.episode));
  t.equal(episodes.size, 6, 'six rollouts, found again from the stream');
  t.ok(ts.every((x, i) => (x.nextAct === undefined) === x.done && (x.nextAct === undefined || x.nextAct === rows[i + 1]!.act)), "a′ is the next row's action, absent at an episode's end");
  t.ok(ts.filter((x) => x.cost > 0).every((x) => x.done), 'a violation ends its episode');
});

void t.test('rshield import writes an MCAP dataset that reads back; MESA 6-tuples too', async (t) => {
  const dir = t.testdir({});
  const out = join(dir, 'imported.mcap');
  const r = await runCli(t, 'import', '--robot', 'nav1', '--out', out, join(fixtures, 'nav1-rrl.pkl'));
  t.equal(r.code, 0, r.err);
  t.match(r.out, /^import: wrote 40 transitions \(\d+ violations, 6 episodes\) of nav1 from 1 rrl pickle to /);
  const ds = await readDataset([out]);
  t.equal(ds.size, 40);
  t.equal(ds.meta.robot, 'nav1');
  t.match(ds.meta.generator, /rshield import \(rrl pickles: nav1-rrl\.pkl\)/);
  const rows = parseReferencePickle(readFileSync(join(fixtures, 'nav1-rrl.pkl')), 'x').rows;
  t.same(Array.from(ds.obs.subarray(0, 2)), Array.from(rows[0]!.obs), 'the first state, as in the pickle');
  const mesaOut = join(dir, 'mesa.mcap');
  const m = await runCli(t, 'import', '--robot', 'nav1', '--out', mesaOut, '--format', 'mesa', join(fixtures, 'nav1-mesa.pkl'));
  t.equal(m.code, 0, m.err);
  t.equal((await readDataset([mesaOut])).size, 25);
});

void t.test('bad input: a hostile pickle runs nothing, wrong tuples and dims are named, nothing is written', async (t) => {
  const dir = t.testdir({});
  const out = join(dir, 'x.mcap');
  const hostile = await runCli(t, 'import', '--robot', 'nav1', '--out', out, join(fixtures, 'hostile.pkl'));
  t.equal(hostile.code, 1);
  t.match(hostile.err, /hostile\.pkl: row 0: expected a 5-tuple .* found a (posix|os)\.system object/);
  t.notOk(existsSync('/tmp/rshield-pickle-pwned'), 'the pickled os.system call never ran');
  t.notOk(existsSync(out), 'no output file');
  const wrongFormat = await runCli(t, 'import', '--robot', 'nav1', '--out', out, '--format', 'mesa', join(fixtures, 'nav1-rrl.pkl'));
  t.match(wrongFormat.err, /row 0: expected a 6-tuple \(s, a, c, s', mask, mc_return\) for --format mesa, found a list of 5/);
  const wrongRobot = await runCli(t, 'import', '--robot', 'dvrk-reacher', '--out', out, join(fixtures, 'nav1-rrl.pkl'));
  t.match(wrongRobot.err, /states have 2 and actions 2 values; dvrk-reacher has 3 and 3/);
  t.match((parseReferencePickleError(Buffer.from('not a pickle'))), /x\.pkl: not a readable pickle/);
  const truncated = readFileSync(join(fixtures, 'nav1-rrl.pkl')).subarray(0, 3000);
  t.match(parseReferencePickleError(truncated), /x\.pkl: not a readable pickle/);
  t.notOk(existsSync(out), 'still no output file');
  t.match((await runCli(t, 'import', '--robot', 'nav1', '--out', out)).err, /give one or more pickle files/);
});

function parseReferencePickleError(bytes: Uint8Array): string {
  try {
    parseReferencePickle(bytes, 'x.pkl');
    return 'no error';
  } catch (err) {
    return (err as Error).message;
  }
}
