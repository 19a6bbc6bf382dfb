import t from 'tap';
import { Rng } from '../../src/core/rng.js';
import { Shield } from '../../src/inference/shield.js';
import { rspo, type LoopOverrides } from '../../src/learn/algorithms/index.js';
import { critic } from '../../src/learn/networks.js';
import { DualVariable } from '../../src/learn/recovery-rl/dual-variable.js';
import { OnlineLoop } from '../../src/learn/recovery-rl/online-loop.js';
import { startSafety } from '../../src/learn/recovery-rl/safety-start.js';
import { SqrlFilter } from '../../src/learn/recovery-rl/sqrl-filter.js';
import { SacAgent } from '../../src/learn/sac/sac-agent.js';
import { SacReplay } from '../../src/learn/sac/sac-replay.js';
import { createEnv } from '../../src/envs/index.js';
import { GraphBuilder, ParamSet } from '../../src/nn/index.js';
import { simulatedRobot } from '../../src/envs/index.js';
import type { RunSpec } from '../../src/learn/algorithm.js';

/** A run's spec and the simulated robot it learns on, as the experiment runner hands them over. */
const withSim = (s: RunSpec) => [s, simulatedRobot(s.robot)] as const;

const normalizer = { obsMean: [0, 0], obsStd: [1, 1], actCenter: [0, 0], actHalfRange: [1, 1] };
const small = { hidden: [32, 32] } as const;

/**
 * A hand-set safety critic: Q_risk(s, a) = sigmoid(10·relu(a₀) − 6), i.e. ≈0 for a₀ ≤ 0 and
 * rising steeply for a₀ > 0 (0.27 at a₀ = 0.5, 0.98 at 1).
 */
function riskyRightCritic(): ParamSet {
  const p = ParamSet.create({ rng: 1 });
  critic(new GraphBuilder('init'), p, new GraphBuilder('x').input('o', [1, 2]), new GraphBuilder('y').input('a', [1, 2]), normalizer, { hidden: [1] });
  for (const q of p.list()) q.value.fill(0);
  for (const head of ['q1', 'q2']) {
    p.list().find((q) => q.name === `${head}/l0/w`)!.value[2] = 1; // input row 2 = a₀
    p.list().find((q) => q.name === `${head}/l1/w`)!.value[0] = 10;
    p.list().find((q) => q.name === `${head}/l1/b`)!.value[0] = -6;
  }
  return p;
}

/** One-step task: the best action is a = (0.5, 0) whatever the state; reward −‖a − (0.5, 0)‖². */
async function trainedFirstAction(risk?: { use: 'penalty' | 'shaping'; weight: number }): Promise<number> {
  const agent = await SacAgent.create({
    obsDim: 2, actDim: 2, normalizer, seed: 4, batch: 64, sizes: small, alpha: 0.01, lr: 3e-3, threads: 1,
    ...(risk === undefined ? {} : { risk: { use: risk.use, critic: riskyRightCritic(), sizes: { hidden: [1] }, epsRisk: 0.1 } }),
  });
  const buf = new SacReplay(2, 2, 64);
  const rng = new Rng(9);
  for (let i = 0; i < 3000; i++) {
    const a = [rng.uniform(-1, 1), rng.uniform(-1, 1)];
    buf.push([rng.uniform(-1, 1), rng.uniform(-1, 1)], a, -((a[0]! - 0.5) ** 2) - a[1]! ** 2, [0, 0], 0);
  }
  for (let i = 0; i < 600; i++) await agent.update(buf.sample(rng), risk?.weight ?? 0);
  const a0 = (await agent.act([0.2, -0.2], true))[0]!;
  await agent.release();
  return a0;
}

void t.test('the Lagrangian (LR, SQRL, RSPO) and RCPO terms steer SAC away from actions the critic rates risky', async (t) => {
  const plain = await trainedFirstAction();
  const penalty = await trainedFirstAction({ use: 'penalty', weight: 5 });
  const shaping = await trainedFirstAction({ use: 'shaping', weight: 5 });
  t.ok(Math.abs(plain - 0.5) < 0.1, `without a safety term a₀ → ${plain.toFixed(3)} (best 0.5)`);
  t.ok(penalty < plain - 0.15, `ν·(Q_risk − ε) in the policy loss: a₀ ${penalty.toFixed(3)}`);
  t.ok(shaping < plain - 0.15, `r − λ·Q_risk in the target: a₀ ${shaping.toFixed(3)}`);
});

void t.test('a learned multiplier grows while the risk exceeds ε and shrinks while it stays below', (t) => {
  const up = new DualVariable(100, 0.01, 0.1);
  const down = new DualVariable(100, 0.01, 0.1);
  for (let i = 0; i < 200; i++) {
    up.update(0.4);
    down.update(0.01);
  }
  t.ok(up.value > 150, `risk 0.4 > ε: ν 100 → ${up.value.toFixed(1)}`);
  t.ok(down.value < 70, `risk 0.01 < ε: ν 100 → ${down.value.toFixed(1)}`);
  up.update(Number.NaN);
  t.ok(Number.isFinite(up.value), 'a NaN risk is skipped');
  t.end();
});

void t.test('SQRL\'s filter keeps the policy\'s draws that the critic rates safe', async (t) => {
  const spec = createEnv('nav1').spec;
  const safety = await startSafety({ robot: simulatedRobot('nav1'), spec, seed: 1, pretrain: true, batch: 32, threads: 1 });
  t.teardown(() => safety.learner.release());
  // An untrained policy draws actions all over the square; at the upper wall half of them push into it.
  const agent = await SacAgent.create({ obsDim: 2, actDim: 2, normalizer: safety.normalizer, seed: 2, batch: 32, sizes: small, threads: 1 });
  t.teardown(() => agent.release());
  const filter = await SqrlFilter.create(agent, safety.learner.networks, safety.normalizer, { samples: 100, epsRisk: safety.epsRisk, seed: 5 });
  t.teardown(() => filter.close());
  const shield = await Shield.load({ modelDir: 'models/nav1', robot: 'nav1' });
  t.teardown(() => shield.close());
  const obs = Float32Array.from([-40, 4.3]);
  const rng = new Rng(3);
  let rawRisky = 0;
  let filteredRisky = 0;
  for (let i = 0; i < 40; i++) {
    if ((await shield.decide(obs, (await agent.act(obs)).slice())).qRisk > safety.epsRisk) rawRisky++;
    if ((await shield.decide(obs, (await filter.act(obs, rng)).slice())).qRisk > safety.epsRisk) filteredRisky++;
  }
  t.ok(rawRisky >= 5, `${rawRisky} of 40 raw policy draws are risky`);
  t.ok(filteredRisky <= 1, `${filteredRisky} of 40 filtered actions are risky`);
});

void t.test('RSPO\'s ν falls linearly from its start to 0 over the run\'s episodes', async (t) => {
  const quick: LoopOverrides = { sacSizes: small, batch: 32, startSteps: 0 };
  const run = (await rspo(quick).start(...withSim({ robot: 'nav1', algo: 'rspo', seed: 1, episodes: 4, ablations: [], threads: 1 }))) as OnlineLoop;
  t.teardown(() => run.close());
  const seen: number[] = [];
  for (let i = 0; i < 3; i++) {
    await run.episode();
    seen.push(run.weight);
  }
  t.same(seen, [10000, 7500, 5000], 'nav1: 2·λ_LR = 10000 at the first episode, then −2500 per episode of 4');
  t.equal(run.criticOrigin, 'shipped', 'the baselines start from the same pretrained critic');
});
