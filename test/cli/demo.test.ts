import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { runCli, type Capturing } from '../helpers/cli.js';
import { readDataset } from '../../src/data/index.js';
import { readFrames } from '../../src/transport/ros2/image-frames.js';

const dir = mkdtempSync(join(tmpdir(), 'rshield-demo-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const run = (t: Capturing, ...argv: string[]): ReturnType<typeof runCli> => runCli(t, 'demo', ...argv);

void t.test('demo --json compares the unshielded and shielded runs on the shipped dvrk-reacher model', async (t) => {
  const out = join(dir, 'run');
  const r = await run(t, '--episodes', '20', '--out', out, '--json');
  t.equal(r.code, 0, r.err);
  const s = JSON.parse(r.out) as {
    robot: string; episodes: number;
    unshielded: { successes: number; violations: number; ratio: number };
    shielded: { successes: number; violations: number; ratio: number; interventions: number; ticks: number };
    tickUs: { p50: number; p99: number };
  };
  t.equal(s.robot, 'dvrk-reacher');
  t.equal(s.episodes, 20);
  t.ok(s.unshielded.violations >= 5, `the straight-line controller hits the zone: ${s.unshielded.violations} of 20`);
  t.ok(s.shielded.violations <= Math.floor(0.1 * s.unshielded.violations), `shielded violations ${s.shielded.violations}`);
  t.ok(s.shielded.ratio >= 5 * s.unshielded.ratio, `ratio ${s.shielded.ratio} vs ${s.unshielded.ratio}`);
  t.ok(s.shielded.interventions > 0 && s.shielded.interventions < s.shielded.ticks, 'the shield steps in, but not on every tick');
  t.equal(s.unshielded.ratio, Number(((s.unshielded.successes + 1) / (s.unshielded.violations + 1)).toFixed(3)));
  t.ok(s.tickUs.p50 > 0 && s.tickUs.p99 >= s.tickUs.p50);

  t.same(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')), s, 'summary.json holds the same summary');
  t.match(readFileSync(join(out, 'cumulative.svg'), 'utf8'), /^<svg[\s\S]*violations, shielded[\s\S]*<\/svg>$/);
  const rec = await readDataset([join(out, 'shielded.mcap')]);
  t.equal(rec.size, s.shielded.ticks, 'the recording holds every shielded tick');
  t.equal(rec.meta.robot, 'dvrk-reacher');
});

void t.test('the same seed gives the same result', async (t) => {
  const a = await run(t, '--episodes', '5', '--out', join(dir, 'a'), '--json', '--seed', '7');
  const b = await run(t, '--episodes', '5', '--out', join(dir, 'b'), '--json', '--seed', '7');
  const pick = (o: string): unknown => {
    const s = JSON.parse(o) as Record<string, unknown>;
    return [s.unshielded, (s.shielded as Record<string, unknown>).violations, (s.shielded as Record<string, unknown>).interventions];
  };
  t.same(pick(a.out), pick(b.out));
});

void t.test('bad input is one line and a non-zero exit', async (t) => {
  const unknown = await run(t, '--robot', 'ur5');
  t.equal(unknown.code, 1);
  t.match(unknown.err, /^rshield demo: unknown robot 'ur5' \(known: .*dvrk-reacher.*\)$/);
  const empty = join(dir, 'empty');
  mkdirSync(empty);
  const missing = await run(t, '--models', empty, '--out', join(dir, 'x'));
  t.equal(missing.code, 1);
  t.match(missing.err, /model\.json/);
  t.notOk(missing.err.includes('\n    at '), 'no stack trace');
  const badEpisodes = await run(t, '--episodes', 'many');
  t.equal(badEpisodes.code, 2);
  t.match(badEpisodes.err, /--episodes must be an integer/);
  const badPrepare = await run(t, '--prepare-timeout-ms=0');
  t.equal(badPrepare.code, 2);
  t.match(badPrepare.err, /--prepare-timeout-ms must be > 0, got 0/);
  const file = join(dir, 'file');
  writeFileSync(file, 'x');
  const badOut = await run(t, '--episodes', '1', '--out', join(file, 'sub'));
  t.equal(badOut.code, 1);
  t.match(badOut.err, /--out .*cannot create directory/);
  t.notOk(existsSync(join(file, 'sub')));
});

void t.test('demo --recovery nearest-safe: the mode is reported, searches counted; a bad mode is E_USAGE', async (t) => {
  const r = await run(t, '--episodes', '10', '--out', join(dir, 'ns'), '--json', '--recovery', 'nearest-safe');
  t.equal(r.code, 0, r.err);
  const s = JSON.parse(r.out) as {
    model: { recoveryMode: string };
    unshielded: { violations: number };
    shielded: { violations: number; interventions: number; nearestSafe: { searches: number; fallbacks: number } };
  };
  t.equal(s.model.recoveryMode, 'nearest-safe');
  t.ok(s.shielded.interventions > 0);
  t.equal(s.shielded.nearestSafe.searches, s.shielded.interventions, 'one search per recovery tick');
  t.ok(s.shielded.violations <= Math.floor(0.1 * s.unshielded.violations), `shielded violations ${s.shielded.violations} of ${s.unshielded.violations}`);
  const policy = await run(t, '--episodes', '1', '--out', join(dir, 'p'), '--json');
  t.equal((JSON.parse(policy.out) as { model: { recoveryMode: string } }).model.recoveryMode, 'policy', 'policy by default');
  const bad = await run(t, '--recovery', 'closest');
  t.equal(bad.code, 2);
  t.match(bad.err, /^rshield demo: --recovery must be one of policy, nearest-safe, model-based, got 'closest'$/);
});

void t.test('demo --robot dvrk-reacher-image: the shipped image model shields from camera frames', async (t) => {
  const out = join(dir, 'image');
  const r = await run(t, '--robot', 'dvrk-reacher-image', '--episodes', '20', '--out', out, '--json');
  t.equal(r.code, 0, r.err);
  const s = JSON.parse(r.out) as {
    robot: string; model: { version: string }; unshielded: { violations: number; ratio: number };
    shielded: { violations: number; ratio: number; interventions: number; failsafes: number; ticks: number; failsafesByReason: Record<string, number> };
    files: Record<string, string>;
  };
  t.equal(s.robot, 'dvrk-reacher-image');
  t.match(s.model.version, /^dvrk-reacher-image-/);
  t.ok(s.unshielded.violations >= 5, `unshielded violations ${s.unshielded.violations} of 20`);
  t.ok(s.shielded.violations <= Math.floor(0.1 * s.unshielded.violations), `shielded violations ${s.shielded.violations}`);
  t.ok(s.shielded.ratio >= 5 * s.unshielded.ratio, `ratio ${s.shielded.ratio} vs ${s.unshielded.ratio}`);
  t.ok(s.shielded.interventions > 0);
  // A decision past the 50 ms deadline on a loaded CI machine is the watchdog's business, not a frame's.
  const { deadline = 0, ...frameFaults } = s.shielded.failsafesByReason;
  t.same(Object.entries(frameFaults).filter(([, n]) => n > 0), [], `every tick had a fresh, readable frame (deadline fail-safes: ${deadline})`);
  t.equal(s.shielded.failsafes, deadline, 'the only fail-safes, if any, are deadline misses');
  t.notOk('riskMap' in s.files, 'no risk map: it would score states without frames');
  t.ok(existsSync(join(out, 'trajectories.svg')));
  const frames = await readFrames([join(out, 'shielded.mcap')]);
  t.equal(frames?.obs.length, s.shielded.ticks, 'the recording has the frame of every shielded tick');
});
