/**
 * When the trainer adapts the critic to a robot whose shield reports drift
 * (src/core/drift-monitor.ts, in its telemetry): once per running model version, as soon as
 * drift is suspected and `transitions` transitions have been received to adapt from. A version
 * published from the adaptation ends it (the shield swaps it in and judges it afresh); one the
 * gate refused, or that failed, is retried once `transitions` more have arrived, so each try
 * sees data the last did not.
 */
export class DriftTrigger {
  readonly #transitions: number;
  #version: string | undefined;
  #busy = false;
  #done = false;
  #retryAt = 0;

  constructor(transitions: number) {
    this.#transitions = transitions;
  }

  /**
   * A drift report of the shield running `modelVersion`, after `received` transitions reached
   * the trainer in all. True: adapt now (then call `settled`).
   */
  report(modelVersion: string, suspected: boolean, received: number): boolean {
    if (modelVersion !== this.#version) {
      this.#version = modelVersion;
      this.#done = false;
      this.#retryAt = 0;
    }
    if (!suspected || this.#busy || this.#done || received < Math.max(this.#transitions, this.#retryAt)) return false;
    this.#busy = true;
    return true;
  }

  /** The adaptation's outcome: published ends it for this model version; otherwise retry later. */
  settled(published: boolean, received: number): void {
    this.#busy = false;
    if (published) this.#done = true;
    else this.#retryAt = received + this.#transitions;
  }
}
