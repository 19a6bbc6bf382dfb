/**
 * How the adaptation (phase 2) changes a critic's AUROC on the test robot, on seed directories
 * kept by `scripts/mesa-compare.ts --keep` (docs/results.md, MESA).
 *   node --import tsx scripts/mesa-adapt-probe.ts --family F --dir WORK/F-seed1 [--dir ...] [--grid 10:1e-3,100:1e-3,1:sgd=learned,5:sgd=0.05]
 * A grid entry is steps:lr (Adam) or steps:sgd=learned|LR (plain SGD, AdaptOptions.sgd); a start
 * without learned inner learning rates skips sgd=learned. One JSON line per directory and start model
 * (mesa-meta, multi-task-pooled), its AUROC after each entry ('0': before adaptation).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readDataset } from '../src/data/index.js';
import { taskFamily } from '../src/envs/index.js';
import { criticScores } from '../src/inference/critic-scores.js';
import { auroc } from '../src/learn/auroc.js';
import { defaultsFor } from '../src/learn/defaults.js';
import { adaptModel } from '../src/learn/meta/adapt.js';
import { violationWithin } from '../src/learn/validation.js';

const { values } = parseArgs({ options: { family: { type: 'string' }, dir: { type: 'string', multiple: true }, grid: { type: 'string' } } });
if (values.family === undefined || values.dir === undefined) throw new Error('--family and --dir are required');
const d = defaultsFor(taskFamily(values.family).robot);
const grid = (values.grid ?? '10:1e-3,100:1e-3,100:1e-4,1:sgd=learned').split(',').map((g) => {
  const [steps, how] = g.split(':') as [string, string];
  const sgd = how.startsWith('sgd=') ? how.slice(4) : undefined;
  const entry: { key: string; steps: number; lr?: number; sgd?: 'learned' | number } = { key: g, steps: Number(steps) };
  if (sgd === undefined) entry.lr = Number(how);
  else entry.sgd = sgd === 'learned' ? 'learned' : Number(sgd);
  return entry;
});
for (const dir of values.dir) {
  const small = await readDataset([join(dir, 'test-small.mcap')]);
  const evalData = await readDataset([join(dir, 'test-eval.mcap')]);
  const labels = violationWithin(evalData, d.aurocHorizon);
  const score = async (m: string): Promise<number> => Number(auroc(await criticScores(m, evalData.obs, evalData.act, evalData.size), labels).toFixed(4));
  for (const start of ['mesa-meta', 'multi-task-pooled']) {
    const from = join(dir, start);
    if (!existsSync(from)) continue;
    const row: Record<string, number> = { '0': await score(from) };
    for (const e of grid) {
      if (e.sgd === 'learned' && start !== 'mesa-meta') continue;
      const out = join(dir, `probe-${start}-${e.key.replace(/[^\w.-]/g, '_')}`);
      await adaptModel(small, { modelDir: from, outDir: out, steps: e.steps, seed: 1, threads: 2, ...(e.lr === undefined ? {} : { lr: e.lr }), ...(e.sgd === undefined ? {} : { sgd: e.sgd }) });
      row[e.key] = await score(out);
    }
    console.log(JSON.stringify({ dir, start, auroc: row }));
  }
}
