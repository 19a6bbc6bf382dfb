/**
 * A run's files in the experiment directory: `runs/<key>/seed-N.jsonl` (one EpisodeResult per
 * line) and `seed-N.done.json` (the marker). A run is finished when both agree with its spec;
 * anything else is redone from scratch. Episodes go to `seed-N.jsonl.part` and are renamed
 * over the JSONL only when the last one is on disk, so no half-finished run is ever summarised.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeFileSync, writeSync, mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { episodeResultSchema, parseRecord, runDoneSchema, type RunDone } from '../../config/experiment-records.js';
import type { EpisodeResult, RunSpec } from '../../learn/algorithm.js';
import type { PlannedRun } from './run-list.js';

export interface RunFiles {
  readonly jsonl: string;
  readonly part: string;
  readonly done: string;
  /** The JSONL relative to the experiment directory (as the summary names it). */
  readonly relative: string;
}

export function runFiles(dir: string, run: PlannedRun): RunFiles {
  const relative = join('runs', run.key, `seed-${run.spec.seed}.jsonl`);
  const jsonl = join(dir, relative);
  return { jsonl, part: `${jsonl}.part`, done: jsonl.replace(/\.jsonl$/, '.done.json'), relative };
}

function sameSpec(d: RunDone, s: RunSpec): boolean {
  return d.robot === s.robot && d.algo === s.algo && d.seed === s.seed && d.episodes === s.episodes && d.ablations.join('\n') === s.ablations.join('\n');
}

async function readText(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return null;
  }
}

/** The episodes of a finished run, or null when the run is missing, partial or for another spec. */
export async function readFinishedRun(files: RunFiles, spec: RunSpec): Promise<EpisodeResult[] | null> {
  const marker = await readText(files.done);
  if (marker === null) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(marker);
  } catch {
    return null;
  }
  const done = parseRecord(runDoneSchema, raw);
  if (!done.ok || !sameSpec(done.value, spec)) return null;
  const text = await readText(files.jsonl);
  if (text === null) return null;
  const lines = text.split('\n').filter((l) => l !== '');
  if (lines.length !== spec.episodes) return null;
  const episodes: EpisodeResult[] = [];
  for (const [i, line] of lines.entries()) {
    try {
      const r = parseRecord(episodeResultSchema, JSON.parse(line));
      if (!r.ok || r.value.episode !== i) return null;
      episodes.push(r.value);
    } catch {
      return null;
    }
  }
  return episodes;
}

/** Writes one run: episodes to the `.part` file, then rename and marker on finish(). */
export class RunWriter {
  readonly #files: RunFiles;
  readonly #spec: RunSpec;
  #fd: number | null;

  private constructor(files: RunFiles, spec: RunSpec, fd: number) {
    this.#files = files;
    this.#spec = spec;
    this.#fd = fd;
  }

  /** Starts the run afresh: an old marker goes first, so a crash now leaves the run unfinished. */
  static open(files: RunFiles, spec: RunSpec): RunWriter {
    mkdirSync(join(files.jsonl, '..'), { recursive: true });
    rmSync(files.done, { force: true });
    return new RunWriter(files, spec, openSync(files.part, 'w'));
  }

  append(r: EpisodeResult): void {
    if (this.#fd === null) throw new Error('RunWriter: append after close');
    writeSync(this.#fd, `${JSON.stringify(r)}\n`);
  }

  finish(seconds: number): void {
    if (this.#fd === null) throw new Error('RunWriter: finish after close');
    fsyncSync(this.#fd);
    closeSync(this.#fd);
    this.#fd = null;
    renameSync(this.#files.part, this.#files.jsonl);
    const { robot, algo, seed, episodes, ablations } = this.#spec;
    const done: RunDone = { robot, algo, seed, episodes, ablations: [...ablations], seconds, finishedAt: new Date().toISOString() };
    const tmp = `${this.#files.done}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(done)}\n`);
    renameSync(tmp, this.#files.done);
  }

  /** A stopped run leaves nothing behind but what was finished before it. */
  abort(): void {
    if (this.#fd !== null) closeSync(this.#fd);
    this.#fd = null;
    rmSync(this.#files.part, { force: true });
  }
}
