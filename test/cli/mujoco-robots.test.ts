// collect → train → demo on the MuJoCo robots, end to end through the CLI (small sizes).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { runCli } from '../helpers/cli.js';
import { readDataset } from '../../src/data/index.js';

const dir = mkdtempSync(join(tmpdir(), 'rshield-mujoco-cli-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

void t.test('maze-mujoco: collect D_offline, train a critic on it, run the demo with that model', async (t) => {
  const data = join(dir, 'maze-mujoco.mcap');
  const c = await runCli(t, 'collect', '--robot', 'maze-mujoco', '--transitions', '1000', '--seed', '2', '--out', data);
  t.equal(c.code, 0, c.err);
  t.match(c.out, /^collect: wrote 1000 transitions \(\d+ violations, 50 episodes\) of maze-mujoco/);
  const d = await readDataset([data]);
  t.equal(d.meta.robot, 'maze-mujoco');
  t.ok(d.cost.reduce((s, x) => s + x, 0) > 20, 'the data holds wall contacts');

  const model = join(dir, 'model');
  const tr = await runCli(t, 'train', '--robot', 'maze-mujoco', '--data', data, '--out', model, '--steps', '100');
  t.equal(tr.code, 0, tr.err);
  t.ok(existsSync(join(model, 'critic.onnx')) && existsSync(join(model, 'model.json')));

  const out = join(dir, 'demo');
  const r = await runCli(t, 'demo', '--robot', 'maze-mujoco', '--models', model, '--episodes', '4', '--out', out, '--json');
  t.equal(r.code, 0, r.err);
  const s = JSON.parse(r.out) as { robot: string; episodes: number; unshielded: { successes: number }; shielded: { ticks: number } };
  t.equal(s.robot, 'maze-mujoco');
  t.equal(s.episodes, 4);
  t.ok(s.unshielded.successes >= 2, `the expert reaches the goal: ${s.unshielded.successes} of 4`);
  t.match(readFileSync(join(out, 'trajectories.svg'), 'utf8'), /^<svg/, 'the maze picture is drawn');
});

void t.test('image-maze-mujoco: collect frames drawn from the MuJoCo geoms, train an image critic on them, run the demo', async (t) => {
  const data = join(dir, 'image-maze-mujoco.mcap');
  const c = await runCli(t, 'collect', '--robot', 'image-maze-mujoco', '--transitions', '200', '--seed', '2', '--out', data);
  t.equal(c.code, 0, c.err);
  t.match(c.out, /^collect: wrote 200 transitions \(\d+ violations, 10 episodes\) and \d+ camera frames of image-maze-mujoco/);
  const model = join(dir, 'image-maze-mujoco-model');
  const tr = await runCli(t, 'train', '--robot', 'image-maze-mujoco', '--data', data, '--out', model, '--steps', '20');
  t.equal(tr.code, 0, tr.err);
  t.match(tr.err, /with recorded 64×64 rgb8 frames/, 'the critic trains on the recorded frames');
  const out = join(dir, 'image-maze-mujoco-demo');
  const r = await runCli(t, 'demo', '--robot', 'image-maze-mujoco', '--models', model, '--episodes', '2', '--out', out, '--json');
  t.equal(r.code, 0, r.err);
  const s = JSON.parse(r.out) as { robot: string; episodes: number; unshielded: { successes: number; violations: number } };
  t.equal(s.robot, 'image-maze-mujoco');
  t.equal(s.episodes, 2);
  t.ok(s.unshielded.successes >= 1, `the expert reaches the goal: ${s.unshielded.successes} of 2`);
});

void t.test('the other MuJoCo robots collect their data through the CLI', async (t) => {
  for (const [robot, n] of [
    ['object-extraction-dynamic', 60],
    ['halfcheetah-disabled', 200],
    ['ant-disabled', 200],
  ] as const) {
    const out = join(dir, `${robot}.mcap`);
    const c = await runCli(t, 'collect', '--robot', robot, '--transitions', String(n), '--out', out, ...(robot === 'ant-disabled' ? ['--param', 'disabledLeg=1'] : []));
    t.equal(c.code, 0, c.err);
    const d = await readDataset([out]);
    t.equal(d.size, n, `${robot}: ${n} transitions`);
    if (robot === 'ant-disabled') t.same(d.meta.params, { disabledLeg: 1 });
  }
  const bad = await runCli(t, 'collect', '--robot', 'ant-disabled', '--transitions', '10', '--param', 'disabledLeg=7', '--out', join(dir, 'bad.mcap'));
  t.equal(bad.code, 1);
  t.match(bad.err, /ant-disabled: option 'disabledLeg' is 7, expected a number in \[0, 3\]/);
  t.notOk(existsSync(join(dir, 'bad.mcap')));
});
