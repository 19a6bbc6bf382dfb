/**
 * A preallocated latency histogram in microseconds: exact 1 µs buckets below 2048 µs (where
 * the tick budget lives), then 32 log-spaced buckets per octave up to ~67 s (≤ 2.2% error).
 * Recording is O(1) and allocates nothing, so it can sit on the tick path.
 */
const LINEAR = 2048;
const LINEAR_BITS = 11; // log2(LINEAR)
const PER_OCTAVE = 32;
const OCTAVES = 15; // 2^11 µs .. 2^26 µs
const BUCKETS = LINEAR + PER_OCTAVE * OCTAVES;

export class LatencyHistogram {
  readonly #counts = new Float64Array(BUCKETS);
  #total = 0;
  #max = 0;

  record(us: number): void {
    const v = us > 0 ? us : 0;
    let i: number;
    if (v < LINEAR) i = Math.floor(v);
    else {
      i = LINEAR + Math.floor((Math.log2(v) - LINEAR_BITS) * PER_OCTAVE);
      if (i >= BUCKETS) i = BUCKETS - 1;
    }
    this.#counts[i] = (this.#counts[i] as number) + 1;
    this.#total++;
    if (v > this.#max) this.#max = v;
  }

  get count(): number {
    return this.#total;
  }

  /** Largest recorded value, exact. */
  get max(): number {
    return this.#max;
  }

  /** The q-quantile (0 < q ≤ 1) as the upper edge of its bucket; 0 when empty. */
  quantile(q: number): number {
    if (this.#total === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.#total));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i] as number;
      if (seen >= rank) {
        const upper = i < LINEAR ? i + 1 : 2 ** (LINEAR_BITS + (i - LINEAR + 1) / PER_OCTAVE);
        return Math.min(upper, this.#max);
      }
    }
    return this.#max;
  }

  reset(): void {
    this.#counts.fill(0);
    this.#total = 0;
    this.#max = 0;
  }
}
