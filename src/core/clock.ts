/**
 * Time and timers, injected (STYLE.md 9), so tests drive tick loops, telemetry and staleness
 * without sleeping. Two clock readings because they answer different questions:
 * `nowMs` is the wall clock that state timestamps are stamped in (staleness); `monotonicUs`
 * measures tick durations and never jumps.
 */
export interface Clock {
  /** Wall-clock milliseconds, the time base of state stamps (Unix epoch by default). */
  nowMs(): number;
  /** Monotonic microseconds, for durations only. */
  monotonicUs(): number;
}

/** The process clocks. `performance.now()` returns a double: reading it allocates nothing. */
export const systemClock: Clock = {
  nowMs: () => Date.now(),
  monotonicUs: () => performance.now() * 1000,
};

/** One-shot and interval timers (the tick loop, telemetry beats). */
export interface Timer {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

/** The process timers. */
export const systemTimer: Timer = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (h) => clearInterval(h as ReturnType<typeof setInterval>),
};
