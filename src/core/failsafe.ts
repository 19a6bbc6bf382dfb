/**
 * Fail-safe rules (DESIGN.md "Failure behaviour"): when the shield cannot trust its decision it
 * publishes the robot's configured fail-safe action (dVRK: hold) instead, counts the reason and
 * carries on — it never crashes the control loop.
 */
export const FAILSAFE_REASONS = ['bad-length', 'non-finite', 'stale', 'inference-error', 'deadline', 'out-of-range', 'stale-image', 'bad-frame'] as const;
/**
 * - bad-length: obs or proposed action has the wrong number of values
 * - non-finite: NaN or ±Inf in obs or proposed action
 * - stale: the state stamp is 0 or older than `staleAfterMs`
 * - inference-error: the model threw, or returned a non-finite Q_risk or recovery action
 * - deadline: the tick took longer than `deadlineUs`, or inference is known to be stuck
 * - out-of-range: the critic returned a Q_risk outside [0, 1] (it is a probability)
 * - stale-image: an image model has no encoded frame, or its newest is older than `imageStaleAfterMs`
 * - bad-frame: the newest camera frame could not be read (encoding, size, step, truncated data)
 */
export type FailsafeReason = (typeof FAILSAFE_REASONS)[number];

/** Index of a reason in FAILSAFE_REASONS, for counters kept in a typed array. */
export function failsafeIndex(reason: FailsafeReason): number {
  return FAILSAFE_REASONS.indexOf(reason);
}

function allFinite(x: ArrayLike<number>): boolean {
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) return false;
  }
  return true;
}

/** Checks one tick's inputs; null when they are usable. Non-allocating. */
export function checkInputs(obs: ArrayLike<number> | null | undefined, proposed: ArrayLike<number> | null | undefined, obsDim: number, actDim: number): FailsafeReason | null {
  if (obs?.length !== obsDim || proposed?.length !== actDim) return 'bad-length';
  if (!allFinite(obs) || !allFinite(proposed)) return 'non-finite';
  return null;
}

/** Staleness: a zero stamp means "never received"; otherwise older than `staleAfterMs` is stale. */
export function isStale(stateStampMs: number, nowMs: number, staleAfterMs: number): boolean {
  if (stateStampMs === 0 || !Number.isFinite(stateStampMs)) return true;
  return nowMs - stateStampMs > staleAfterMs;
}

/** Whether every value is finite (used on model outputs). */
export { allFinite };
