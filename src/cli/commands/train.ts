import { RShieldError } from '../../core/errors.js';
import { loadRobotProfile } from '../../config/profile.js';
import { readDataset } from '../../data/index.js';
import { readFrames } from '../../transport/ros2/image-frames.js';
import { readRosBagDataset } from '../../transport/ros2/bag-dataset.js';
import { defaultsFor, plannerDefaultsFor, trainDefaults } from '../../learn/defaults.js';
import { cameraOf, goalOf } from '../../envs/index.js';
import { CPU_PLANNER, PLANNER_PRESETS, REFERENCE_PLANNER, type PlannerSettingsInput } from '../../config/planner-settings.js';
import { trainOffline } from '../../learn/offline.js';
import { trainImageOffline } from '../../learn/image-offline.js';
import { relabelNextActions } from '../../learn/task-policy.js';
import { basename } from 'node:path';
import { intOption, numberOption, parseCommandArgs, requiredOption, stringOption, stringsOption, type OptionTable } from '../args.js';
import { createProgress } from '../progress.js';
import { defaultGrid } from '../../learn/calibration.js';
import { calibrationTable } from '../calibrate/report.js';
import { parseTargetSpec, runCalibration } from './calibrate.js';

const options: OptionTable = {
  robot: { type: 'string' },
  data: { type: 'string', multiple: true },
  profile: { type: 'string' },
  out: { type: 'string' },
  steps: { type: 'string' },
  gamma: { type: 'string' },
  eps: { type: 'string' },
  'violation-share': { type: 'string' },
  batch: { type: 'string' },
  lr: { type: 'string' },
  tau: { type: 'string' },
  seed: { type: 'string' },
  threads: { type: 'string' },
  'task-policy': { type: 'string' },
  recovery: { type: 'string' },
  'dynamics-epochs': { type: 'string' },
  planner: { type: 'string' },
  horizon: { type: 'string' },
  repeat: { type: 'string' },
  'task-weight': { type: 'string' },
  'goal-weight': { type: 'string' },
  'risk-penalty': { type: 'string' },
  calibrate: { type: 'string' },
  'calibrate-data': { type: 'string', multiple: true },
  'calibrate-rollouts': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

function help(): string {
  return [
    'usage: rshield train --robot R --data FILE.mcap [--data FILE2.mcap ...] --out DIR [options]',
    '',
    'Trains the safety critic Q_risk and the model-free recovery policy on recorded',
    'constraint-violation data and writes DIR/critic.onnx, DIR/recovery.onnx, DIR/model.json.',
    '',
    'options (defaults per robot: docs/training.md):',
    `  --robot R              ${Object.keys(trainDefaults).join(', ')}; must match the data`,
    '  --data FILE.mcap       dataset file, repeatable (also accepted as positional arguments)',
    '  --profile P            read the files as ROS 2 bags (ros2 bag record -s mcap) of this robot',
    '                         profile\'s topics (psm1, psm2, dvrk-reacher or a YAML path): one',
    '                         transition per goal sent to the arm, labelled by its constraints',
    '  --out DIR              model directory to write',
    '  --steps N              gradient steps (reference: 10000)',
    '  --gamma G              γ_risk, discount of the risk TD target',
    '  --eps E                ε_risk, the shield threshold written into the card',
    '  --violation-share P    share of violating transitions per batch; -1 samples uniformly',
    '  --task-policy F.onnx   take a′ of the TD target from this policy (obs → action) instead',
    '                         of the logged next action (reference: a′ ~ π_task(s′))',
    '  --calibrate T          then choose ε_risk (rshield calibrate) and write it into the card:',
    '                         T is violation-rate=X or max-interventions=Y; measured on 50',
    '                         rollouts per ε for a simulated robot, and on --calibrate-data',
    '  --calibrate-data F     held-out dataset for --calibrate, repeatable (not the training data)',
    '  --calibrate-rollouts N rollouts per ε for --calibrate (default 50; 0: held-out data only)',
    '  --batch N  --lr X  --tau T  --seed S  --threads N',
    '',
    'model-based recovery (docs/shield.md, "Model-based recovery"):',
    '  --recovery M           policy (default: the model-free π_rec) or model-based: also train',
    '                         a 5-member dynamics ensemble (DIR/dynamics.onnx) for CEM planning',
    '  --dynamics-epochs N    epochs over the data (reference: 50)',
    `  --planner P            sampling preset written into the card: ${PLANNER_PRESETS.join(', ')} (default cpu)`,
    '  --horizon H            plan length (default per robot; reference nav 5, maze 15)',
    '  --repeat R             ticks each planned action is held: a plan looks H·R ticks ahead',
    '                         (default per robot: nav2 5, others 1 as the reference)',
    '  --task-weight λ        weight of ‖a_0 − a_task‖² (0: the reference\'s pure-risk cost)',
    '  --goal-weight μ        weight of the plan end\'s distance to the robot\'s goal (0: none)',
    '  --risk-penalty C       C·max(0, Q_risk − ε) added per plan step (0: the reference\'s Σ Q_risk)',
  ].join('\n');
}

/** The planner settings and dynamics epochs of `--recovery model-based`. */
function modelBasedOptions(robot: string, values: Parameters<typeof stringOption>[0]): { planner: PlannerSettingsInput; epochs: number } {
  const pd = plannerDefaultsFor(robot);
  const preset = stringOption(values, 'planner') ?? 'cpu';
  if (preset !== 'cpu' && preset !== 'reference') throw new RShieldError('E_USAGE', `--planner must be one of ${PLANNER_PRESETS.join(', ')}, got '${preset}'`, { option: 'planner' });
  const taskWeight = numberOption('task-weight', stringOption(values, 'task-weight'), pd.taskWeight);
  const goalWeight = numberOption('goal-weight', stringOption(values, 'goal-weight'), pd.goalWeight);
  const riskPenalty = numberOption('risk-penalty', stringOption(values, 'risk-penalty'), pd.riskPenalty);
  for (const [name, v] of [['task-weight', taskWeight], ['goal-weight', goalWeight], ['risk-penalty', riskPenalty]] as const) {
    if (!(v >= 0)) throw new RShieldError('E_USAGE', `--${name} must be ≥ 0, got ${v}`, { option: name });
  }
  const goal = goalOf(robot);
  return {
    epochs: intOption('dynamics-epochs', stringOption(values, 'dynamics-epochs'), 50, 1),
    planner: {
      ...pd.extra,
      ...(preset === 'cpu' ? { ...CPU_PLANNER, ...pd.cpu } : REFERENCE_PLANNER),
      horizon: intOption('horizon', stringOption(values, 'horizon'), pd.horizon, 1),
      repeat: intOption('repeat', stringOption(values, 'repeat'), pd.extra?.repeat ?? 1, 1),
      taskWeight,
      riskPenalty,
      ...(goal === null || goalWeight === 0 ? {} : { goal: { dims: [...goal.dims], target: [...goal.target], weight: goalWeight } }),
    },
  };
}

/** `rshield train`: offline critic + recovery training (thesis Algorithm 1, pretraining phase). */
export async function train(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('train', argv, options);
  if (values.help === true) {
    console.log(help());
    return 0;
  }
  const robot = requiredOption(values, 'robot', 'train');
  const d = defaultsFor(robot);
  const files = [...stringsOption(values, 'data'), ...positionals];
  if (files.length === 0) throw new RShieldError('E_USAGE', '--data FILE.mcap is required (see rshield train --help)', { option: 'data' });
  const outDir = requiredOption(values, 'out', 'train');
  const share = numberOption('violation-share', stringOption(values, 'violation-share'), d.violationShare);
  if (share !== -1 && (share <= 0 || share >= 1)) throw new RShieldError('E_USAGE', `--violation-share must be in (0, 1) or -1, got ${share}`, { option: 'violation-share' });
  const gamma = numberOption('gamma', stringOption(values, 'gamma'), d.gammaRisk);
  const eps = numberOption('eps', stringOption(values, 'eps'), d.epsRisk);
  for (const [name, v] of [['gamma', gamma], ['eps', eps]] as const) {
    if (v < 0 || v > 1) throw new RShieldError('E_USAGE', `--${name} must be in [0, 1], got ${v}`, { option: name });
  }
  const opts = {
    ...d,
    robot,
    outDir,
    gammaRisk: gamma,
    epsRisk: eps,
    violationShare: share,
    steps: intOption('steps', stringOption(values, 'steps'), d.steps, 1),
    batch: intOption('batch', stringOption(values, 'batch'), d.batch, 1),
    lr: numberOption('lr', stringOption(values, 'lr'), d.lr),
    tau: numberOption('tau', stringOption(values, 'tau'), d.tau),
    seed: intOption('seed', stringOption(values, 'seed'), 0),
    threads: intOption('threads', stringOption(values, 'threads'), 2, 1),
  };

  const recovery = stringOption(values, 'recovery') ?? 'policy';
  if (recovery !== 'policy' && recovery !== 'model-based') throw new RShieldError('E_USAGE', `--recovery must be policy or model-based, got '${recovery}'`, { option: 'recovery' });
  const modelBased = recovery === 'model-based' ? modelBasedOptions(robot, values) : undefined;

  const calibrateText = stringOption(values, 'calibrate');
  const target = calibrateText === undefined ? null : parseTargetSpec(calibrateText);
  const calibrateData = stringsOption(values, 'calibrate-data');
  if (target === null && calibrateData.length > 0) throw new RShieldError('E_USAGE', '--calibrate-data needs --calibrate', { option: 'calibrate-data' });
  const overlap = calibrateData.find((f) => files.includes(f));
  if (overlap !== undefined) throw new RShieldError('E_USAGE', `--calibrate-data ${overlap} is also training data: calibrate on held-out episodes`, { option: 'calibrate-data' });
  const taskPolicy = stringOption(values, 'task-policy');
  const profile = stringOption(values, 'profile');
  const logged = profile === undefined ? await readDataset(files) : await readRosBagDataset(files, loadRobotProfile(profile));
  const data = taskPolicy === undefined ? logged : await relabelNextActions(logged, taskPolicy);
  if (data.meta.robot !== robot) {
    throw new RShieldError('E_DATA', `${data.files[0]?.path ?? files[0]}: data is from robot '${data.meta.robot}', not '${robot}'`, { robot, dataRobot: data.meta.robot });
  }
  const violations = data.cost.reduce((n, c) => n + (c > 0 ? 1 : 0), 0);
  console.error(`train ${robot}: ${data.size} transitions (${violations} violating) from ${data.files.length} file(s); ${opts.steps} steps, batch ${opts.batch}, γ_risk ${gamma}, ε_risk ${eps}`);
  const progress = createProgress({ label: `train ${robot}`, total: opts.steps, unit: 'steps' });
  const onProgress = (step: number, criticLoss: number, recoveryLoss: number): void => progress.update(step, { criticLoss: Number(criticLoss.toPrecision(3)), recoveryQ: Number(recoveryLoss.toPrecision(3)) });
  const nextAction = taskPolicy === undefined ? 'logged' : `task policy ${basename(taskPolicy)}`;
  const camera = cameraOf(robot);
  if (camera !== null) {
    // A camera robot: the image critic and MF recovery (docs/images.md).
    if (modelBased !== undefined) throw new RShieldError('E_USAGE', `--recovery model-based is not available for the camera robot ${robot} (image models recover with the policy)`, { option: 'recovery' });
    if (target !== null) throw new RShieldError('E_USAGE', `--calibrate is not available for the camera robot ${robot}`, { option: 'calibrate' });
    const frames = await readFrames(files);
    console.error(frames === null
      ? `train ${robot}: the data has no camera frames; each state's frame is rendered by the simulated camera`
      : `train ${robot}: ${frames.obs.length} transitions with recorded ${frames.width}×${frames.height} ${frames.encoding} frames`);
    const result = await trainImageOffline(data, { ...opts, camera, nextAction, onProgress, ...(frames === null ? {} : { frames }) });
    progress.stop(opts.steps);
    const auroc = Number.isNaN(result.auroc) ? 'n/a' : result.auroc.toFixed(3);
    console.log(`trained ${robot} image model ${result.card.version} in ${result.seconds.toFixed(1)} s: held-out AUROC ${auroc} (violation within ${d.aurocHorizon} steps) → ${outDir}`);
    return 0;
  }
  const result = await trainOffline(data, {
    ...opts,
    ...(modelBased === undefined ? {} : {
      modelBased: { ...modelBased, onEpoch: (e) => console.error(`train ${robot}: dynamics epoch ${e.epoch}/${modelBased.epochs}, NLL ${e.nll.toFixed(3)}`) },
    }),
    nextAction,
    onProgress,
  });
  progress.stop(opts.steps);
  const auroc = Number.isNaN(result.auroc) ? 'n/a' : result.auroc.toFixed(3);
  console.log(`trained ${robot} model ${result.card.version} in ${result.seconds.toFixed(1)} s: held-out AUROC ${auroc} (violation within ${d.aurocHorizon} steps) → ${outDir}`);
  if (target === null) return 0;
  const rolloutsText = stringOption(values, 'calibrate-rollouts');
  const cal = await runCalibration({
    modelDir: outDir, files: calibrateData, target, grid: defaultGrid(), seed: 1000, outDir, inPlace: true,
    ...(rolloutsText === undefined ? {} : { rollouts: intOption('calibrate-rollouts', rolloutsText, 50) }),
  });
  console.log(calibrationTable(cal));
  return cal.chosen !== null && cal.chosen.eps === null ? 1 : 0;
}
