import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { createEnv } from '../../src/envs/index.js';
import { OnnxPolicyController } from '../../src/inference/policy-controller.js';
import { SacAgent } from '../../src/learn/sac/sac-agent.js';
import { runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'rshield-policy-ctl-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const normalizer = { obsMean: [-10, 0], obsStd: [30, 3], actCenter: [0, 0], actHalfRange: [1, 1] };

void t.test('an exported SAC policy drives the robot as a controller: prepare(obs), then act(obs)', async (t) => {
  const agent = await SacAgent.create({ obsDim: 2, actDim: 2, normalizer, seed: 3, batch: 8, sizes: { hidden: [16, 16] }, threads: 1 });
  t.teardown(() => agent.release());
  const path = join(dir, 'sac.onnx');
  await agent.writePolicy(path);
  const env = createEnv('nav1', { seed: 1 });
  const ctl = await OnnxPolicyController.load(path, env.spec);
  t.teardown(() => ctl.close());
  let obs = env.reset(1);
  for (let i = 0; i < 5; i++) {
    await ctl.prepare(obs);
    const a = ctl.act(obs);
    const want = await agent.act(obs, true);
    t.ok(Math.abs(a[0]! - want[0]!) < 1e-5 && Math.abs(a[1]! - want[1]!) < 1e-5, `step ${i}: ${a[0]}, ${a[1]}`);
    obs = env.step(a).obs;
  }
  t.throws(() => ctl.act(obs), /act\(\) for an observation prepare\(\) was not called with/, 'a stale action is never returned');

  // Another robot's dimensions are refused at load, naming the file and both sizes.
  await t.rejects(OnnxPolicyController.load(path, createEnv('dvrk-reacher').spec), /sac\.onnx: .*inference failed for obs of 3 values|has 2 values, robot dvrk-reacher has actDim 3/);
});

void t.test('rshield run --policy: a file that is not ONNX is one line and E_MODEL, before anything connects', async (t) => {
  const bad = join(dir, 'bad.onnx');
  writeFileSync(bad, 'not onnx');
  const r = await runCli(t, 'run', '--robot', 'nav1', '--sim', '--broker', 'mqtt://127.0.0.1:1', '--allow-unsigned', '--policy', bad);
  t.not(r.code, 0);
  t.match(r.err, /--policy .*bad\.onnx: cannot load ONNX model/);
  t.notMatch(r.err, /\n.*at /, 'no stack trace');
});
