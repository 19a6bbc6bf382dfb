/**
 * Clock and interval timers come in through this interface (STYLE 9, MQTT.js get-timer.ts) so
 * tests drive telemetry and tick loops without sleeping.
 */
export interface Timers {
  /** Milliseconds since the epoch. */
  now(): number;
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export const realTimers: Timers = {
  now: () => Date.now(),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (handle) => clearInterval(handle as ReturnType<typeof setInterval>),
};
