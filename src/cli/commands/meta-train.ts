import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { RShieldError } from '../../core/errors.js';
import { readDataset, type Dataset } from '../../data/index.js';
import { taskFamily, taskFamilyNames } from '../../envs/index.js';
import { defaultsFor } from '../../learn/defaults.js';
import { metaDefaults } from '../../learn/meta/meta-defaults.js';
import { metaTrain } from '../../learn/meta/meta-train.js';
import { defaultSizes } from '../../learn/networks.js';
import { intOption, numberOption, parseCommandArgs, requiredOption, stringOption, stringsOption, type OptionTable } from '../args.js';
import { createProgress } from '../progress.js';

const options: OptionTable = {
  family: { type: 'string' },
  data: { type: 'string', multiple: true },
  out: { type: 'string' },
  iterations: { type: 'string' },
  batch: { type: 'string' },
  'meta-batch': { type: 'string' },
  'outer-lr': { type: 'string' },
  'inner-lr': { type: 'string' },
  hidden: { type: 'string' },
  gamma: { type: 'string' },
  eps: { type: 'string' },
  seed: { type: 'string' },
  threads: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

function help(): string {
  const d = metaDefaults;
  return [
    'usage: rshield meta-train --family F --data DIR|FILE.mcap [--data …] --out DIR [options]',
    '',
    'MESA phase 1: meta-trains the safety critic across the tasks of a task family (second-order',
    'MAML, one inner step with a learned per-tensor learning rate) and the recovery policy against',
    'it; writes an ordinary model directory. Adapt it to the new robot with rshield adapt.',
    '',
    'options (docs/learning.md, "MESA"):',
    `  --family F         ${taskFamilyNames().join(', ')}`,
    '  --data DIR|FILE    task datasets, one per task (rshield collect --task-family); a directory',
    '                     gives its *.mcap files, test-split files skipped; repeatable',
    '  --out DIR          model directory to write',
    `  --iterations N     meta-iterations (default ${d.iterations}; reference 10000)`,
    `  --batch N          rows of each inner and outer batch (default ${d.batch})`,
    `  --meta-batch K     tasks per iteration (default ${d.metaBatch})`,
    `  --outer-lr X       Adam lr of the meta-update (default ${d.outerLr}; reference 1e-5)`,
    `  --inner-lr X       initial inner-step lr, learned per tensor (default ${d.innerLr})`,
    `  --hidden W,W       critic and recovery widths (default ${defaultSizes.hidden.join(',')})`,
    '  --gamma G  --eps E  (defaults: the robot\'s, docs/training.md)  --seed S  --threads N',
  ].join('\n');
}

/** Task files: files as given, directories as their *.mcap files in name order. */
export function taskFiles(args: readonly string[]): string[] {
  const out: string[] = [];
  for (const a of args) {
    if (!existsSync(a)) throw new RShieldError('E_IO', `--data '${a}' does not exist`, { path: a });
    if (statSync(a).isDirectory()) {
      const found = readdirSync(a).filter((f) => f.endsWith('.mcap')).sort().map((f) => join(a, f));
      if (found.length === 0) throw new RShieldError('E_DATA', `--data directory '${a}' holds no .mcap files`, { path: a });
      out.push(...found);
    } else {
      out.push(a);
    }
  }
  return out;
}

/** `--hidden 256,256`: positive integer widths. */
export function hiddenOption(value: string | undefined): number[] | undefined {
  if (value === undefined) return undefined;
  const widths = value.split(',').map((s) => Number(s.trim()));
  if (widths.length === 0 || !widths.every((w) => Number.isInteger(w) && w > 0)) throw new RShieldError('E_USAGE', `--hidden must be comma-separated positive integers, got '${value}'`, { option: 'hidden' });
  return widths;
}

/** `rshield meta-train`: MESA phase 1. */
export async function metaTrainCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('meta-train', argv, options);
  if (values.help === true) {
    console.log(help());
    return 0;
  }
  const family = taskFamily(requiredOption(values, 'family', 'meta-train'));
  const robot = family.robot;
  const d = defaultsFor(robot);
  const args = [...stringsOption(values, 'data'), ...positionals];
  if (args.length === 0) throw new RShieldError('E_USAGE', '--data DIR is required (see rshield meta-train --help)', { option: 'data' });
  const outDir = requiredOption(values, 'out', 'meta-train');
  const gamma = numberOption('gamma', stringOption(values, 'gamma'), d.gammaRisk);
  const eps = numberOption('eps', stringOption(values, 'eps'), d.epsRisk);
  for (const [name, v] of [['gamma', gamma], ['eps', eps]] as const) {
    if (!(v >= 0 && v < 1)) throw new RShieldError('E_USAGE', `--${name} must be in [0, 1), got ${v}`, { option: name });
  }
  const outerLr = numberOption('outer-lr', stringOption(values, 'outer-lr'), metaDefaults.outerLr);
  const innerLr = numberOption('inner-lr', stringOption(values, 'inner-lr'), metaDefaults.innerLr);
  for (const [name, v] of [['outer-lr', outerLr], ['inner-lr', innerLr]] as const) {
    if (!(v > 0)) throw new RShieldError('E_USAGE', `--${name} must be > 0, got ${v}`, { option: name });
  }
  const hidden = hiddenOption(stringOption(values, 'hidden'));
  const iterations = intOption('iterations', stringOption(values, 'iterations'), metaDefaults.iterations, 1);

  const tasks: Dataset[] = [];
  let skipped = 0;
  for (const file of taskFiles(args)) {
    const ds = await readDataset([file]);
    if (ds.meta.task?.split === 'test') {
      skipped++;
      continue;
    }
    tasks.push(ds);
  }
  const transitions = tasks.reduce((n, t) => n + t.size, 0);
  console.error(`meta-train ${family.name}: ${tasks.length} tasks, ${transitions} transitions${skipped > 0 ? ` (${skipped} test-split file(s) skipped)` : ''}; ${iterations} iterations, γ_risk ${gamma}, ε_risk ${eps}`);
  const progress = createProgress({ label: `meta-train ${family.name}`, total: iterations, unit: 'iterations' });
  const result = await metaTrain(tasks, {
    ...metaDefaults,
    family: family.name,
    robot,
    outDir,
    seed: intOption('seed', stringOption(values, 'seed'), 0),
    gammaRisk: gamma,
    epsRisk: eps,
    violationShare: d.violationShare,
    aurocHorizon: d.aurocHorizon,
    iterations,
    outerLr,
    innerLr,
    batch: intOption('batch', stringOption(values, 'batch'), metaDefaults.batch, 1),
    metaBatch: intOption('meta-batch', stringOption(values, 'meta-batch'), metaDefaults.metaBatch, 1),
    threads: intOption('threads', stringOption(values, 'threads'), 2, 1),
    ...(hidden === undefined ? {} : { sizes: { hidden } }),
    onProgress: (it, outer, inner) => progress.update(it, { outerLoss: Number(outer.toPrecision(3)), innerLoss: Number(inner.toPrecision(3)) }),
  });
  progress.stop(iterations);
  const auroc = result.card.metrics?.trainAuroc;
  console.log(
    `meta-trained ${family.name} model ${result.card.version} in ${result.seconds.toFixed(1)} s (${result.iterationsPerSecond.toFixed(1)} iterations/s): ` +
      `AUROC on the training tasks ${typeof auroc === 'number' ? auroc.toFixed(3) : 'n/a'} → ${outDir}; adapt it with rshield adapt --models ${outDir} --data NEW.mcap --out DIR`,
  );
  return 0;
}
