import { mkdir, rename, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RShieldError } from '../../core/errors.js';
import { knownRobot, robotNames } from '../../envs/index.js';
import { checkAblations, parseAblation, ABLATIONS } from '../../app/experiment/ablations.js';
import { collectRuns } from '../../app/experiment/collect.js';
import { algorithms, findAlgorithm, loadAlgorithms } from '../../app/experiment/registry.js';
import { parseShard, planRuns, shardRuns } from '../../app/experiment/run-list.js';
import { runExperiment, type RunEvent } from '../../app/experiment/runner.js';
import type { ExperimentSummary, MeanSe } from '../../app/experiment/summary.js';
import { intOption, parseCommandArgs, requiredOption, stringOption, stringsOption, type OptionTable } from '../args.js';
import { experimentPlots } from '../experiment/plots.js';
import { createProgress } from '../progress.js';

const options: OptionTable = {
  robot: { type: 'string' },
  algo: { type: 'string', multiple: true },
  seeds: { type: 'string' },
  episodes: { type: 'string' },
  out: { type: 'string' },
  jobs: { type: 'string' },
  shard: { type: 'string' },
  ablate: { type: 'string', multiple: true },
  module: { type: 'string', multiple: true },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

function help(): string {
  const width = Math.max(...algorithms.map((a) => a.name.length));
  return [
    'usage: rshield experiment --robot R --algo A[,B…] --out DIR [--seeds N] [--episodes E] [--jobs J]',
    '                          [--shard i/n] [--ablate X] [--json]',
    '',
    'Runs every algorithm with seeds 0 … N−1 for E episodes each, in a pool of worker processes,',
    'one JSONL of episodes per run under DIR/runs/. A finished run is never redone, so the same',
    'command resumes an interrupted experiment. Writes DIR/summary.json (successes, violations,',
    'the ratio (S+1)/(V+1) and the share of violations under recovery, mean and standard error',
    'over seeds) and DIR/ratio.svg, successes.svg, violations.svg (mean ± s.e. bands).',
    '',
    'options:',
    `  --robot R        ${robotNames.join(', ')}`,
    '  --algo A,B       algorithms (repeatable or comma-separated), see below',
    '  --out DIR        experiment directory (created; reused to resume and to merge shards)',
    '  --seeds N        seeds per algorithm (default 5)',
    '  --episodes E     episodes per run (default 100)',
    '  --jobs J         worker processes at once (default 2); each run gets ⌊cores/J⌋ ONNX Runtime threads',
    '  --shard i/n      run only the i-th of n slices of the run list (1 ≤ i ≤ n), e.g. one per',
    '                   batch job; the summary merges every finished run in DIR and names the missing',
    `  --ablate X       ${ABLATIONS.map((a) => (a === 'offline-size' ? `${a}=N` : a)).join(', ')} (repeatable);`,
    '                   an algorithm that does not list X is refused',
    '  --module FILE    also load the algorithms that FILE exports as `algorithms` (repeatable)',
    '  --json           print summary.json on stdout instead of the table',
    '',
    'algorithms:',
    ...algorithms.map((a) => `  ${a.name.padEnd(width)}  ${a.summary}${a.ablations.length > 0 ? ` (ablations: ${a.ablations.join(', ')})` : ''}`),
  ].join('\n');
}

const commaList = (xs: readonly string[]): string[] => xs.flatMap((x) => x.split(',')).map((x) => x.trim()).filter((x) => x !== '');

/** `rshield experiment`: algorithm × seed runs, resumable and shardable, summarised as the thesis does. */
export async function experiment(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('experiment', argv, options);
  if (values.help === true) {
    console.log(help());
    return 0;
  }
  if (positionals.length > 0) throw new RShieldError('E_USAGE', `unexpected argument '${positionals[0]}' (see rshield experiment --help)`);
  const robot = requiredOption(values, 'robot', 'experiment');
  knownRobot(robot);
  const algoNames = commaList(stringsOption(values, 'algo'));
  if (algoNames.length === 0) throw new RShieldError('E_USAGE', '--algo is required (see rshield experiment --help)', { option: 'algo' });
  if (new Set(algoNames).size !== algoNames.length) throw new RShieldError('E_USAGE', `--algo names an algorithm twice: ${algoNames.join(',')}`, { option: 'algo' });
  const dir = requiredOption(values, 'out', 'experiment');
  const seeds = intOption('seeds', stringOption(values, 'seeds'), 5, 1);
  const episodes = intOption('episodes', stringOption(values, 'episodes'), 100, 1);
  const jobs = intOption('jobs', stringOption(values, 'jobs'), 2, 1);
  const shard = parseShard(stringOption(values, 'shard') ?? '1/1');
  const ablations = commaList(stringsOption(values, 'ablate')).map(parseAblation);
  const modules = stringsOption(values, 'module').map((m) => pathToFileURL(resolve(m)).href);
  const known = await loadAlgorithms(modules);
  for (const name of algoNames) checkAblations(findAlgorithm(name, known), ablations);

  const threads = Math.max(1, Math.floor(availableParallelism() / jobs));
  const plan = planRuns({ robot, algos: algoNames, seeds, episodes, ablations, threads });
  const mine = shardRuns(plan, shard);
  await mkdir(dir, { recursive: true }).catch((err: unknown) => {
    throw new RShieldError('E_IO', `--out '${dir}': cannot create directory: ${(err as Error).message}`, { path: dir });
  });

  const stop = new AbortController();
  const onSigint = (): void => {
    if (!stop.signal.aborted) console.error('experiment: stopping after the current episodes (Ctrl-C again to force)');
    else process.exit(130);
    stop.abort();
  };
  process.on('SIGINT', onSigint);
  let outcome;
  try {
    const total = { episodes: 0, runs: 0, failed: 0 };
    let skipped = 0;
    let progress: ReturnType<typeof createProgress> | undefined;
    const onEvent = (e: RunEvent): void => {
      if (e.type === 'skipped') return void skipped++;
      // The runner reports every skipped run before it starts any: the total is known now.
      progress ??= createProgress({ label: `experiment ${robot}`, total: (mine.length - skipped) * episodes, unit: 'episodes' });
      if (e.type === 'episode') total.episodes++;
      else if (e.type === 'finished') total.runs++;
      else if (e.type === 'failed') {
        total.failed++;
        console.error(`experiment: run ${e.run.name} failed: ${e.error}`);
      }
      progress.update(total.episodes, { runs: total.runs, failed: total.failed });
    };
    outcome = await runExperiment({ dir, runs: mine, jobs, modules, signal: stop.signal, onEvent });
    progress?.stop(total.episodes, { runs: total.runs, failed: total.failed });
  } finally {
    process.off('SIGINT', onSigint);
  }

  const collected = await collectRuns(dir, plan, { robot, episodes, seeds });
  const summaryPath = join(dir, 'summary.json');
  await writeFile(`${summaryPath}.tmp`, `${JSON.stringify(collected.summary, null, 2)}\n`);
  await rename(`${summaryPath}.tmp`, summaryPath);
  const plots = experimentPlots(`${robot}, ${seeds} seeds × ${episodes} episodes`, collected.curves);
  for (const [file, svg] of plots) await writeFile(join(dir, file), svg);

  const shardText = shard.count > 1 ? ` (shard ${shard.index}/${shard.count}: ${mine.length} runs)` : '';
  const doneText = `runs: ${outcome.finished.length} done, ${outcome.skipped.length} already finished, ${outcome.failed.length} failed, ${outcome.stopped.length} stopped${shardText}`;
  const missingText = collected.missing.length === 0 ? `all ${plan.length} runs finished` : `${plan.length - collected.missing.length} of ${plan.length} runs finished; missing: ${collected.missing.join(', ')}`;
  if (values.json === true) {
    console.log(JSON.stringify(collected.summary));
    console.error(`experiment: ${doneText}; summary: ${missingText}`);
  } else {
    console.log([table(collected.summary), doneText, `summary: ${missingText}`, `wrote ${summaryPath}, ${[...plots.keys()].map((f) => join(dir, f)).join(', ')}`].join('\n'));
  }
  if (outcome.failed.length > 0) {
    for (const f of outcome.failed) console.error(`experiment: failed: ${f.name}: ${f.error}`);
    return 1;
  }
  return stop.signal.aborted ? 130 : 0;
}

function fmt(x: MeanSe, digits: number): string {
  if (x.mean === null) return 'n/a';
  return x.se === null ? x.mean.toFixed(digits) : `${x.mean.toFixed(digits)} ± ${x.se.toFixed(digits)}`;
}

function table(s: ExperimentSummary): string {
  const rows = [['algorithm', 'seeds', 'successes', 'violations', 'ratio', 'violations under recovery']];
  for (const [name, a] of Object.entries(s.algos)) {
    rows.push([name, String(a.runs.length), fmt(a.successes, 1), fmt(a.violations, 1), fmt(a.ratio, 2), fmt(a.recoveryViolationShare, 2)]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const lines = rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd());
  return [`rshield experiment: ${s.robot}, ${s.episodes} episodes per run, mean ± s.e. over seeds`, ...lines].join('\n');
}
