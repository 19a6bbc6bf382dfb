/**
 * The trainer's quality gate: an online version goes out only when its critic is at least about
 * as good as the version the shields run now, judged on two held-out sets *apart*: the offline
 * violation demos (D_offline's held-out episodes) and the shielded robot's own held-out episodes.
 * Each must hold: AUROC of Q_risk at "violation within k steps" (src/learn/validation.ts) and the
 * share of positive rows caught at ε_risk. One pooled AUROC let every version through while the
 * shield got less safe (docs/training.md "Online"): the pooled set is mostly online episodes,
 * which the updated critic ranks well, while it lowered Q_risk on the demos' states the shield
 * now rarely visits — and AUROC alone cannot see a critic that lowers Q_risk everywhere under a
 * fixed ε.
 */
import type { ValidationScore } from './held-out.js';

/** Default allowed drop (AUROC, caught share): below the run-to-run noise of a few hundred held-out episodes. */
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
export function gateDecision(candidate: number, reference: number | undefined, tolerance: number, what = 'AUROC'): GateDecision {
  if (Number.isNaN(candidate)) return { publish: true, note: `${what} undefined (held-out set lacks positives or negatives yet); passed` };
  if (reference === undefined || Number.isNaN(reference)) return { publish: true, note: `${what} ${candidate.toFixed(4)}, no reference yet; passed` };
  const floor = reference - tolerance;
  return candidate >= floor
    ? { publish: true, note: `${what} ${candidate.toFixed(4)} ≥ ${reference.toFixed(4)} − ${tolerance}` }
    : { publish: false, note: `${what} ${candidate.toFixed(4)} < ${reference.toFixed(4)} − ${tolerance}` };
}

/** A candidate's and the running version's scores on the same held-out rows. */
export interface SetComparison {
  readonly candidate: ValidationScore;
  readonly reference: ValidationScore;
  /**
   * The start model's scores on the same rows. A floor too: judged only against the running
   * version, each accepted version could be up to the tolerance worse than the one before.
   */
  readonly start?: ValidationScore;
}

/** The two held-out sets the gate judges apart. */
export interface GateScores {
  /** D_offline's held-out episodes: the violation demos. */
  readonly offline: SetComparison;
  /** Held-out episodes of the shielded robot. */
  readonly online: SetComparison;
}

export interface GateVerdict extends GateDecision {
  readonly offline: GateDecision;
  readonly online: GateDecision;
}

const SET_NAMES = { offline: 'offline violation demos', online: 'online episodes' } as const;

/**
 * One set holds when neither its AUROC nor its caught share falls more than `tolerance` below the
 * running version's or the start model's (the higher of the two is the floor).
 */
function setDecision(s: SetComparison, tolerance: number): GateDecision {
  if (s.candidate.rows === 0) return { publish: true, note: 'no held-out rows yet; passed' };
  const floor = (k: 'auroc' | 'caught'): number => {
    const r = s.reference[k];
    const st = s.start?.[k];
    return st === undefined || Number.isNaN(st) || st <= r || Number.isNaN(r) ? r : st;
  };
  const a = gateDecision(s.candidate.auroc, floor('auroc'), tolerance, 'AUROC');
  const c = gateDecision(s.candidate.caught, floor('caught'), tolerance, 'caught');
  return { publish: a.publish && c.publish, note: `${a.note}; ${c.note} (${s.candidate.rows} rows, ${s.candidate.positives} positive)` };
}

/** Publish only when both sets hold; the note names the set(s) that failed first. */
export function gateVerdict(s: GateScores, tolerance: number): GateVerdict {
  const offline = setDecision(s.offline, tolerance);
  const online = setDecision(s.online, tolerance);
  const failed = (['offline', 'online'] as const).filter((k) => !(k === 'offline' ? offline : online).publish);
  const detail = `${SET_NAMES.offline}: ${offline.note}. ${SET_NAMES.online}: ${online.note}`;
  const note = failed.length === 0 ? `both held-out sets hold. ${detail}` : `worse on the ${failed.map((k) => SET_NAMES[k]).join(' and the ')}. ${detail}`;
  return { publish: failed.length === 0, note, offline, online };
}

/**
 * Allowed relative rise of the dynamics' held-out MSE over the running ensemble's before a
 * version keeps the running ensemble instead of the retrained one (docs/training.md "Online").
 */
export const DEFAULT_DYNAMICS_TOLERANCE = 0.05;

/** Which dynamics ensemble a version ships, and why. */
export interface DynamicsDecision {
  readonly ship: 'retrained' | 'running';
  readonly note: string;
}

/**
 * Ship the retrained ensemble when its held-out MSE of s′ is at most the running one's ×
 * (1 + tolerance) on the same rows; NaN (no held-out rows) ships it with a note. A worse one is
 * not a reason to hold back the critic: the version goes out with the running ensemble.
 */
export function dynamicsDecision(candidate: number, running: number, tolerance: number): DynamicsDecision {
  if (Number.isNaN(candidate) || Number.isNaN(running)) return { ship: 'retrained', note: 'dynamics held-out MSE undefined (no held-out rows yet, or the running ensemble cannot be scored); shipped the retrained ensemble' };
  const ceiling = running * (1 + tolerance);
  return candidate <= ceiling
    ? { ship: 'retrained', note: `dynamics held-out MSE ${candidate.toPrecision(4)} ≤ ${running.toPrecision(4)} × ${1 + tolerance}; shipped the retrained ensemble` }
    : { ship: 'running', note: `dynamics held-out MSE ${candidate.toPrecision(4)} > ${running.toPrecision(4)} × ${1 + tolerance}; kept the running ensemble` };
}
