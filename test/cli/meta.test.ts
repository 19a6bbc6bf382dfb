// MESA from the command line: task-family datasets, meta-training, adaptation, and the model
// directories they write, loaded by the shield like any other.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { runCli } from '../helpers/cli.js';
import { readDataset } from '../../src/data/index.js';
import { taskFamily } from '../../src/envs/index.js';
import { Shield } from '../../src/inference/shield.js';

const dir = mkdtempSync(join(tmpdir(), 'rshield-meta-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const tasks = join(dir, 'nav1-tasks');
const small = ['--iterations', '8', '--hidden', '16,16', '--batch', '32', '--threads', '1'];

void t.test('collect --task-family writes one file per task with its dynamics and task in the metadata', async (t) => {
  const r = await runCli(t, 'collect', '--task-family', 'nav1', '--tasks', '3', '--transitions', '600', '--test-transitions', '200', '--seed', '2', '--out', tasks);
  t.equal(r.code, 0, r.err);
  t.match(r.out, /wrote 4 files \(\d+ transitions\) of task family nav1/);
  const f = taskFamily('nav1');
  for (let i = 0; i < 3; i++) {
    const d = await readDataset([join(tasks, `task-00${i}.mcap`)]);
    t.same(d.meta.params, f.train(2, i), `task ${i}: its B in the metadata`);
    t.same(d.meta.task, { family: 'nav1', index: i, split: 'train' });
    t.ok(d.size > 0);
  }
  const test = await readDataset([join(tasks, 'test.mcap')]);
  t.same([test.meta.params, test.meta.task?.split], [f.test(2), 'test']);
  const again = join(dir, 'nav1-again');
  t.equal((await runCli(t, 'collect', '--task-family', 'nav1', '--tasks', '1', '--transitions', '600', '--seed', '2', '--out', again)).code, 0);
  const [a, b] = await Promise.all([readDataset([join(again, 'task-000.mcap')]), readDataset([join(tasks, 'task-000.mcap')])]);
  t.same(Array.from(a.obs), Array.from(b.obs), 'same seed: the same task data');
});

void t.test('collect --task-family refuses what does not fit', async (t) => {
  const bad = async (pattern: RegExp, ...argv: string[]): Promise<void> => {
    const r = await runCli(t, 'collect', ...argv);
    t.not(r.code, 0, argv.join(' '));
    t.match(r.err, pattern);
  };
  await bad(/unknown task family 'walker' \(known: nav1, nav2, cartpole-length, dvrk-reacher-weak-axis/, '--task-family', 'walker', '--tasks', '2', '--transitions', '10', '--out', join(dir, 'x'));
  await bad(/--robot cartpole-length does not match task family 'nav1'/, '--task-family', 'nav1', '--robot', 'cartpole-length', '--tasks', '2', '--transitions', '10', '--out', join(dir, 'x'));
  await bad(/--tasks needs --task-family/, '--robot', 'nav1', '--tasks', '2', '--transitions', '10', '--out', join(dir, 'x.mcap'));
  await bad(/--tasks must be an integer ≥ 1, got '0'/, '--task-family', 'nav1', '--tasks', '0', '--transitions', '10', '--out', join(dir, 'x'));
  await bad(/task-000\.mcap' exists \(pass --force/, '--task-family', 'nav1', '--tasks', '1', '--transitions', '10', '--out', tasks);
});

void t.test('meta-train then adapt: ordinary model directories the shield loads', async (t) => {
  const meta = join(dir, 'meta');
  const r = await runCli(t, 'meta-train', '--family', 'nav1', '--data', tasks, '--out', meta, ...small);
  t.equal(r.code, 0, r.err);
  t.match(r.err, /3 tasks, \d+ transitions \(1 test-split file\(s\) skipped\)/);
  t.match(r.out, /meta-trained nav1 model nav1-mesa-[0-9a-f]{12} in [\d.]+ s \([\d.]+ iterations\/s\)/);
  const card = JSON.parse(await readFile(join(meta, 'model.json'), 'utf8')) as { version: string; training: Record<string, unknown> };
  t.equal(card.training.algorithm, 'mesa-maml');
  t.same([card.training.metaBatch, card.training.iterations, card.training.hidden], [5, 8, [16, 16]]);
  const lrs = Object.values(card.training.innerLr as Record<string, number>);
  t.equal(lrs.length, 12, 'one learned inner lr per critic tensor (2 heads × 3 layers × w, b)');
  t.ok(lrs.every((x) => x > 0) && lrs.some((x) => Math.abs(x - 0.05) > 1e-6), `learned, not left at their start: ${lrs.join(', ')}`);

  const adapted = join(dir, 'adapted');
  const a = await runCli(t, 'adapt', '--models', meta, '--data', join(tasks, 'test.mcap'), '--out', adapted, '--steps', '20', '--threads', '1');
  t.equal(a.code, 0, a.err);
  t.match(a.out, new RegExp(`adapted ${card.version} to .*test\\.mcap in [\\d.]+ s: model nav1-[0-9a-f]{12}`));
  const acard = JSON.parse(await readFile(join(adapted, 'model.json'), 'utf8')) as { version: string; training: Record<string, unknown> };
  t.equal(acard.training.initFrom, card.version, 'the card says where the weights came from');
  t.same(acard.training.hidden, [16, 16]);
  t.not(acard.version, card.version);

  const stepped = join(dir, 'inner-step');
  const s = await runCli(t, 'adapt', '--models', meta, '--data', join(tasks, 'test.mcap'), '--out', stepped, '--steps', '3', '--sgd', 'learned', '--threads', '1');
  t.equal(s.code, 0, s.err);
  t.match(s.err, /3 steps, critic SGD at the learned inner learning rates/);
  const scard = JSON.parse(await readFile(join(stepped, 'model.json'), 'utf8')) as { training: Record<string, unknown> };
  t.same([scard.training.criticOptimizer, scard.training.criticSgdLrs], ['sgd', card.training.innerLr], "MESA's inner step at the learned rates");

  for (const modelDir of [meta, adapted]) {
    const shield = await Shield.load({ modelDir, robot: 'nav1', threads: 1 });
    try {
      const d = await shield.decide(Float32Array.from([-50, 0]), Float32Array.from([1, 0]));
      t.ok(d.qRisk >= 0 && d.qRisk <= 1 && ['task', 'recovery'].includes(d.source), `${modelDir}: Q_risk ${d.qRisk.toFixed(3)}, ${d.source}`);
    } finally {
      await shield.close();
    }
  }
});

void t.test('meta-train and adapt name what is wrong with their input', async (t) => {
  const cp = join(dir, 'cartpole');
  t.equal((await runCli(t, 'collect', '--task-family', 'cartpole-length', '--tasks', '2', '--transitions', '60', '--test-transitions', '60', '--out', cp)).code, 0);
  const empty = join(dir, 'empty');
  mkdirSync(empty);
  const cases: [RegExp, string[]][] = [
    [/unknown task family 'nav3'/, ['meta-train', '--family', 'nav3', '--data', tasks, '--out', join(dir, 'm1')]],
    [/task-000\.mcap is robot 'cartpole-length', task family 'nav1' is robot 'nav1'/, ['meta-train', '--family', 'nav1', '--data', cp, '--out', join(dir, 'm2'), ...small]],
    [/needs at least 2 task datasets, got 1/, ['meta-train', '--family', 'nav1', '--data', join(tasks, 'task-000.mcap'), '--out', join(dir, 'm3'), ...small]],
    [/--data directory '.*empty' holds no \.mcap files/, ['meta-train', '--family', 'nav1', '--data', empty, '--out', join(dir, 'm4')]],
    [/--hidden must be comma-separated positive integers, got '16,x'/, ['meta-train', '--family', 'nav1', '--data', tasks, '--out', join(dir, 'm5'), '--hidden', '16,x']],
    [/test\.mcap is robot 'cartpole-length', the model in .*meta is for 'nav1'/, ['adapt', '--models', join(dir, 'meta'), '--data', join(cp, 'test.mcap'), '--out', join(dir, 'a1')]],
    [/--models DIR|no such file|ENOENT|model\.json/, ['adapt', '--models', join(dir, 'nowhere'), '--data', join(tasks, 'test.mcap'), '--out', join(dir, 'a2')]],
    [/--data NEW\.mcap is required/, ['adapt', '--models', join(dir, 'meta'), '--out', join(dir, 'a3')]],
    [/the card has no training\.innerLr \(only meta-trained models/, ['adapt', '--models', join(dir, 'adapted'), '--data', join(tasks, 'test.mcap'), '--out', join(dir, 'a4'), '--sgd', 'learned']],
    [/--sgd must be 'learned' or a learning rate > 0, got '0'/, ['adapt', '--models', join(dir, 'meta'), '--data', join(tasks, 'test.mcap'), '--out', join(dir, 'a5'), '--sgd', '0']],
  ];
  for (const [pattern, argv] of cases) {
    const r = await runCli(t, ...argv);
    t.not(r.code, 0, argv.join(' '));
    t.match(r.err, pattern, argv.join(' '));
  }
});

void t.test('--help of meta-train and adapt lists the families and the defaults', async (t) => {
  const m = await runCli(t, 'meta-train', '--help');
  t.equal(m.code, 0);
  t.match(m.out, /nav1, nav2, cartpole-length, dvrk-reacher-weak-axis/);
  t.match(m.out, /--meta-batch K\s+tasks per iteration \(default 5\)/);
  const a = await runCli(t, 'adapt', '--help');
  t.equal(a.code, 0);
  t.match(a.out, /--steps N\s+Adam steps \(default 300/);
});
