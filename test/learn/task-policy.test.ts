import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { readDataset, TransitionWriter } from '../../src/data/index.js';
import { createEnv, generateOfflineData } from '../../src/envs/index.js';
import { relabelNextActions } from '../../src/learn/task-policy.js';
import { exportInference, inferenceGraph } from '../../src/nn/index.js';

const dir = mkdtempSync(join(tmpdir(), 'rshield-policy-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

void t.test('a′ is relabelled with the task policy\'s action at s′, clipped to the bounds', async (t) => {
  const spec = createEnv('nav1').spec;
  const path = join(dir, 'nav1.mcap');
  const w = TransitionWriter.open(path, { robot: 'nav1', obsDim: 2, actDim: 2, actLow: spec.actLow, actHigh: spec.actHigh, generator: 'test', seed: 1, requested: 300 });
  for (const tr of generateOfflineData('nav1', { seed: 1, transitions: 300 })) w.write(tr);
  w.close();
  const data = await readDataset([path]);

  // π(s) = −0.05·s: a proportional controller toward the origin.
  const g = inferenceGraph('policy');
  g.output('act', g.mul(g.input('state', ['N', 2]), -0.05));
  const policy = join(dir, 'policy.onnx');
  writeFileSync(policy, exportInference(g).onnx);

  const r = await relabelNextActions(data, policy);
  t.equal(r.size, data.size);
  t.ok(r.hasNextAct.every((h) => h === 1), 'every row has a next action');
  let clipped = 0;
  for (let i = 0; i < r.size * 2; i++) {
    const want = Math.max(-1, Math.min(1, -0.05 * data.nextObs[i]!));
    if (Math.abs(want) === 1) clipped++;
    if (Math.abs(r.nextAct[i]! - want) > 1e-6) t.fail(`row ${i >> 1}: ${r.nextAct[i]} ≠ ${want}`);
  }
  t.ok(clipped > 0, `${clipped} values clipped to ±1`);
  t.same(Array.from(r.obs), Array.from(data.obs), 'the rest of the data is unchanged');

  writeFileSync(join(dir, 'broken.onnx'), 'not onnx');
  await t.rejects(relabelNextActions(data, join(dir, 'broken.onnx')), /--task-policy .*broken\.onnx: cannot load ONNX model/);
});
