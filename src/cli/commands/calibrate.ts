import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runEpisodes } from '../../core/episode-runner.js';
import { RShieldError } from '../../core/errors.js';
import { readDataset } from '../../data/index.js';
import { createController, createEnv, robotNames, prepareRobot } from '../../envs/index.js';
import { signModelDir } from '../../inference/local-model-trust.js';
import { criticScores } from '../../inference/critic-scores.js';
import { readModelSource } from '../../inference/model-source.js';
import { DEFAULT_DEADLINE_US, Shield } from '../../inference/shield.js';
import { chooseEps, defaultGrid, interventionRate, sweepHeldOut, violationRate, type CalibrationRow, type CalibrationTarget, type Choice, type HeldOutTotals, type RolloutPoint } from '../../learn/calibration.js';
import { violationWithin } from '../../learn/validation.js';
import { parsePrivateKey } from '../../models/signing.js';
import { readModelDir, writeModelDir } from '../../models/model-dir.js';
import { calibrationPlotSvg, calibrationTable } from '../calibrate/report.js';
import { intOption, numberOption, parseCommandArgs, requiredOption, stringOption, stringsOption, type OptionTable, type ParsedArgs } from '../args.js';
import { createProgress } from '../progress.js';

const options: OptionTable = {
  models: { type: 'string' },
  data: { type: 'string', multiple: true },
  'violation-rate': { type: 'string' },
  'max-interventions': { type: 'string' },
  rollouts: { type: 'string' },
  seed: { type: 'string' },
  horizon: { type: 'string' },
  grid: { type: 'string' },
  out: { type: 'string' },
  'sign-key': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

function help(): string {
  return [
    'usage: rshield calibrate --models DIR [--data HELD_OUT.mcap ...] [--violation-rate X | --max-interventions Y] [options]',
    '',
    'Sweeps ε_risk over the critic of DIR: on held-out episodes (recorded data the model was not',
    'trained on) and, for a simulated robot, on shielded rollouts of its scripted controller.',
    'Prints the trade-off (ε → missed violations, interventions, successes), writes',
    'OUT/calibration.json and OUT/calibration.svg, and with a target OUT/model: a new card',
    'version with the chosen ε.',
    '',
    'options:',
    '  --models DIR           the model directory to calibrate (required)',
    '  --data FILE.mcap       held-out dataset, repeatable (also accepted as positional arguments)',
    '  --violation-rate X     target: the largest ε whose share of violating episodes is ≤ X, as',
    '                         are those of every smaller ε (rollouts; without them, violating',
    '                         held-out episodes the critic never flagged, over held-out episodes)',
    '  --max-interventions Y  target: the smallest ε whose share of ticks under recovery is ≤ Y',
    '                         (rollouts; without them, the share of held-out ticks flagged)',
    `  --rollouts N           shielded episodes per ε on the simulated robot (default 50 for`,
    `                         ${robotNames.join(', ')}; 0: held-out data only)`,
    '  --seed S               base seed of the rollouts (default 1000: not the demo\'s 0)',
    '  --horizon K            a held-out row is positive when a violation follows within K steps',
    '                         (default: the card\'s metrics.aurocHorizon, else 5)',
    '  --grid E1,E2,...       thresholds to try, each in (0, 1) (default 0.05, 0.10, ..., 0.95)',
    '  --out DIR              output directory (default rshield-calibrate)',
    '  --sign-key FILE        sign the new version (model.sig.json) with this Ed25519 key; without',
    '                         it the new directory is unsigned (hardware profiles refuse it)',
    '  --json                 print the result as one JSON object',
  ].join('\n');
}

export interface CalibrationResult {
  readonly model: { readonly dir: string; readonly version: string; readonly robot: string; readonly epsRisk: number };
  readonly horizon: number;
  readonly heldOut: HeldOutTotals & { readonly files: readonly string[] };
  readonly rollouts: { readonly episodes: number; readonly seed: number } | null;
  readonly target: CalibrationTarget | null;
  readonly rows: readonly (CalibrationRow & { readonly violationRate: number; readonly interventionRate: number })[];
  readonly chosen: { readonly eps: number; readonly version: string; readonly dir: string; readonly signed: boolean } | { readonly eps: null; readonly reason: string } | null;
  readonly files: { readonly report: string; readonly plot: string };
}

export function parseGrid(text: string | undefined): number[] {
  if (text === undefined) return defaultGrid();
  const grid = text.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map((s) => Number(s));
  const bad = grid.find((e) => !(e > 0 && e < 1));
  if (grid.length === 0 || bad !== undefined) throw new RShieldError('E_USAGE', `--grid takes thresholds in (0, 1) separated by commas, got '${text}'`, { option: 'grid' });
  return [...new Set(grid)].sort((a, b) => a - b);
}

function parseTarget(values: ParsedArgs['values']): CalibrationTarget | null {
  const rate = stringOption(values, 'violation-rate');
  const inter = stringOption(values, 'max-interventions');
  if (rate !== undefined && inter !== undefined) throw new RShieldError('E_USAGE', 'give one target: --violation-rate or --max-interventions, not both');
  const share = (name: string, text: string): number => {
    const x = numberOption(name, text, 0);
    if (!(x >= 0 && x <= 1)) throw new RShieldError('E_USAGE', `--${name} is a share in [0, 1], got ${text}`, { option: name });
    return x;
  };
  if (rate !== undefined) return { kind: 'violation-rate', max: share('violation-rate', rate) };
  if (inter !== undefined) return { kind: 'max-interventions', max: share('max-interventions', inter) };
  return null;
}

async function rolloutAt(modelDir: string, robot: string, eps: number, episodes: number, seed: number): Promise<RolloutPoint> {
  await prepareRobot(robot);
  const shield = await Shield.load({ modelDir, robot, epsRisk: eps, deadlineUs: DEFAULT_DEADLINE_US });
  const env = createEnv(robot, { seed });
  try {
    const t = await runEpisodes({ env, controller: createController(robot, { seed }), episodes, seed, shield });
    return { episodes: t.episodes, successes: t.successes, violations: t.violations, interventions: t.interventions, ticks: t.ticks };
  } finally {
    env.close?.();
    await shield.close();
  }
}

/** The chosen ε as a new card version beside the old one: same files, new version, calibration recorded. */
async function writeCalibrated(modelDir: string, outDir: string, eps: number, result: Omit<CalibrationResult, 'chosen' | 'files'>, signKey: string | undefined): Promise<{ version: string; signed: boolean }> {
  const bundle = await readModelDir(modelDir);
  const version = `${bundle.card.version}-eps${eps}`;
  const metrics = (bundle.card.metrics ?? {}) as Record<string, unknown>;
  const calibration = { fromVersion: bundle.card.version, fromEpsRisk: result.model.epsRisk, target: result.target, horizon: result.horizon, heldOutFiles: result.heldOut.files, rollouts: result.rollouts };
  const card = { ...bundle.card, version, createdAt: new Date().toISOString(), epsRisk: eps, metrics: { ...metrics, calibration } };
  await writeModelDir(outDir, { card, files: bundle.files });
  let signed = false;
  if (signKey !== undefined) {
    const pem = await readFile(signKey, 'utf8').catch((err: unknown) => {
      throw new RShieldError('E_IO', `--sign-key ${signKey}: ${(err as Error).message}`, { path: signKey });
    });
    await signModelDir(outDir, parsePrivateKey(pem, signKey));
    signed = true;
  }
  // What was written must load as it is.
  await (await Shield.load({ modelDir: outDir, robot: bundle.card.robot })).close();
  return { version, signed };
}

export interface CalibrationOptions {
  readonly modelDir: string;
  /** Held-out dataset files (may be empty when there are rollouts). */
  readonly files: readonly string[];
  readonly target: CalibrationTarget | null;
  readonly grid: readonly number[];
  readonly seed: number;
  /** Default: the card's metrics.aurocHorizon, else 5. */
  readonly horizon?: number;
  /** Default: 50 for a simulated robot, else 0. */
  readonly rollouts?: number;
  /** Where the report and plot go; the new version goes to OUT/model unless `inPlace`. */
  readonly outDir: string;
  /** Rewrite the card of `modelDir` itself (`rshield train --calibrate`: the version was just made). */
  readonly inPlace?: boolean;
  readonly signKey?: string;
}

/** Sweeps, chooses and writes; the work of `rshield calibrate` and `rshield train --calibrate`. */
export async function runCalibration(o: CalibrationOptions): Promise<CalibrationResult> {
  const { modelDir, files, target, grid, seed, outDir } = o;
  // Load through the shield first: a card or graph it would refuse is refused here too.
  const probe = await Shield.load({ modelDir });
  const card = { robot: probe.card.robot, version: probe.modelVersion, epsRisk: probe.epsRisk };
  await probe.close();
  const source = await readModelSource(modelDir);
  const cardHorizon = source.card.metrics?.aurocHorizon;
  const horizon = o.horizon ?? (typeof cardHorizon === 'number' ? cardHorizon : 5);
  const simulated = robotNames.includes(card.robot);
  const rollouts = o.rollouts ?? (simulated ? 50 : 0);
  if (rollouts > 0 && !simulated) throw new RShieldError('E_USAGE', `--rollouts needs a simulated robot; '${card.robot}' is not one (${robotNames.join(', ')})`, { option: 'rollouts' });
  if (files.length === 0 && rollouts === 0) throw new RShieldError('E_USAGE', '--data HELD_OUT.mcap is required when there are no rollouts (see rshield calibrate --help)', { option: 'data' });
  let totals: HeldOutTotals = { rows: 0, positives: 0, episodes: 0, violatingEpisodes: 0 };
  let heldOut = grid.map(() => ({ flaggedShare: 0, falseAlarmShare: 0, recall: 0, missedViolations: 0 }));
  if (files.length > 0) {
    const data = await readDataset(files);
    if (data.meta.robot !== card.robot || data.obsDim !== source.card.obsDim || data.actDim !== source.card.actDim) {
      throw new RShieldError('E_DATA', `${files.join(', ')}: data is for ${data.meta.robot} (obs ${data.obsDim}, act ${data.actDim}), the model for ${card.robot} (obs ${source.card.obsDim}, act ${source.card.actDim})`, { robot: data.meta.robot });
    }
    const swept = sweepHeldOut(await criticScores(modelDir, data.obs, data.act, data.size), violationWithin(data, horizon), data.episode, grid);
    totals = swept.totals;
    heldOut = swept.points;
  }

  const points: (RolloutPoint | undefined)[] = grid.map(() => undefined);
  if (rollouts > 0) {
    const progress = createProgress({ label: `calibrate ${card.robot}`, total: grid.length, unit: 'thresholds' });
    for (const [i, eps] of grid.entries()) {
      points[i] = await rolloutAt(modelDir, card.robot, eps, rollouts, seed);
      progress.update(i + 1, { violations: points[i]?.violations ?? 0 });
    }
    progress.stop(grid.length);
  }
  const rows = grid.map((eps, i) => {
    const r = points[i];
    const row: CalibrationRow = { eps, heldOut: heldOut[i]!, ...(r === undefined ? {} : { rollout: r }) };
    return { ...row, violationRate: violationRate(row, totals), interventionRate: interventionRate(row) };
  });

  const base = {
    model: { dir: modelDir, ...card },
    horizon,
    heldOut: { ...totals, files },
    rollouts: rollouts > 0 ? { episodes: rollouts, seed } : null,
    target,
    rows,
  };
  await mkdir(outDir, { recursive: true }).catch((err: unknown) => {
    throw new RShieldError('E_IO', `--out '${outDir}': cannot create directory: ${(err as Error).message}`, { path: outDir });
  });
  let chosen: CalibrationResult['chosen'] = null;
  if (target !== null) {
    const c: Choice = chooseEps(rows, totals, target);
    if (c.eps === null) {
      chosen = c;
    } else {
      const dir = o.inPlace === true ? modelDir : join(outDir, 'model');
      const w = await writeCalibrated(modelDir, dir, c.eps, base, o.signKey);
      chosen = { eps: c.eps, dir, ...w };
    }
  }
  const result: CalibrationResult = { ...base, chosen, files: { report: join(outDir, 'calibration.json'), plot: join(outDir, 'calibration.svg') } };
  await writeFile(result.files.report, `${JSON.stringify(result, null, 2)}\n`);
  await writeFile(result.files.plot, calibrationPlotSvg(result));
  return result;
}

/** `rshield calibrate`: ε_risk chosen from held-out data and rollouts. */
export async function calibrate(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('calibrate', argv, options);
  if (values.help === true) {
    console.log(help());
    return 0;
  }
  const horizon = stringOption(values, 'horizon');
  const rollouts = stringOption(values, 'rollouts');
  const signKey = stringOption(values, 'sign-key');
  const result = await runCalibration({
    modelDir: requiredOption(values, 'models', 'calibrate'),
    files: [...stringsOption(values, 'data'), ...positionals],
    target: parseTarget(values),
    grid: parseGrid(stringOption(values, 'grid')),
    seed: intOption('seed', stringOption(values, 'seed'), 1000),
    outDir: stringOption(values, 'out') ?? 'rshield-calibrate',
    ...(horizon === undefined ? {} : { horizon: intOption('horizon', horizon, 5, 1) }),
    ...(rollouts === undefined ? {} : { rollouts: intOption('rollouts', rollouts, 0) }),
    ...(signKey === undefined ? {} : { signKey }),
  });
  console.log(values.json === true ? JSON.stringify(result) : calibrationTable(result));
  return result.chosen !== null && result.chosen.eps === null ? 1 : 0;
}

/** `--calibrate violation-rate=X` or `max-interventions=Y` (`rshield train`). */
export function parseTargetSpec(text: string): CalibrationTarget {
  const m = /^(violation-rate|max-interventions)=(.+)$/.exec(text);
  const x = m === null ? NaN : Number(m[2]);
  if (m === null || !(x >= 0 && x <= 1)) throw new RShieldError('E_USAGE', `--calibrate takes violation-rate=X or max-interventions=Y with a share in [0, 1], got '${text}'`, { option: 'calibrate' });
  return { kind: m[1] as CalibrationTarget['kind'], max: x };
}
