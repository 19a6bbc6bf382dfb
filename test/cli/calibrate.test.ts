import { mkdtempSync, readFileSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { runCli } from '../helpers/cli.js';
import { packageRoot } from '../../src/config/profile.js';
import { Shield } from '../../src/inference/shield.js';
import { generateSigningKeys, parsePublicKey } from '../../src/models/signing.js';

const dir = mkdtempSync(join(tmpdir(), 'rshield-calibrate-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const models = join(packageRoot(), 'models', 'dvrk-reacher');
const held = join(dir, 'held.mcap');

interface Result {
  model: { version: string; epsRisk: number };
  heldOut: { rows: number; episodes: number; violatingEpisodes: number };
  rows: { eps: number; violationRate: number; interventionRate: number; heldOut: { recall: number; missedViolations: number }; rollout?: { episodes: number; violations: number } }[];
  chosen: { eps: number; dir: string; version: string; signed: boolean } | { eps: null; reason: string } | null;
}

t.before(async () => {
  const r = await runCli(t, 'collect', '--robot', 'dvrk-reacher', '--transitions', '1500', '--seed', '41', '--out', held);
  if (r.code !== 0) throw new Error(r.err);
});

void t.test('a violation-rate target writes a loadable new card version with the chosen ε and the sweep behind it', async (t) => {
  const out = join(dir, 'rate');
  const r = await runCli(t, 'calibrate', '--models', models, '--data', held, '--grid', '0.1,0.5,0.95', '--rollouts', '8', '--violation-rate', '0.2', '--out', out, '--json');
  t.equal(r.code, 0, r.err);
  const res = JSON.parse(r.out) as Result;
  t.equal(res.heldOut.rows, 1500);
  t.ok(res.heldOut.violatingEpisodes > 0, 'the held-out data has violating episodes');
  t.same(res.rows.map((x) => x.eps), [0.1, 0.5, 0.95]);
  const [low, , high] = res.rows;
  t.ok(low!.heldOut.recall >= high!.heldOut.recall, 'recall falls as ε rises');
  t.ok(low!.interventionRate >= high!.interventionRate, 'so do interventions');
  t.ok(res.rows.every((x) => x.rollout?.episodes === 8), 'each ε ran its rollouts');
  // The chosen ε: the largest whose rate, and every smaller one's, is within the target.
  const ok = res.rows.filter((_, i) => res.rows.slice(0, i + 1).every((y) => y.violationRate <= 0.2));
  const c = res.chosen;
  if (c === null || c.eps === null) throw new Error(`nothing chosen: ${JSON.stringify(c)}`);
  t.equal(c.eps, ok.at(-1)?.eps);
  t.equal(c.version, `${res.model.version}-eps${c.eps}`);
  t.notOk(c.signed);
  const shield = await Shield.load({ modelDir: c.dir, robot: 'dvrk-reacher' });
  t.teardown(() => shield.close());
  t.equal(shield.epsRisk, c.eps, 'the new card runs with the chosen ε');
  t.equal(shield.modelVersion, c.version);
  const card = JSON.parse(readFileSync(join(c.dir, 'model.json'), 'utf8')) as { metrics: { calibration: { fromVersion: string; target: unknown } } };
  t.equal(card.metrics.calibration.fromVersion, res.model.version);
  t.same(card.metrics.calibration.target, { kind: 'violation-rate', max: 0.2 });
  t.same(JSON.parse(readFileSync(join(out, 'calibration.json'), 'utf8')), res, 'the report holds the same result');
  t.match(readFileSync(join(out, 'calibration.svg'), 'utf8'), /^<svg[\s\S]*violation rate[\s\S]*intervention rate[\s\S]*<\/svg>\n$/);
});

void t.test('held-out data alone, a max-interventions target, and a signed result', async (t) => {
  const keys = generateSigningKeys();
  const key = join(dir, 'op.key');
  writeFileSync(key, keys.privateKeyPem);
  const out = join(dir, 'inter');
  const r = await runCli(t, 'calibrate', '--models', models, '--data', held, '--rollouts', '0', '--max-interventions', '0.3', '--sign-key', key, '--out', out);
  t.equal(r.code, 0, r.err);
  t.match(r.out, /held-out: 1500 rows/);
  t.notMatch(r.out, /rollouts:/);
  const res = JSON.parse(readFileSync(join(out, 'calibration.json'), 'utf8')) as Result;
  t.ok(res.rows.every((x) => x.rollout === undefined));
  const c = res.chosen;
  if (c === null || c.eps === null) throw new Error('nothing chosen');
  t.ok(res.rows.filter((x) => x.eps >= c.eps).every((x) => x.interventionRate <= 0.3), 'every ε from the chosen one up keeps flagged ticks ≤ 30%');
  const below = res.rows.filter((x) => x.eps < c.eps).at(-1);
  if (below !== undefined) t.ok(below.interventionRate > 0.3, 'the next smaller ε does not');
  t.ok(c.signed && existsSync(join(c.dir, 'model.sig.json')));
  const trust = { requireSigned: true, keys: [parsePublicKey(keys.publicKeyPem)] };
  await (await Shield.load({ modelDir: c.dir, robot: 'dvrk-reacher', trust })).close();
  t.pass('the signed version loads where signatures are required');
});

void t.test('a target nobody can meet writes no model and exits 1 saying why', async (t) => {
  const out = join(dir, 'none');
  const r = await runCli(t, 'calibrate', '--models', models, '--data', held, '--rollouts', '0', '--grid', '0.9,0.95', '--violation-rate', '0', '--out', out);
  t.equal(r.code, 1);
  t.match(r.out, /not calibrated: no ε meets violation rate ≤ 0: the smallest, ε 0.9, gives/);
  t.notOk(existsSync(join(out, 'model')), 'no model directory');
  t.ok(existsSync(join(out, 'calibration.json')), 'the report is still written');
});

void t.test('bad options are refused naming the option', async (t) => {
  const cases: [string[], RegExp][] = [
    [['--data', held, '--violation-rate', '0.1', '--max-interventions', '0.1'], /one target: --violation-rate or --max-interventions, not both/],
    [['--data', held, '--grid', '0.5,1'], /--grid takes thresholds in \(0, 1\)/],
    [['--data', held, '--violation-rate', '2'], /--violation-rate is a share in \[0, 1\], got 2/],
    [['--rollouts', '0'], /--data HELD_OUT.mcap is required when there are no rollouts/],
  ];
  for (const [argv, msg] of cases) {
    const r = await runCli(t, 'calibrate', '--models', models, '--out', join(dir, 'bad'), ...argv);
    t.equal(r.code, 2, argv.join(' '));
    t.match(r.err, msg);
  }
  const nav = await runCli(t, 'calibrate', '--models', join(packageRoot(), 'models', 'nav1'), '--data', held, '--rollouts', '0', '--out', join(dir, 'bad'));
  t.equal(nav.code, 1);
  t.match(nav.err, /data is for dvrk-reacher .* the model for nav1/);
});

void t.test('rshield train --calibrate writes the chosen ε into the card it just made', async (t) => {
  const data = join(dir, 'train.mcap');
  t.equal((await runCli(t, 'collect', '--robot', 'dvrk-reacher', '--transitions', '1500', '--seed', '42', '--out', data)).code, 0);
  const out = join(dir, 'trained');
  const bad = await runCli(t, 'train', '--robot', 'dvrk-reacher', '--data', data, '--out', out, '--calibrate', 'violation-rate');
  t.equal(bad.code, 2);
  t.match(bad.err, /--calibrate takes violation-rate=X or max-interventions=Y/);
  const same = await runCli(t, 'train', '--robot', 'dvrk-reacher', '--data', data, '--out', out, '--calibrate', 'violation-rate=0.1', '--calibrate-data', data);
  t.match(same.err, /--calibrate-data .*train.mcap is also training data/);
  const r = await runCli(t, 'train', '--robot', 'dvrk-reacher', '--data', data, '--out', out, '--steps', '200', '--threads', '1',
    '--calibrate', 'max-interventions=0.5', '--calibrate-data', held, '--calibrate-rollouts', '0');
  t.equal(r.code, 0, r.err);
  const res = JSON.parse(readFileSync(join(out, 'calibration.json'), 'utf8')) as Result;
  const c = res.chosen;
  if (c === null || c.eps === null) throw new Error('nothing chosen');
  t.equal(c.dir, out, 'in place: the directory train wrote');
  t.match(r.out, new RegExp(`chosen ε_risk ${c.eps}`));
  const shield = await Shield.load({ modelDir: out, robot: 'dvrk-reacher' });
  t.teardown(() => shield.close());
  t.equal(shield.epsRisk, c.eps);
  t.equal(shield.modelVersion, c.version);
});
