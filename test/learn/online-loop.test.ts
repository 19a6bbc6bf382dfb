import t from 'tap';
import type { EpisodeResult } from '../../src/learn/algorithm.js';
import { algorithms, lagrangian, rcpo, recoveryRl, rewardPenalty, rspo, sqrl, unconstrained, type LoopOverrides } from '../../src/learn/algorithms/index.js';
import { OnlineLoop } from '../../src/learn/recovery-rl/online-loop.js';
import { simulatedRobot } from '../../src/envs/index.js';
import type { RunSpec } from '../../src/learn/algorithm.js';

/** A run's spec and the simulated robot it learns on, as the experiment runner hands them over. */
const withSim = (s: RunSpec) => [s, simulatedRobot(s.robot)] as const;

// Small task networks and batches keep each run to a few seconds; the safety critic is the
// shipped nav1 model (2×256), pretrained on nav1's D_offline, as in the comparison.
const quick: LoopOverrides = { sacSizes: { hidden: [32, 32] }, batch: 32 };
const spec = (algo: string, episodes: number, ablations: string[] = [], threads = 1) => ({ robot: 'nav1', algo, seed: 3, episodes, ablations, threads });

async function runAll(a: ReturnType<typeof recoveryRl>, episodes: number, ablations: string[] = [], threads = 1, mode?: (m: string) => void): Promise<EpisodeResult[]> {
  const run = await a.start(...withSim(spec(a.name, episodes, ablations, threads)));
  mode?.((run as OnlineLoop).updateMode);
  const out: EpisodeResult[] = [];
  try {
    for (let i = 0; i < episodes; i++) out.push(await run.episode());
  } finally {
    await run.close();
  }
  return out;
}

const count = (rs: readonly EpisodeResult[], f: (r: EpisodeResult) => boolean): number => rs.filter(f).length;

void t.test('under the shield SAC explores nav1 with fewer violations than SAC alone, on the same seeds', async (t) => {
  const alone = await runAll(unconstrained(quick), 6);
  const shielded = await runAll(recoveryRl(quick), 6);
  const v0 = count(alone, (r) => r.violation);
  const v1 = count(shielded, (r) => r.violation);
  t.ok(v0 >= 2, `SAC alone violates in ${v0} of 6 episodes`);
  t.ok(v1 < v0, `shielded: ${v1} violating episodes`);
  const rec = shielded.reduce((n, r) => n + r.recoverySteps, 0);
  t.ok(rec > 0, `π_rec acted on ${rec} steps`);
  t.equal(alone.reduce((n, r) => n + r.recoverySteps, 0), 0, 'SAC alone is never overridden');
  for (const r of shielded) {
    t.ok(r.steps >= 1 && r.steps <= 100, `episode ${r.episode}: ${r.steps} steps`);
    if (r.recoveryViolation) t.ok(r.violation, 'a recovery violation is a violation');
  }
});

void t.test('a seed reproduces a run bit for bit', async (t) => {
  const a = await runAll(recoveryRl(quick), 2);
  const b = await runAll(recoveryRl(quick), 2);
  t.same(b, a);
  t.ok(a.some((r) => r.return !== 0), 'episodes have returns');
});

void t.test('overlapped updates (SAC on its worker) give the sequential run bit for bit, risk terms included', async (t) => {
  for (const make of [recoveryRl, lagrangian, rcpo]) {
    const modes: string[] = [];
    const seen = (m: string): number => modes.push(m);
    // The same intra-op threads per learner in both: 1 (overlapped splits the run's 2).
    const seq = await runAll(make({ ...quick, updates: 'sequential' }), 2, [], 1, seen);
    const ovl = await runAll(make({ ...quick, updates: 'overlapped' }), 2, [], 2, seen);
    t.same(modes, ['sequential', 'overlapped'], `${make.name}: the modes that ran`);
    t.same(ovl, seq, `${make.name}: the same episodes`);
  }
});

void t.test('ablations: offline-size pretrains a critic on the first N transitions; unknown ones are refused by name', async (t) => {
  const a = recoveryRl({ ...quick, safetySizes: { hidden: [32, 32] }, pretrainSteps: 50 });
  const run = await a.start(...withSim(spec('recovery-rl', 1, ['offline-size=500'])));
  t.teardown(() => run.close());
  t.ok(run instanceof OnlineLoop);
  t.equal((run as OnlineLoop).criticOrigin, 'pretrained');
  const fresh = await recoveryRl(quick).start(...withSim(spec('recovery-rl', 1, ['no-pretraining', 'no-relabeling', 'no-online'])));
  t.equal((fresh as OnlineLoop).criticOrigin, 'fresh');
  const r = await fresh.episode();
  t.ok(r.steps > 0);
  await fresh.close();
  await t.rejects(recoveryRl(quick).start(...withSim(spec('recovery-rl', 1, ['offline-size=lots']))), /offline-size needs an integer/);
  await t.rejects(recoveryRl(quick).start(...withSim(spec('recovery-rl', 1, ['no-brakes']))), /recovery-rl has no ablation 'no-brakes'/);
  await t.rejects(unconstrained(quick).start(...withSim(spec('unconstrained', 1, ['no-online']))), /unconstrained has no ablation 'no-online' \(known: none\)/);
});

void t.test('the registry lists every method once, Recovery RL first', (t) => {
  t.same(algorithms.map((a) => a.name), ['recovery-rl', 'unconstrained', 'rp', 'lr', 'sqrl', 'rspo', 'rcpo']);
  t.same(algorithms[0]!.ablations, ['no-pretraining', 'no-online', 'no-relabeling', 'offline-size']);
  for (const a of algorithms) t.ok(a.summary.length > 10, `${a.name}: ${a.summary}`);
  t.end();
});

void t.test('every algorithm runs an episode on the other robots (dvrk-reacher: 3-D actions, maze: a violation share per batch)', async (t) => {
  for (const robot of ['dvrk-reacher', 'maze']) {
    for (const make of [recoveryRl, unconstrained, rewardPenalty, lagrangian, sqrl, rspo, rcpo]) {
      const a = make({ ...quick, startSteps: 10 });
      const run = await a.start(...withSim({ robot, algo: a.name, seed: 1, episodes: 1, ablations: [], threads: 1 }));
      const r = await run.episode();
      await run.close();
      t.ok(r.steps >= 1 && Number.isFinite(r.return), `${robot} ${a.name}: ${r.steps} steps, return ${r.return.toFixed(2)}`);
    }
  }
});
