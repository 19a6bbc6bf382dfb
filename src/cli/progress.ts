import cliProgress from 'cli-progress';
import { systemClock, type Clock } from '../core/clock.js';

/** Where progress goes: a terminal gets a live bar, anything else periodic lines. */
export interface ProgressStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

export interface ProgressOptions {
  /** Prefix of every line, e.g. `collect nav1`. */
  readonly label: string;
  /** Expected final count (the bar's 100 %). */
  readonly total: number;
  /** What is counted, e.g. `transitions`. */
  readonly unit: string;
  /** Default process.stderr: stdout stays for the result. */
  readonly stream?: ProgressStream;
  /** Monotonic clock (default the process clock); injected so tests drive it. */
  readonly clock?: Pick<Clock, 'monotonicUs'>;
  /** Without a terminal, one line at most this often (default 2000 ms). */
  readonly lineIntervalMs?: number;
}

/** Progress of a long job: `update` as often as convenient, it throttles itself; `stop` once. */
export interface Progress {
  /** `done` so far and extra counters shown next to it, e.g. `{ violations: 12 }`. */
  update(done: number, extra?: Readonly<Record<string, number>>): void;
  /** Ends the display; `done` is the final count (the bar closes at 100 % of it). */
  stop(done: number, extra?: Readonly<Record<string, number>>): void;
}

/** A cli-progress bar on a terminal, else a plain line every `lineIntervalMs` (CI logs, pipes). */
export function createProgress(opts: ProgressOptions): Progress {
  const stream = opts.stream ?? process.stderr;
  return stream.isTTY === true ? new BarProgress(opts, stream) : new LineProgress(opts, stream);
}

function extraText(extra: Readonly<Record<string, number>> | undefined): string {
  if (extra === undefined) return '';
  return Object.entries(extra).map(([k, v]) => `, ${v} ${k}`).join('');
}

class BarProgress implements Progress {
  readonly #bar: cliProgress.SingleBar;

  constructor(opts: ProgressOptions, stream: ProgressStream) {
    this.#bar = new cliProgress.SingleBar(
      {
        format: `${opts.label} [{bar}] {percentage}% | {value}/{total} ${opts.unit}{extra} | {duration_formatted}, ETA {eta_formatted}`,
        stream: stream as NodeJS.WritableStream,
        hideCursor: true,
        clearOnComplete: false,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    this.#bar.start(opts.total, 0, { extra: '' });
  }

  update(done: number, extra?: Readonly<Record<string, number>>): void {
    this.#bar.update(done, { extra: extraText(extra) });
  }

  stop(done: number, extra?: Readonly<Record<string, number>>): void {
    this.#bar.setTotal(Math.max(done, 1));
    this.#bar.update(done, { extra: extraText(extra) });
    this.#bar.stop();
  }
}

class LineProgress implements Progress {
  readonly #opts: ProgressOptions;
  readonly #stream: ProgressStream;
  readonly #now: () => number;
  readonly #interval: number;
  readonly #start: number;
  #last: number;

  constructor(opts: ProgressOptions, stream: ProgressStream) {
    this.#opts = opts;
    this.#stream = stream;
    const clock = opts.clock ?? systemClock;
    this.#now = () => clock.monotonicUs() / 1000;
    this.#interval = opts.lineIntervalMs ?? 2000;
    this.#start = this.#now();
    this.#last = this.#start;
  }

  update(done: number, extra?: Readonly<Record<string, number>>): void {
    const now = this.#now();
    if (now - this.#last < this.#interval) return;
    this.#last = now;
    const { label, total, unit } = this.#opts;
    const pct = total > 0 ? Math.floor((100 * done) / total) : 100;
    const elapsed = (now - this.#start) / 1000;
    const eta = done > 0 && done < total ? `, ETA ${((elapsed * (total - done)) / done).toFixed(0)} s` : '';
    this.#stream.write(`${label}: ${done}/${total} ${unit} (${pct}%)${extraText(extra)}, ${elapsed.toFixed(1)} s${eta}\n`);
  }

  stop(): void {
    // The caller prints the final summary line; a last progress line would repeat it.
  }
}
