import { runTrainer } from '../../app/trainer.js';
import { RShieldError } from '../../core/errors.js';
import { brokerOptionTable, brokerOptions } from '../../transport/mqtt/connect-options.js';
import { DEFAULT_GATE_TOLERANCE } from '../../learn/quality-gate.js';
import { createProgress } from '../progress.js';
import { intOption, numberOption, parseCommandArgs, stringOption, stringsOption } from '../args.js';

const HELP = `usage: rshield trainer --robot R (--data FILE.mcap... | --models DIR) --broker URL [options]

Companion trainer: starts from the offline data (or given models), receives the shield's
transitions over MQTT, runs one critic and recovery update per transition, and every K updates
exports, validates (IO and a check batch) and publishes a signed new model version — only when
its critic's AUROC on held-out episodes (10% of the offline data's, every 10th online one; never
trained on) is at least the last published version's (or the start model's) minus a tolerance.

  --robot R          robot the transitions come from
  --data FILE.mcap   offline dataset (repeatable)
  --models DIR       start from this model instead of (or as well as) the data
  --broker URL       mqtt://host:port; --username U, password from RSHIELD_MQTT_PASSWORD
  --key FILE         Ed25519 private key (rshield keys generate); without it versions are unsigned
  --every K          publish a version every K updates (default 500)
  --out DIR          where versions are exported (default: a temporary folder)
  --transfer MODE    inline (chunks over MQTT, default) or hash (files in --model-store)
  --model-store DIR  content-addressed store shared with the shields (--transfer hash)
  --gate-tolerance X allowed held-out AUROC drop (default ${DEFAULT_GATE_TOLERANCE})
  --no-gate          publish every valid version, whatever its AUROC
  --adapt-on-drift N when the shield's telemetry reports critic drift, adapt from the last N
                     transitions received (MESA phase 2 for a meta-trained model, else fine-tune
                     steps) and publish the result through the same gate and signature
  --adapt-steps N    steps of each such adaptation (default 300)
  --dynamics-every K a model-based --models (recoveryMode model-based): retrain its dynamics
                     ensemble every K episodes on all data so far and ship it, with the
                     planner, in every version (default: the robot's, e.g. nav 1, maze 5)
  --dynamics-epochs N epochs of each such retraining (default 5)
  --steps N          offline pretraining steps before going online
  --threads N        ONNX Runtime threads of the learner (default 2)
  --seed N           default 1`;

/** The replay ring holds a million rows; the adaptation window is far below it. */
const MAX_ADAPT_TRANSITIONS = 100_000;

/** `rshield trainer`: learns online from streamed transitions and publishes signed model versions. */
export async function trainer(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('trainer', argv, {
    ...brokerOptionTable,
    robot: { type: 'string' },
    data: { type: 'string', multiple: true },
    models: { type: 'string' },
    key: { type: 'string' },
    every: { type: 'string' },
    out: { type: 'string' },
    transfer: { type: 'string' },
    'model-store': { type: 'string' },
    steps: { type: 'string' },
    'gate-tolerance': { type: 'string' },
    'no-gate': { type: 'boolean' },
    'adapt-on-drift': { type: 'string' },
    'adapt-steps': { type: 'string' },
    'dynamics-every': { type: 'string' },
    'dynamics-epochs': { type: 'string' },
    seed: { type: 'string' },
    threads: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help === true) {
    console.log(HELP);
    return 0;
  }
  const robot = stringOption(values, 'robot');
  if (robot === undefined) throw new RShieldError('E_USAGE', '--robot R is required (see rshield trainer --help)');
  const data = stringsOption(values, 'data');
  const modelDir = stringOption(values, 'models');
  if (data.length === 0 && modelDir === undefined) throw new RShieldError('E_USAGE', 'give --data FILE.mcap (offline data) or --models DIR to start from');
  const broker = brokerOptions('trainer', values);
  const every = intOption('every', stringOption(values, 'every'), 500, 1);
  const seed = intOption('seed', stringOption(values, 'seed'), 1);
  const stepsText = stringOption(values, 'steps');
  const transfer = stringOption(values, 'transfer') ?? 'inline';
  if (transfer !== 'inline' && transfer !== 'hash') throw new RShieldError('E_USAGE', `--transfer must be inline or hash, got '${transfer}'`);
  const storeDir = stringOption(values, 'model-store');
  if (transfer === 'hash' && storeDir === undefined) throw new RShieldError('E_USAGE', '--transfer hash needs --model-store DIR');
  const threads = intOption('threads', stringOption(values, 'threads'), 2, 1);
  const steps = stepsText !== undefined ? intOption('steps', stepsText, 0) : undefined;
  const gate = values['no-gate'] !== true;
  const gateTolerance = numberOption('gate-tolerance', stringOption(values, 'gate-tolerance'), DEFAULT_GATE_TOLERANCE);
  if (gateTolerance < 0) throw new RShieldError('E_USAGE', `--gate-tolerance must be ≥ 0, got ${gateTolerance}`);
  const adaptText = stringOption(values, 'adapt-on-drift');
  const adaptOnDrift = adaptText !== undefined ? intOption('adapt-on-drift', adaptText, 0, 1) : undefined;
  if (adaptOnDrift !== undefined && adaptOnDrift > MAX_ADAPT_TRANSITIONS) throw new RShieldError('E_USAGE', `--adapt-on-drift must be at most ${MAX_ADAPT_TRANSITIONS} transitions, got ${adaptOnDrift}`, { option: 'adapt-on-drift' });
  const adaptStepsText = stringOption(values, 'adapt-steps');
  if (adaptStepsText !== undefined && adaptOnDrift === undefined) throw new RShieldError('E_USAGE', '--adapt-steps needs --adapt-on-drift N', { option: 'adapt-steps' });
  const adaptSteps = adaptStepsText !== undefined ? intOption('adapt-steps', adaptStepsText, 0, 1) : undefined;

  const dynamicsEvery = stringOption(values, 'dynamics-every');
  const dynamicsEpochs = stringOption(values, 'dynamics-epochs');
  if ((dynamicsEvery !== undefined || dynamicsEpochs !== undefined) && modelDir === undefined) {
    throw new RShieldError('E_USAGE', `--${dynamicsEvery !== undefined ? 'dynamics-every' : 'dynamics-epochs'} needs --models DIR (a model trained with --recovery model-based)`, { option: 'dynamics-every' });
  }
  const dynamics = dynamicsEvery === undefined && dynamicsEpochs === undefined ? undefined : {
    ...(dynamicsEvery === undefined ? {} : { every: intOption('dynamics-every', dynamicsEvery, 1, 1) }),
    ...(dynamicsEpochs === undefined ? {} : { epochs: intOption('dynamics-epochs', dynamicsEpochs, 5, 1) }),
  };

  return runTrainer({
    dynamics,
    robot, data, modelDir, broker, every, seed, threads, steps, transfer, storeDir, gate, gateTolerance,
    ...(adaptOnDrift !== undefined ? { adaptOnDrift: { transitions: adaptOnDrift, ...(adaptSteps !== undefined ? { steps: adaptSteps } : {}) } } : {}),
    keyPath: stringOption(values, 'key'),
    exportDir: stringOption(values, 'out'),
    pretrainProgress: (label, total) => createProgress({ label, total, unit: 'steps' }),
  });
}
