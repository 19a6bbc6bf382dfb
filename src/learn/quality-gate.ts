/**
 * The trainer's quality gate: an online version goes out only when its critic ranks held-out
 * violations (AUROC of Q_risk at "violation within k steps", src/learn/validation.ts) at least
 * about as well as the version the shields run now. Unconditional online updates made a good
 * model measurably worse (docs/training.md "Online": dvrk-reacher shipped 0.924 → 0.905, violating
 * episodes 3 → 9 of 500); the gate keeps such versions off the robot.
 */

/** Default allowed AUROC drop: below the run-to-run noise of a few hundred held-out episodes. */
export const DEFAULT_GATE_TOLERANCE = 0.005;

export interface GateDecision {
  readonly publish: boolean;
  /** Why, in words (for the log line). */
  readonly note: string;
}

/**
 * Publish when `candidate ≥ reference − tolerance`. A NaN candidate (the held-out set has no
 * positives or no negatives yet, so AUROC is undefined) passes with a note, as does a missing
 * or NaN reference: there is nothing to compare against yet.
 */
export function gateDecision(candidate: number, reference: number | undefined, tolerance: number): GateDecision {
  if (Number.isNaN(candidate)) return { publish: true, note: 'AUROC undefined (held-out set lacks positives or negatives yet); passed' };
  if (reference === undefined || Number.isNaN(reference)) return { publish: true, note: `AUROC ${candidate.toFixed(4)}, no reference yet; passed` };
  const floor = reference - tolerance;
  return candidate >= floor
    ? { publish: true, note: `AUROC ${candidate.toFixed(4)} ≥ ${reference.toFixed(4)} − ${tolerance}` }
    : { publish: false, note: `AUROC ${candidate.toFixed(4)} < ${reference.toFixed(4)} − ${tolerance} (last accepted version)` };
}
