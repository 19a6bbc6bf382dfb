/**
 * A fixed-rate control loop driven by an injected clock and timer (STYLE.md 9), for callers
 * that poll (the in-process demo, the ROS 2 node's control timer). Ticks are scheduled on an
 * absolute grid t0 + k·period so they do not drift; a tick that runs past its slot skips the
 * missed slots (counted as overruns) rather than running back to back. Ticks never overlap.
 */
import type { Clock, Timer } from './clock.js';

export interface TickLoopOptions {
  readonly periodMs: number;
  readonly clock: Clock;
  /** Only its setTimeout/clearTimeout are used. */
  readonly timer: Pick<Timer, 'setTimeout' | 'clearTimeout'>;
  /** One control tick. A rejection is reported to onError and the loop keeps going. */
  readonly tick: () => Promise<void> | void;
  readonly onError?: (err: unknown) => void;
}

export class TickLoop {
  readonly #o: TickLoopOptions;
  #handle: unknown = null;
  #running = false;
  #inFlight: Promise<void> | null = null;
  #next = 0;
  ticks = 0;
  overruns = 0;

  constructor(opts: TickLoopOptions) {
    if (!(opts.periodMs > 0)) throw new RangeError(`periodMs must be > 0, got ${opts.periodMs}`);
    this.#o = opts;
  }

  get running(): boolean {
    return this.#running;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#next = this.#o.clock.monotonicUs() / 1000;
    this.#schedule();
  }

  /** Stops scheduling and resolves once a running tick has finished. */
  async stop(): Promise<void> {
    this.#running = false;
    if (this.#handle !== null) this.#o.timer.clearTimeout(this.#handle);
    this.#handle = null;
    if (this.#inFlight !== null) await this.#inFlight;
  }

  #schedule(): void {
    if (!this.#running) return;
    const nowMs = this.#o.clock.monotonicUs() / 1000;
    const delay = Math.max(0, this.#next - nowMs);
    this.#handle = this.#o.timer.setTimeout(() => this.#fire(), delay);
  }

  #fire(): void {
    this.#handle = null;
    if (!this.#running) return;
    this.#inFlight = this.#run().finally(() => {
      this.#inFlight = null;
      const nowMs = this.#o.clock.monotonicUs() / 1000;
      this.#next += this.#o.periodMs;
      if (nowMs > this.#next) {
        // Missed one or more slots: resume on the grid after now.
        const missed = Math.ceil((nowMs - this.#next) / this.#o.periodMs);
        this.overruns += missed;
        this.#next += missed * this.#o.periodMs;
      }
      this.#schedule();
    });
  }

  async #run(): Promise<void> {
    this.ticks++;
    try {
      await this.#o.tick();
    } catch (err) {
      this.#o.onError?.(err);
    }
  }
}
