/**
 * A token bucket: `burst` events at once, then `perSecond` on average. Time comes in with each
 * call (ms), so the caller's injected clock drives it and tests need no sleeping.
 */
export class TokenBucket {
  readonly #perMs: number;
  readonly #burst: number;
  #tokens: number;
  #at: number;

  constructor(perSecond: number, burst: number, nowMs: number) {
    if (!(perSecond > 0) || !(burst >= 1)) throw new RangeError(`token bucket needs perSecond > 0 and burst ≥ 1, got ${perSecond}, ${burst}`);
    this.#perMs = perSecond / 1000;
    this.#burst = burst;
    this.#tokens = burst;
    this.#at = nowMs;
  }

  /** Takes a token if one is left at `nowMs`; false means over the rate. */
  take(nowMs: number): boolean {
    if (!this.available(nowMs)) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Whether a token is left at `nowMs` (without taking it). */
  available(nowMs: number): boolean {
    if (nowMs > this.#at) {
      this.#tokens = Math.min(this.#burst, this.#tokens + (nowMs - this.#at) * this.#perMs);
      this.#at = nowMs;
    }
    return this.#tokens >= 1;
  }
}
