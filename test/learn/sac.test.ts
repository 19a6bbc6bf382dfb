import t from 'tap';
import ort from 'onnxruntime-node';
import { Rng } from '../../src/core/rng.js';
import { ParamSet } from '../../src/nn/index.js';
import { SacAgent } from '../../src/learn/sac/sac-agent.js';
import { SacReplay } from '../../src/learn/sac/sac-replay.js';

// A one-step task (every transition terminal, so Q = r): at state s ∈ [-1, 1]² the best action
// is a* = 0.5·s, reward −‖a − a*‖². Actions live in [-2, 2] × [-1, 1] to check the scaling.
const normalizer = { obsMean: [0, 0], obsStd: [0.58, 0.58], actCenter: [0, 0], actHalfRange: [2, 1] };
const small = { hidden: [32, 32] } as const;

function fill(buf: SacReplay, rng: Rng, n: number): void {
  for (let i = 0; i < n; i++) {
    const s = [rng.uniform(-1, 1), rng.uniform(-1, 1)];
    const a = [rng.uniform(-2, 2), rng.uniform(-1, 1)];
    const r = -((a[0]! - 0.5 * s[0]!) ** 2) - (a[1]! - 0.5 * s[1]!) ** 2;
    buf.push(s, a, r, s, 0);
  }
}

async function meanError(agent: SacAgent, rng: Rng): Promise<number> {
  let err = 0;
  for (let i = 0; i < 50; i++) {
    const s = [rng.uniform(-1, 1), rng.uniform(-1, 1)];
    const a = await agent.act(s, true);
    err += Math.hypot(a[0]! - 0.5 * s[0]!, a[1]! - 0.5 * s[1]!);
  }
  return err / 50;
}

void t.test('SAC learns the best action of a one-step task and exports it as an ONNX policy', async (t) => {
  const agent = await SacAgent.create({ obsDim: 2, actDim: 2, normalizer, seed: 4, batch: 64, sizes: small, alpha: 0.01, lr: 3e-3, threads: 1 });
  t.teardown(() => agent.release());
  const buf = new SacReplay(2, 2, 64);
  const rng = new Rng(9);
  fill(buf, rng, 4000);
  const before = await meanError(agent, new Rng(1));
  for (let i = 0; i < 800; i++) await agent.update(buf.sample(rng));
  const after = await meanError(agent, new Rng(1));
  t.ok(after < 0.15 && after < before / 3, `mean distance to the best action ${before.toFixed(3)} → ${after.toFixed(3)}`);

  // Samples explore around the mean and stay inside the bounds.
  let spread = 0;
  for (let i = 0; i < 100; i++) {
    const a = await agent.act([0.3, -0.3]);
    if (Math.abs(a[0]!) > 2 || Math.abs(a[1]!) > 1) t.fail(`sample ${a[0]}, ${a[1]} outside the bounds`);
    spread += Math.abs(a[0]! - 0.15);
  }
  t.ok(spread / 100 > 1e-3, 'samples are not the mean');

  // The exported policy is the deterministic mean, for a batch of states.
  const session = await ort.InferenceSession.create(agent.exportOnnx());
  t.teardown(() => session.release());
  const states = Float32Array.from([0.5, 0.5, -1, 1, 0, 0]);
  const out = (await session.run({ obs: new ort.Tensor('float32', states, [3, 2]) })).action!.data as Float32Array;
  for (let i = 0; i < 3; i++) {
    const a = await agent.act(states.subarray(2 * i, 2 * i + 2), true);
    t.ok(Math.abs(out[2 * i]! - a[0]!) < 1e-5 && Math.abs(out[2 * i + 1]! - a[1]!) < 1e-5, `row ${i}: ONNX ${out[2 * i]}, ${out[2 * i + 1]} = agent ${a[0]}, ${a[1]}`);
  }
});

void t.test('the same seed gives the same SAC updates, bit for bit', async (t) => {
  const losses = async (seed: number): Promise<number[]> => {
    const agent = await SacAgent.create({ obsDim: 2, actDim: 2, normalizer, seed, batch: 32, sizes: small, threads: 1 });
    const buf = new SacReplay(2, 2, 32);
    const rng = new Rng(2);
    fill(buf, rng, 200);
    const out: number[] = [];
    for (let i = 0; i < 20; i++) {
      const r = await agent.update(buf.sample(rng));
      out.push(r.qLoss, r.policyLoss);
    }
    out.push(...(await agent.act([0.1, 0.2])));
    await agent.release();
    return out;
  };
  const a = await losses(5);
  t.same(await losses(5), a);
  t.not((await losses(6))[0], a[0], 'another seed starts elsewhere');
});

void t.test('updates on a worker thread give the caller-thread updates bit for bit', async (t) => {
  const run = async (updateThread: 'caller' | 'worker'): Promise<{ out: number[]; onnx: Uint8Array }> => {
    const agent = await SacAgent.create({ obsDim: 2, actDim: 2, normalizer, seed: 5, batch: 32, sizes: small, threads: 1, updateThread });
    const buf = new SacReplay(2, 2, 32);
    const rng = new Rng(2);
    fill(buf, rng, 200);
    const out: number[] = [];
    for (let i = 0; i < 20; i++) {
      const r = await agent.update(buf.sample(rng));
      out.push(r.qLoss, r.policyLoss, ...(await agent.act([0.1, 0.2])));
    }
    const onnx = agent.exportOnnx();
    await agent.release();
    return { out, onnx };
  };
  const here = await run('caller');
  const there = await run('worker');
  t.same(there.out, here.out, 'losses and actions after every update');
  t.same(there.onnx, here.onnx, 'the exported policy');
});

void t.test("a worker's failures are errors naming the cause, never hangs", async (t) => {
  const opts = { obsDim: 2, actDim: 2, normalizer, seed: 5, batch: 32, sizes: small, updateThread: 'worker' } as const;
  await t.rejects(SacAgent.create({ ...opts, threads: -1 }), /SAC update worker did not start: .*ONNX Runtime rejected graph sac_step/);
  const agent = await SacAgent.create({ ...opts, threads: 1 });
  const buf = new SacReplay(2, 2, 16);
  fill(buf, new Rng(1), 50);
  await t.rejects(agent.update(buf.sample(new Rng(1))), /SAC batch column obs has 32 values, the worker expects 64/);
  const good = new SacReplay(2, 2, 32);
  fill(good, new Rng(1), 50);
  const r = await agent.update(good.sample(new Rng(1)));
  t.ok(Number.isFinite(r.qLoss), 'the agent still updates after a refused batch');
  const first = agent.update(good.sample(new Rng(1)));
  await t.rejects(agent.update(good.sample(new Rng(1))), /an update is already running/);
  await first;
  await agent.release();
  await t.rejects(agent.update(good.sample(new Rng(1))), /SAC update worker is closed/);

  // A worker that dies in an update (here: the risk critic has a parameter the worker's graph
  // lacks, found when its weights are copied in) fails that update and every later one.
  const critic = ParamSet.create({ rng: 1 });
  critic.get('stray/w', [4], { kind: 'const', value: 0 });
  const risky = await SacAgent.create({ ...opts, threads: 1, risk: { use: 'penalty', critic, sizes: small, epsRisk: 0.1 } });
  await t.rejects(risky.update(good.sample(new Rng(1)), 1), /SAC update worker failed: .*parameter stray\/w has no values on one thread, 4 on the other/);
  await t.rejects(risky.update(good.sample(new Rng(1)), 1), /SAC update worker failed/);
  await risky.release();
});

void t.test('the replay buffer keeps the newest rows once full', (t) => {
  const buf = new SacReplay(1, 1, 4, 3);
  for (let i = 0; i < 5; i++) buf.push([i], [i], i, [i], 1);
  t.equal(buf.size, 3);
  const seen = new Set<number>();
  const rng = new Rng(1);
  for (let k = 0; k < 50; k++) for (const r of buf.sample(rng).reward) seen.add(r);
  t.same([...seen].sort(), [2, 3, 4]);
  t.end();
});
