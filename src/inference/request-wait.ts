/**
 * How an inference worker waits for its next hand-off request (DESIGN.md decision 8). Sleeping
 * in Atomics.wait until notified makes every tick pay the wake-up of a sleeping thread — on a
 * virtual machine whose vCPU went idle, ~100 µs (docs/shield.md, "Watchdog"). So the worker
 * spins briefly after each answer (the tick's next request, back-to-back ticks), and, for a
 * paced tick, learns the period and sleeps with a timeout until shortly before the next tick is
 * due, then spins until it comes. A request that comes at an unexpected time is still answered:
 * it wakes the sleeping worker as before (counted as `slept`).
 */
import { ASLEEP, REQ, SPIN_CHECK, WAKE_PREDICTED, WAKE_SLEPT, WAKE_SPUN } from './handoff.js';

export interface WakeSettings {
  /** Spin on the request word this long after each answer before sleeping (µs; 0: none). */
  readonly spinUs: number;
  /**
   * Predictive wake (µs; 0: off): sleep until this long (plus the period's jitter, up to as much
   * again) before the next tick is expected, then spin until it comes, at most this long past
   * the expected time; never more than a quarter period either way.
   */
  readonly leadUs: number;
}

/** Gaps longer than this are pauses, not a tick period: nothing is predicted from them. */
const MAX_PERIOD_US = 1_000_000;
/** A timed sleep shorter than this is not worth its wake-up: spin instead. */
const MIN_SLEEP_US = 50;
/** Consecutive gaps far from the period before the period is learnt afresh (the rate changed). */
const RELEARN_AFTER = 3;

/**
 * The period of the ticks' first requests, learnt from their arrival times (µs): an average with
 * weight 1/8 and the mean deviation from it (the jitter). A gap more than 4× the period, or
 * under a quarter of it, is an outlier (a pause, a burst); three in a row restart the estimate.
 */
export class TickPredictor {
  #prevUs = Number.NaN;
  #periodUs = 0;
  #jitterUs = 0;
  #outliers = 0;

  observe(atUs: number): void {
    const gap = atUs - this.#prevUs;
    this.#prevUs = atUs;
    if (!(gap > 0 && gap <= MAX_PERIOD_US)) return;
    const p = this.#periodUs;
    const outlier = p > 0 && (gap > 4 * p || gap < p / 4);
    if (outlier && ++this.#outliers < RELEARN_AFTER) return;
    if (p === 0 || outlier) {
      this.#periodUs = gap;
      this.#jitterUs = 0;
      this.#outliers = 0;
      return;
    }
    this.#outliers = 0;
    this.#jitterUs += (Math.abs(gap - p) - this.#jitterUs) / 8;
    this.#periodUs += (gap - p) / 8;
  }

  /** When the next tick's first request is expected (µs); NaN while no period is known. */
  nextUs(): number {
    return this.#periodUs > 0 ? this.#prevUs + this.#periodUs : Number.NaN;
  }

  get periodUs(): number {
    return this.#periodUs;
  }

  get jitterUs(): number {
    return this.#jitterUs;
  }
}

const nowUs = (): number => performance.now() * 1000;

/**
 * Blocks until the request word `REQ` of `ctrl` differs from `last` and returns it. Counts in
 * `ctrl` how each request was met: WAKE_SPUN (during the spin after an answer), WAKE_PREDICTED
 * (during the spin around the predicted time), WAKE_SLEPT (woken from a sleep by the notify).
 */
export function waitForRequest(ctrl: Int32Array, last: number, s: WakeSettings, p: TickPredictor): number {
  let now = nowUs();
  // The tick's next request (recovery, search) or a back-to-back tick: not a tick period. The
  // time is read every SPIN_CHECK polls only: in a worker a reading boxes a double, and read on
  // every poll, 1 000 requests met while spinning cost ~84 minor GCs there (request-wait.test.ts).
  const spinEnd = now + s.spinUs;
  for (let n = 1; ; n++) {
    const r = Atomics.load(ctrl, REQ);
    if (r !== last) {
      ctrl[WAKE_SPUN] = ((ctrl[WAKE_SPUN] as number) + 1) | 0;
      return r;
    }
    if (s.spinUs > 0 && (n & (SPIN_CHECK - 1)) !== 0) continue;
    now = nowUs();
    if (now >= spinEnd) break;
  }
  const due = s.leadUs > 0 ? p.nextUs() : Number.NaN;
  if (due === due) {
    // Earlier by the jitter (up to twice the lead), at most a quarter period: the spin is bounded
    // by 3 leads a tick and never covers the gap between ticks.
    const early = Math.min(s.leadUs + Math.min(p.jitterUs, s.leadUs), p.periodUs / 4);
    const sleepUs = due - early - now;
    if (sleepUs > MIN_SLEEP_US && sleep(ctrl, last, sleepUs / 1000) !== 'timed-out') return met(ctrl, WAKE_SLEPT, p, nowUs());
    const spinUntil = due + Math.min(s.leadUs, p.periodUs / 4);
    now = nowUs();
    for (let n = 1; now < spinUntil; n++) {
      if (Atomics.load(ctrl, REQ) !== last) return met(ctrl, WAKE_PREDICTED, p, nowUs());
      if ((n & (SPIN_CHECK - 1)) === 0) now = nowUs();
    }
  }
  while (Atomics.load(ctrl, REQ) === last) sleep(ctrl, last, Infinity);
  return met(ctrl, WAKE_SLEPT, p, nowUs());
}

/** Atomics.wait on the request word, with ASLEEP set meanwhile (handoff.ts). */
function sleep(ctrl: Int32Array, last: number, ms: number): 'ok' | 'not-equal' | 'timed-out' {
  Atomics.store(ctrl, ASLEEP, 1);
  const r = Atomics.wait(ctrl, REQ, last, ms);
  Atomics.store(ctrl, ASLEEP, 0);
  return r;
}

function met(ctrl: Int32Array, counter: number, p: TickPredictor, atUs: number): number {
  ctrl[counter] = ((ctrl[counter] as number) + 1) | 0;
  p.observe(atUs);
  return Atomics.load(ctrl, REQ);
}
