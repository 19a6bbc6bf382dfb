/**
 * The fixed candidate set of the nearest-safe recovery mode (docs/shield.md "Nearest-safe
 * recovery"). Every candidate is an affine function of the proposal, in action space
 * normalised by the bounds (u = (a − mid) / half, so the box is [−1, 1]^A):
 *
 *     u_k = S_k ⊙ u_task + R_k · |u_task| + C_k,   then clipped to [−1, 1]
 *
 * which covers the proposal itself (S = 1), the proposal shrunk (S = m), rotated onto a unit
 * direction d_j at its own or half its magnitude (R = |u|·d_j), and stepped a fixed distance
 * along d_j (S = 1, C = step·d_j). The recovery policy's action is appended by the graph as
 * the last candidate. Deterministic and sized from actDim alone, so it is built once at load.
 *
 * It replaces the reference's Q-sampling recovery (1000 uniform actions, argmin Q; reference
 * §3.1) by a structured set near the proposal: the goal is the safe action that changes the
 * controller's intent least, not the safest action anywhere.
 */

/** Upper bound on the candidates (recovery action included) before direction kinds are dropped. */
export const MAX_CANDIDATES = 96;

/** Shrink factors m of the proposal (m = 0 is the middle of the box: hold, for symmetric bounds). */
const SHRINKS = [0.75, 0.5, 0.25, 0] as const;

/** Per-direction kinds in order of preference; fewer are kept when there are many directions. */
const KINDS: readonly { readonly rotate: number; readonly step: number }[] = [
  { rotate: 1, step: 0 }, // |u|·d_j: same speed, other heading
  { rotate: 0, step: 0.5 }, // u + 0.5·d_j: a nudge of a quarter of the box
  { rotate: 0.5, step: 0 }, // 0.5·|u|·d_j: half speed, other heading
  { rotate: 0, step: 0.25 }, // u + 0.25·d_j: a small nudge
];

export interface CandidateSet {
  readonly actDim: number;
  /** Candidates built from the proposal (K − 1; the recovery action is the K-th). */
  readonly count: number;
  /** Row-major [count, actDim]. */
  readonly scale: Float32Array;
  readonly radial: Float32Array;
  readonly offset: Float32Array;
  /** Number of unit directions d_j used. */
  readonly directions: number;
}

function normalise(v: number[]): number[] {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

/**
 * Unit directions covering the sphere S^{A−1}: ±1 in 1-D; 16 headings 22.5° apart in 2-D; the
 * 26 neighbours of a cube cell in 3-D (faces, edges, corners: largest gap ≈ 35°); ±e_i and
 * (±e_i ± e_j)/√2 above that.
 */
export function unitDirections(actDim: number): number[][] {
  if (actDim === 1) return [[1], [-1]];
  if (actDim === 2) {
    return Array.from({ length: 16 }, (_, j) => {
      const th = (2 * Math.PI * j) / 16;
      return [Math.cos(th), Math.sin(th)];
    });
  }
  if (actDim === 3) {
    const out: number[][] = [];
    for (let x = -1; x <= 1; x++) for (let y = -1; y <= 1; y++) for (let z = -1; z <= 1; z++) if (x !== 0 || y !== 0 || z !== 0) out.push(normalise([x, y, z]));
    // Faces first, then edges, then corners: ties in distance go to the simpler heading.
    return out.sort((a, b) => a.filter((v) => v !== 0).length - b.filter((v) => v !== 0).length);
  }
  const out: number[][] = [];
  const unit = (i: number, s: number): number[] => Array.from({ length: actDim }, (_, k) => (k === i ? s : 0));
  for (let i = 0; i < actDim; i++) out.push(unit(i, 1), unit(i, -1));
  if (2 * actDim * actDim + SHRINKS.length + 2 <= MAX_CANDIDATES) {
    for (let i = 0; i < actDim; i++) {
      for (let j = i + 1; j < actDim; j++) {
        for (const si of [1, -1]) for (const sj of [1, -1]) out.push(normalise(Array.from({ length: actDim }, (_, k) => (k === i ? si : k === j ? sj : 0))));
      }
    }
  }
  return out;
}

/** Builds the candidate set for an action space of `actDim` dimensions. */
export function nearestSafeCandidates(actDim: number): CandidateSet {
  if (!(Number.isInteger(actDim) && actDim >= 1)) throw new RangeError(`actDim must be an integer ≥ 1, got ${actDim}`);
  const dirs = unitDirections(actDim);
  const fixed = 1 + SHRINKS.length + 1; // proposal, shrinks, recovery action
  const kinds = Math.max(1, Math.min(KINDS.length, Math.floor((MAX_CANDIDATES - fixed) / dirs.length)));
  const count = 1 + SHRINKS.length + kinds * dirs.length;
  const scale = new Float32Array(count * actDim);
  const radial = new Float32Array(count * actDim);
  const offset = new Float32Array(count * actDim);
  let row = 0;
  // Row 0 is the proposal: argmin ties go to the lowest index, so it wins whenever it is safe.
  scale.fill(1, 0, actDim);
  row++;
  for (const m of SHRINKS) {
    scale.fill(m, row * actDim, (row + 1) * actDim);
    row++;
  }
  for (let k = 0; k < kinds; k++) {
    const kind = KINDS[k] as (typeof KINDS)[number];
    for (const d of dirs) {
      for (let i = 0; i < actDim; i++) {
        const at = row * actDim + i;
        const di = d[i] as number;
        if (kind.rotate > 0) radial[at] = kind.rotate * di;
        else {
          scale[at] = 1;
          offset[at] = kind.step * di;
        }
      }
      row++;
    }
  }
  return { actDim, count, scale, radial, offset, directions: dirs.length };
}
