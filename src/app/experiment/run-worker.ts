/**
 * The process one run lives in (forked by runner.ts): starts the algorithm, runs its episodes,
 * writes each to the run's `.part` file and reports it. Stops after the current episode when
 * asked (a `stop` message, SIGINT from the terminal's Ctrl-C, SIGTERM, or the parent gone),
 * leaving no partial file behind.
 */
import { episodeResultSchema, parseRecord } from '../../config/experiment-records.js';
import type { AlgorithmRun, RunSpec } from '../../learn/algorithm.js';
import { prepareRobot, simulatedRobot } from '../../envs/index.js';
import { findAlgorithm, loadAlgorithms } from './registry.js';
import { RunWriter, type RunFiles } from './run-store.js';

export type WorkerRequest =
  | { readonly type: 'run'; readonly spec: RunSpec; readonly files: RunFiles; readonly modules: readonly string[] }
  | { readonly type: 'stop' };

export type WorkerReport =
  | { readonly type: 'episode'; readonly episode: number }
  | { readonly type: 'done'; readonly seconds: number }
  | { readonly type: 'stopped' }
  | { readonly type: 'error'; readonly message: string };

let stopping = false;
const stop = (): void => {
  stopping = true;
};

function report(m: WorkerReport): Promise<void> {
  return new Promise((resolve) => {
    if (process.send === undefined || !process.connected) return resolve();
    process.send(m, undefined, {}, () => resolve());
  });
}

async function execute(spec: RunSpec, files: RunFiles, modules: readonly string[]): Promise<WorkerReport> {
  const algo = findAlgorithm(spec.algo, await loadAlgorithms(modules));
  const t0 = performance.now();
  const writer = RunWriter.open(files, spec);
  let run: AlgorithmRun | undefined;
  let finished = false;
  try {
    await prepareRobot(spec.robot);
    run = await algo.start(spec, simulatedRobot(spec.robot));
    for (let e = 0; e < spec.episodes && !stopping; e++) {
      const raw = await run.episode();
      const r = parseRecord(episodeResultSchema, raw);
      if (!r.ok) throw new Error(`episode ${e}: not an EpisodeResult: ${r.issues.join('; ')}`);
      if (r.value.episode !== e) throw new Error(`episode ${e}: the algorithm reported episode ${r.value.episode}`);
      writer.append(r.value);
      await report({ type: 'episode', episode: e });
    }
    finished = !stopping;
  } finally {
    try {
      await run?.close();
    } finally {
      if (!finished) writer.abort();
    }
  }
  if (!finished) return { type: 'stopped' };
  const seconds = Number(((performance.now() - t0) / 1000).toFixed(2));
  writer.finish(seconds);
  return { type: 'done', seconds };
}

process.on('SIGINT', stop);
process.on('SIGTERM', stop);
process.on('disconnect', stop);
process.on('message', (m: WorkerRequest) => {
  if (m.type === 'stop') return stop();
  execute(m.spec, m.files, m.modules).then(
    async (r) => {
      await report(r);
      process.exit(0);
    },
    async (err: unknown) => {
      await report({ type: 'error', message: err instanceof Error ? err.message : String(err) });
      process.exit(1);
    },
  );
});
