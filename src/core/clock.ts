/**
 * Time, injected (STYLE.md 9). Two readings because they answer different questions:
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
