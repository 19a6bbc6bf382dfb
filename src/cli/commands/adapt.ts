import { RShieldError } from '../../core/errors.js';
import { readDataset } from '../../data/index.js';
import { adaptModel } from '../../learn/meta/adapt.js';
import { adaptDefaults } from '../../learn/meta/meta-defaults.js';
import { intOption, numberOption, parseCommandArgs, requiredOption, stringOption, stringsOption, type OptionTable } from '../args.js';
import { createProgress } from '../progress.js';

const options: OptionTable = {
  models: { type: 'string' },
  data: { type: 'string', multiple: true },
  out: { type: 'string' },
  steps: { type: 'string' },
  lr: { type: 'string' },
  sgd: { type: 'string' },
  batch: { type: 'string' },
  eps: { type: 'string' },
  seed: { type: 'string' },
  threads: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

function help(): string {
  return [
    'usage: rshield adapt --models DIR --data NEW.mcap [--data …] --out DIR [options]',
    '',
    'MESA phase 2: adapts a trained model (rshield meta-train, or any rshield model directory) to',
    "a new robot from a small dataset of it (a few hundred transitions): Adam steps on the critic",
    'and the recovery policy from the given weights. Writes an ordinary model directory.',
    '',
    'options:',
    '  --models DIR    model directory to start from',
    '  --data FILE     the new robot\'s dataset, repeatable (same robot and dimensions as the model)',
    '  --out DIR       model directory to write',
    `  --steps N       Adam steps (default ${adaptDefaults.steps}; reference 100 for nav and cartpole)`,
    `  --lr X          learning rate (default ${adaptDefaults.lr})`,
    '  --sgd learned|X plain SGD steps on the critic instead of Adam: at the meta-learned inner',
    "                  learning rate of each tensor (MESA's inner step; meta-trained models only), or X",
    '  --batch N       rows per step (default 256, at most the data)',
    "  --eps E         ε_risk of the new card (default: the start model's)",
    '  --seed S  --threads N',
  ].join('\n');
}

/** `rshield adapt`: MESA phase 2. */
export async function adapt(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('adapt', argv, options);
  if (values.help === true) {
    console.log(help());
    return 0;
  }
  const modelDir = requiredOption(values, 'models', 'adapt');
  const files = [...stringsOption(values, 'data'), ...positionals];
  if (files.length === 0) throw new RShieldError('E_USAGE', '--data NEW.mcap is required (see rshield adapt --help)', { option: 'data' });
  const outDir = requiredOption(values, 'out', 'adapt');
  const steps = intOption('steps', stringOption(values, 'steps'), adaptDefaults.steps, 1);
  const lr = numberOption('lr', stringOption(values, 'lr'), adaptDefaults.lr);
  if (!(lr > 0)) throw new RShieldError('E_USAGE', `--lr must be > 0, got ${lr}`, { option: 'lr' });
  const epsText = stringOption(values, 'eps');
  const eps = epsText === undefined ? undefined : numberOption('eps', epsText, 0);
  if (eps !== undefined && !(eps >= 0 && eps < 1)) throw new RShieldError('E_USAGE', `--eps must be in [0, 1), got ${eps}`, { option: 'eps' });
  const sgdText = stringOption(values, 'sgd');
  const sgd = sgdText === undefined || sgdText === 'learned' ? sgdText : numberOption('sgd', sgdText, 0);
  if (typeof sgd === 'number' && !(sgd > 0)) throw new RShieldError('E_USAGE', `--sgd must be 'learned' or a learning rate > 0, got '${sgdText}'`, { option: 'sgd' });
  const batchText = stringOption(values, 'batch');
  const data = await readDataset(files);
  console.error(`adapt: ${data.size} transitions (${data.cost.reduce((n, c) => n + (c > 0 ? 1 : 0), 0)} violating) from ${data.files.length} file(s); ${steps} steps, ${sgd === undefined ? `Adam lr ${lr}` : `critic SGD at ${sgd === 'learned' ? 'the learned inner learning rates' : `lr ${sgd}`}`}`);
  const progress = createProgress({ label: 'adapt', total: steps, unit: 'steps' });
  const result = await adaptModel(data, {
    modelDir,
    outDir,
    steps,
    lr,
    seed: intOption('seed', stringOption(values, 'seed'), 0),
    threads: intOption('threads', stringOption(values, 'threads'), 2, 1),
    ...(batchText === undefined ? {} : { batch: intOption('batch', batchText, 256, 1) }),
    ...(eps === undefined ? {} : { epsRisk: eps }),
    ...(sgd === undefined ? {} : { sgd }),
    onProgress: (step, criticLoss, recoveryLoss) => progress.update(step, { criticLoss: Number(criticLoss.toPrecision(3)), recoveryQ: Number(recoveryLoss.toPrecision(3)) }),
  });
  progress.stop(steps);
  console.log(`adapted ${result.from} to ${data.files.map((f) => f.path).join(', ')} in ${result.seconds.toFixed(1)} s: model ${result.card.version} → ${outDir}`);
  return 0;
}
