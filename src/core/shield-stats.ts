/**
 * Tick counters of a running shield: what operators read to know how often the shield steps in
 * and why it fell back to the fail-safe. Counting allocates nothing; `snapshot()` does.
 */
import { FAILSAFE_REASONS, failsafeIndex, type FailsafeReason } from './failsafe.js';
import { LatencyHistogram } from './latency-histogram.js';

export interface ShieldStats {
  /** Ticks decided (every decide() call). */
  readonly ticks: number;
  /** Ticks where the recovery policy's action was used. */
  readonly interventions: number;
  /** Fail-safe ticks, in total and by reason. */
  readonly failsafes: number;
  readonly failsafesByReason: Readonly<Record<FailsafeReason, number>>;
  /** Tick duration quantiles in microseconds (decide() entry to result). */
  readonly tickUs: { readonly p50: number; readonly p99: number; readonly max: number };
}

export class StatsCounter {
  ticks = 0;
  interventions = 0;
  readonly #failsafes = new Float64Array(FAILSAFE_REASONS.length);
  readonly latency = new LatencyHistogram();

  countFailsafe(reason: FailsafeReason): void {
    const i = failsafeIndex(reason);
    this.#failsafes[i] = (this.#failsafes[i] as number) + 1;
  }

  snapshot(): ShieldStats {
    const byReason = {} as Record<FailsafeReason, number>;
    let total = 0;
    FAILSAFE_REASONS.forEach((r, i) => {
      byReason[r] = this.#failsafes[i] as number;
      total += byReason[r];
    });
    return {
      ticks: this.ticks,
      interventions: this.interventions,
      failsafes: total,
      failsafesByReason: byReason,
      tickUs: { p50: this.latency.quantile(0.5), p99: this.latency.quantile(0.99), max: this.latency.max },
    };
  }

  reset(): void {
    this.ticks = 0;
    this.interventions = 0;
    this.#failsafes.fill(0);
    this.latency.reset();
  }
}
