import { existsSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { RShieldError } from '../../core/errors.js';
import { TransitionWriter, specMeta } from '../../data/transition-writer.js';
import type { DatasetTask } from '../../data/index.js';
import { cameraOf, createEnv, generateOfflineData, generatorInfo, prepareRobot, renderFrame, robotNames, taskFamily, taskFamilyNames, type EnvOptions } from '../../envs/index.js';
import { FramedTransitionWriter } from '../../transport/ros2/image-frames.js';
import { intOption, parseCommandArgs, stringOption, stringsOption, type OptionTable } from '../args.js';
import { createProgress } from '../progress.js';

const options: OptionTable = {
  robot: { type: 'string' },
  transitions: { type: 'string' },
  seed: { type: 'string' },
  out: { type: 'string' },
  param: { type: 'string', multiple: true },
  force: { type: 'boolean' },
  'task-family': { type: 'string' },
  tasks: { type: 'string' },
  'test-transitions': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

function help(): string {
  return [
    'usage: rshield collect --robot R --transitions N --out FILE.mcap [--seed S] [--param K=V ...] [--force]',
    '       rshield collect --task-family F --tasks N --transitions T --out DIR [--test-transitions M] [--seed S] [--force]',
    '',
    'Generates the robot\'s controlled constraint-violation data (D_offline) and writes it as an',
    'MCAP dataset (docs/datasets.md). A generator may yield fewer transitions than asked for',
    '(nav rollouts stop at their first violation).',
    '',
    'options:',
    `  --robot R         simulated robot: ${robotNames.join(', ')}`,
    '  --transitions N   transitions to ask the generator for (integer ≥ 1)',
    '  --out FILE.mcap   output file; its directory must exist',
    '  --seed S          generator seed (integer ≥ 0, default 0)',
    '  --param K=V       robot parameter, repeatable: --param length=1.2, --param B=0.8,1.2',
    '  --force           overwrite FILE if it exists',
    '',
    'task families (MESA, docs/datasets.md): one file per task with its dynamics in the metadata',
    `  --task-family F   ${taskFamilyNames().join(', ')}`,
    '  --tasks N         training tasks: DIR/task-000.mcap … (T transitions each)',
    "  --test-transitions M  also the test robot's small dataset DIR/test.mcap (e.g. 200-400)",
    '',
    'Progress goes to stderr (a bar on a terminal); the summary line to stdout.',
  ].join('\n');
}

/** `rshield collect`: generate D_offline for a simulated robot into an MCAP dataset. */
export async function collect(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('collect', argv, options);
  if (values.help === true) {
    console.log(help());
    return 0;
  }
  if (positionals.length > 0) throw new RShieldError('E_USAGE', `unexpected argument '${positionals[0]}' (see rshield collect --help)`);
  const familyName = stringOption(values, 'task-family');
  if (familyName !== undefined) return collectFamily(values, familyName);
  for (const name of ['tasks', 'test-transitions']) {
    if (stringOption(values, name) !== undefined) throw new RShieldError('E_USAGE', `--${name} needs --task-family`, { option: name });
  }
  const robot = required(stringOption(values, 'robot'), 'robot');
  generatorInfo(robot); // E_UNKNOWN_ROBOT lists the known robots
  const requested = intOption('transitions', required(stringOption(values, 'transitions'), 'transitions'), 0, 1);
  const seed = intOption('seed', stringOption(values, 'seed'), 0);
  const out = required(stringOption(values, 'out'), 'out');
  const params = parseParams(stringsOption(values, 'param'));
  refuseExisting(out, values.force === true);
  const r = await writeDataset({ out, robot, seed, requested, params });
  console.log(
    `collect: wrote ${r.count} transitions (${r.violations} violations, ${r.episodes} episodes)${r.frames === null ? '' : ` and ${r.frames} camera frames`} of ${robot} to ${out}, ` +
      `${formatBytes(r.bytes)} in ${r.seconds.toFixed(1)} s${r.interrupted ? ' (interrupted)' : ''}`,
  );
  return 0;
}

/**
 * `--task-family F --tasks N`: one file per training task (`task-000.mcap` …) and, with
 * `--test-transitions M`, the test robot's small dataset (`test.mcap`), each with its
 * dynamics parameters and task in the metadata (docs/datasets.md, "Task families").
 */
async function collectFamily(values: Parameters<typeof stringOption>[0], name: string): Promise<number> {
  const family = taskFamily(name); // lists the known families
  const robotOpt = stringOption(values, 'robot');
  if (robotOpt !== undefined && robotOpt !== family.robot) {
    throw new RShieldError('E_USAGE', `--robot ${robotOpt} does not match task family '${name}' (robot ${family.robot}); leave --robot out`, { option: 'robot' });
  }
  if (stringsOption(values, 'param').length > 0) throw new RShieldError('E_USAGE', `--param cannot be combined with --task-family: the family draws each task's parameters`, { option: 'param' });
  const tasks = intOption('tasks', required(stringOption(values, 'tasks'), 'tasks'), 0, 1);
  const requested = intOption('transitions', required(stringOption(values, 'transitions'), 'transitions'), 0, 1);
  const testRequested = intOption('test-transitions', stringOption(values, 'test-transitions'), 0, 0);
  const seed = intOption('seed', stringOption(values, 'seed'), 0);
  const dir = required(stringOption(values, 'out'), 'out');
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new RShieldError('E_IO', `--out '${dir}' is a file; with --task-family it names a directory`, { path: dir });
  const jobs: { file: string; params: EnvOptions; task: DatasetTask; requested: number }[] = [];
  for (let i = 0; i < tasks; i++) jobs.push({ file: join(dir, `task-${String(i).padStart(3, '0')}.mcap`), params: family.train(seed, i), task: { family: name, index: i, split: 'train' }, requested });
  if (testRequested > 0) jobs.push({ file: join(dir, 'test.mcap'), params: family.test(seed), task: { family: name, index: 0, split: 'test' }, requested: testRequested });
  for (const j of jobs) refuseExisting(j.file, values.force === true);
  await mkdir(dir, { recursive: true });
  let total = 0;
  for (const [k, j] of jobs.entries()) {
    // Each task's generator gets its own seed, so adding tasks leaves the earlier files as they were.
    const r = await writeDataset({ out: j.file, robot: family.robot, seed: seed * 1000 + k, requested: j.requested, params: j.params, task: j.task });
    total += r.count;
    console.log(`collect: ${j.task.split} task ${j.task.index} ${JSON.stringify(j.params)}: ${r.count} transitions (${r.violations} violations) → ${j.file}`);
    if (r.interrupted) return 130;
  }
  console.log(`collect: wrote ${jobs.length} files (${total} transitions) of task family ${name} to ${dir}`);
  return 0;
}

function refuseExisting(out: string, force: boolean): void {
  if (existsSync(out) && !force) {
    const what = statSync(out).isDirectory() ? 'is a directory' : 'exists (pass --force to overwrite it)';
    throw new RShieldError('E_IO', `--out '${out}' ${what}`, { path: out });
  }
}

interface WriteJob {
  readonly out: string;
  readonly robot: string;
  readonly seed: number;
  readonly requested: number;
  readonly params: EnvOptions;
  readonly task?: DatasetTask;
}

interface WriteResult {
  readonly count: number;
  readonly violations: number;
  readonly episodes: number;
  readonly bytes: number;
  readonly seconds: number;
  readonly interrupted: boolean;
  /** Camera frames written (a camera robot), else null. */
  readonly frames: number | null;
}

/** Runs the robot's generator into one MCAP file, with a progress bar; stops cleanly on SIGINT/SIGTERM. */
async function writeDataset(job: WriteJob): Promise<WriteResult> {
  const { out, robot, seed, requested, params } = job;
  const info = generatorInfo(robot);
  // Resolve the robot (and check its parameters) before creating the file.
  await prepareRobot(robot);
  const probe = createEnv(robot, { ...params, seed });
  const { spec } = probe;
  probe.close?.();
  const source = generateOfflineData(robot, { seed, transitions: requested, params });

  const started = performance.now();
  const startTimeNs = BigInt(Date.now()) * 1_000_000n;
  const periodNs = 1_000_000n;
  const writer = TransitionWriter.open(out, {
    ...specMeta(spec),
    generator: info.name,
    seed,
    requested,
    params,
    ...(job.task === undefined ? {} : { task: job.task }),
  }, { startTimeNs, periodNs });
  // A camera robot: each state's frame on a sensor_msgs/Image channel beside the transitions.
  const camera = cameraOf(robot);
  const framed = camera === null ? null : new FramedTransitionWriter(writer, (obs) => renderFrame(camera, obs), startTimeNs, periodNs);
  const progress = createProgress({ label: `collect ${robot}`, total: requested, unit: 'transitions' });
  let violations = 0;
  let episodes = 0;
  let lastEpisode = -1;
  let interrupted = false;
  const onSignal = (): void => {
    interrupted = true;
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    let yieldedAt = performance.now();
    for (const t of source) {
      if (framed === null) writer.write(t);
      else framed.add(t);
      if (t.cost > 0) violations++;
      if (t.episode !== lastEpisode) {
        episodes++;
        lastEpisode = t.episode;
      }
      if ((writer.count & 1023) === 0) {
        progress.update(writer.count, { violations });
        // Let signals and the bar's redraw in every ~50 ms; generation itself is synchronous.
        if (performance.now() - yieldedAt > 50) {
          await new Promise((resolve) => setImmediate(resolve));
          yieldedAt = performance.now();
          if (interrupted) break;
        }
      }
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    framed?.finish();
    writer.close();
    progress.stop(writer.count, { violations });
  }
  return { count: writer.count, violations, episodes, bytes: statSync(out).size, seconds: (performance.now() - started) / 1000, interrupted, frames: framed?.frames ?? null };
}

function required(value: string | undefined, name: string): string {
  if (value === undefined || value === '') throw new RShieldError('E_USAGE', `--${name} is required (see rshield collect --help)`, { option: name });
  return value;
}

/** `K=V` pairs: V a number, a comma-separated list of numbers, true/false, or else a string. */
function parseParams(pairs: readonly string[]): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new RShieldError('E_USAGE', `--param must look like name=value, got '${pair}'`, { param: pair });
    const key = pair.slice(0, eq);
    const raw = pair.slice(eq + 1);
    const parts = raw.split(',').map((s) => s.trim());
    const nums = parts.map(Number);
    const numeric = parts.every((s) => s !== '') && nums.every(Number.isFinite);
    params[key] = numeric ? (parts.length === 1 ? nums[0] : nums) : raw === 'true' ? true : raw === 'false' ? false : raw;
  }
  return params;
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
