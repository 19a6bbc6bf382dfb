import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'rshield-train-mb-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

void t.test('train --recovery model-based writes dynamics.onnx and its card; demo plans with it', async (t) => {
  const data = join(dir, 'nav2.mcap');
  t.equal((await runCli(t, 'collect', '--robot', 'nav2', '--transitions', '1500', '--seed', '1', '--out', data)).code, 0);
  const out = join(dir, 'model');
  const r = await runCli(t, 'train', '--robot', 'nav2', '--data', data, '--out', out, '--steps', '200', '--recovery', 'model-based', '--dynamics-epochs', '2', '--horizon', '3');
  t.equal(r.code, 0, r.err);
  t.match(r.err, /dynamics epoch 2\/2, NLL -?\d/);
  t.ok(existsSync(join(out, 'dynamics.onnx')));
  const card = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')) as {
    recoveryMode: string; dynamics: { file: string; ensemble: number }; planner: { population: number; horizon: number; repeat: number; returns: string; goal: { target: number[] } };
    metrics: { dynamics: { heldOutMse: number; heldOutStillMse: number } };
  };
  t.equal(card.recoveryMode, 'model-based');
  t.same(card.dynamics, { file: 'dynamics.onnx', inputs: { obs: 'obs', act: 'act' }, outputs: { mean: 'mean', logvar: 'logvar' }, ensemble: 5 });
  t.equal(card.planner.horizon, 3);
  t.equal(card.planner.population, 32, "nav2's own cpu preset by default");
  t.equal(card.planner.repeat, 5, "nav2's action repeat");
  t.equal(card.planner.returns, 'best');
  t.same(card.planner.goal.target, [0, 0], "nav2's goal");
  t.ok(card.metrics.dynamics.heldOutMse < card.metrics.dynamics.heldOutStillMse / 5, `held-out MSE ${card.metrics.dynamics.heldOutMse} vs standing still ${card.metrics.dynamics.heldOutStillMse}`);

  const d = await runCli(t, 'demo', '--robot', 'nav2', '--models', out, '--episodes', '2', '--out', join(dir, 'demo'), '--json', '--deadline-us', '5000000');
  t.equal(d.code, 0, d.err);
  const s = JSON.parse(d.out) as { model: { recoveryMode: string }; shielded: { interventions: number; planner: { plans: number; invalid: number; deadlineFailsafes: number } } };
  t.equal(s.model.recoveryMode, 'model-based');
  t.ok(s.shielded.interventions > 0);
  t.equal(s.shielded.planner.plans, s.shielded.interventions, 'one plan per recovery tick');
  t.equal(s.shielded.planner.invalid, 0);

  const bad = await runCli(t, 'train', '--robot', 'nav2', '--data', data, '--out', join(dir, 'x'), '--recovery', 'mpc');
  t.equal(bad.code, 2);
  t.match(bad.err, /--recovery must be policy or model-based, got 'mpc'/);
});
