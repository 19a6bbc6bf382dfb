import { existsSync, statSync } from 'node:fs';
import { RShieldError } from '../../core/errors.js';
import { TransitionWriter, specMeta } from '../../data/transition-writer.js';
import { createEnv, generateOfflineData, generatorInfo, robotNames, prepareRobot } from '../../envs/index.js';
import { intOption, parseCommandArgs, stringOption, stringsOption, type OptionTable } from '../args.js';
import { createProgress } from '../progress.js';

const options: OptionTable = {
  robot: { type: 'string' },
  transitions: { type: 'string' },
  seed: { type: 'string' },
  out: { type: 'string' },
  param: { type: 'string', multiple: true },
  force: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

function help(): string {
  return [
    'usage: rshield collect --robot R --transitions N --out FILE.mcap [--seed S] [--param K=V ...] [--force]',
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
  const robot = required(stringOption(values, 'robot'), 'robot');
  const info = generatorInfo(robot); // E_UNKNOWN_ROBOT lists the known robots
  const requested = intOption('transitions', required(stringOption(values, 'transitions'), 'transitions'), 0, 1);
  const seed = intOption('seed', stringOption(values, 'seed'), 0);
  const out = required(stringOption(values, 'out'), 'out');
  const params = parseParams(stringsOption(values, 'param'));
  if (existsSync(out) && values.force !== true) {
    const what = statSync(out).isDirectory() ? 'is a directory' : 'exists (pass --force to overwrite it)';
    throw new RShieldError('E_IO', `--out '${out}' ${what}`, { path: out });
  }
  // Resolve the robot (and check its parameters) before creating the file.
  await prepareRobot(robot);
  const probe = createEnv(robot, { ...params, seed });
  const { spec } = probe;
  probe.close?.();
  const source = generateOfflineData(robot, { seed, transitions: requested, params });

  const started = performance.now();
  const writer = TransitionWriter.open(out, {
    ...specMeta(spec),
    generator: info.name,
    seed,
    requested,
    params,
  });
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
      writer.write(t);
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
    writer.close();
    progress.stop(writer.count, { violations });
  }
  const seconds = (performance.now() - started) / 1000;
  const size = statSync(out).size;
  console.log(
    `collect: wrote ${writer.count} transitions (${violations} violations, ${episodes} episodes) of ${robot} to ${out}, ` +
      `${formatBytes(size)} in ${seconds.toFixed(1)} s${interrupted ? ' (interrupted)' : ''}`,
  );
  return 0;
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
