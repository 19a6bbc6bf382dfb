/**
 * Runs an experiment's runs in a pool of worker processes (run-worker.ts), one process per
 * run so that a crash takes down only its own run. Finished runs are skipped; a stop (Ctrl-C)
 * lets every worker end after its current episode and starts nothing new.
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { PlannedRun } from './run-list.js';
import { readFinishedRun, runFiles } from './run-store.js';
import type { WorkerReport, WorkerRequest } from './run-worker.js';

export type RunEvent =
  | { readonly type: 'skipped'; readonly run: PlannedRun }
  | { readonly type: 'started'; readonly run: PlannedRun }
  | { readonly type: 'episode'; readonly run: PlannedRun; readonly episode: number }
  | { readonly type: 'finished'; readonly run: PlannedRun; readonly seconds: number }
  | { readonly type: 'failed'; readonly run: PlannedRun; readonly error: string }
  | { readonly type: 'stopped'; readonly run: PlannedRun };

export interface RunnerOptions {
  /** The experiment directory. */
  readonly dir: string;
  /** The runs to do (a shard's); finished ones are skipped. */
  readonly runs: readonly PlannedRun[];
  /** Worker processes at once. */
  readonly jobs: number;
  /** Modules (file URLs) whose `algorithms` the workers add to the registry. */
  readonly modules?: readonly string[];
  /** Aborting stops the experiment cleanly (the CLI aborts on SIGINT). */
  readonly signal?: AbortSignal;
  readonly onEvent?: (e: RunEvent) => void;
}

export interface RunnerOutcome {
  readonly skipped: string[];
  readonly finished: string[];
  readonly failed: { readonly name: string; readonly error: string }[];
  readonly stopped: string[];
  /** Runs that were to be done, not counting the skipped ones. */
  readonly pending: number;
}

function workerEntry(): { path: string; execArgv: string[] } {
  const ts = import.meta.url.endsWith('.ts');
  const url = new URL(`./run-worker${ts ? '.ts' : '.js'}`, import.meta.url);
  // From TypeScript sources (tests): the child loads tsx, resolved from here, not from the cwd.
  return { path: url.pathname, execArgv: ts ? ['--import', import.meta.resolve('tsx')] : [] };
}

/** Keeps the last `max` characters of what a worker printed, for the crash report. */
function tail(child: ChildProcess, max = 2000): () => string {
  let text = '';
  const add = (b: Buffer): void => {
    text = (text + b.toString()).slice(-max);
  };
  child.stdout?.on('data', add);
  child.stderr?.on('data', add);
  return () => text.trim();
}

function runOne(run: PlannedRun, o: RunnerOptions): Promise<RunEvent> {
  const { path, execArgv } = workerEntry();
  const child = fork(path, [], { execArgv, silent: true, serialization: 'json' });
  const printed = tail(child);
  let result: WorkerReport | undefined;
  const stop = (): void => {
    if (child.connected) child.send({ type: 'stop' } satisfies WorkerRequest);
  };
  o.signal?.addEventListener('abort', stop, { once: true });
  return new Promise((resolve) => {
    child.on('message', (m: WorkerReport) => {
      if (m.type === 'episode') o.onEvent?.({ type: 'episode', run, episode: m.episode });
      else result = m;
    });
    child.on('error', (err) => {
      result ??= { type: 'error', message: `worker failed: ${err.message}` };
    });
    child.on('exit', (code, signal) => {
      o.signal?.removeEventListener('abort', stop);
      const r = result;
      if (r?.type === 'done') return resolve({ type: 'finished', run, seconds: r.seconds });
      if (r?.type === 'stopped') return resolve({ type: 'stopped', run });
      const why = r?.type === 'error' ? r.message : `worker exited ${signal === null ? `with code ${code}` : `on ${signal}`}`;
      const out = printed();
      resolve({ type: 'failed', run, error: out === '' || r?.type === 'error' ? why : `${why}; it printed: ${out.split('\n').slice(-3).join(' | ')}` });
    });
    if (o.signal?.aborted === true) stop();
    child.send({ type: 'run', spec: run.spec, files: runFiles(o.dir, run), modules: o.modules ?? [] } satisfies WorkerRequest);
  });
}

export async function runExperiment(o: RunnerOptions): Promise<RunnerOutcome> {
  const out = { skipped: [] as string[], finished: [] as string[], failed: [] as { name: string; error: string }[], stopped: [] as string[], pending: 0 };
  const queue: PlannedRun[] = [];
  for (const run of o.runs) {
    if ((await readFinishedRun(runFiles(o.dir, run), run.spec)) !== null) {
      out.skipped.push(run.name);
      o.onEvent?.({ type: 'skipped', run });
    } else queue.push(run);
  }
  out.pending = queue.length;
  const lane = async (): Promise<void> => {
    for (let run = queue.shift(); run !== undefined && o.signal?.aborted !== true; run = queue.shift()) {
      o.onEvent?.({ type: 'started', run });
      const e = await runOne(run, o);
      o.onEvent?.(e);
      if (e.type === 'finished') out.finished.push(run.name);
      else if (e.type === 'stopped') out.stopped.push(run.name);
      else if (e.type === 'failed') out.failed.push({ name: run.name, error: e.error });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(o.jobs, queue.length)) }, lane));
  return out;
}
