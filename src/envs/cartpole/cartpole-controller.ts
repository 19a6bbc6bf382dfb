import type { Controller } from '../../core/types.js';
import { CartpoleIntegrator } from './dynamics.js';
import { CARTPOLE_DEFAULT_LENGTH, CARTPOLE_MAX_ACTION } from './cartpole-env.js';

/** LQR weights on [x, θ, ẋ, θ̇] and on the action (in gear units). */
const Q = [1, 10, 0.1, 0.1];
const R = 0.05;

/**
 * Balance controller: discrete-time LQR on the env's own step map, linearised at the upright
 * equilibrium by central differences (so the gains match RK4 + frame skip exactly), then
 * a = clip(−K s, ±3). Designed for one pole length (default 1 m); it keeps poles of 0.4–1 m up.
 */
export class CartpoleLqrController implements Controller {
  readonly gains: Float64Array;

  constructor(length = CARTPOLE_DEFAULT_LENGTH) {
    this.gains = lqrGains(length);
  }

  act(obs: Float32Array): Float32Array {
    let u = 0;
    for (let i = 0; i < 4; i++) u -= (this.gains[i] as number) * (obs[i] as number);
    return Float32Array.of(u < -CARTPOLE_MAX_ACTION ? -CARTPOLE_MAX_ACTION : u > CARTPOLE_MAX_ACTION ? CARTPOLE_MAX_ACTION : u);
  }

  reset(): void {}
}

/** K of u = −K s for the linearised step s' ≈ A s + B u, by iterating the Riccati recursion. */
const idx = [0, 1, 2, 3];
const at = (m: number[][], i: number, j: number): number => (m[i] as number[])[j] as number;

export function lqrGains(length: number): Float64Array {
  const integ = new CartpoleIntegrator(length);
  const h = 1e-6;
  const A: number[][] = [[], [], [], []];
  const B: number[] = [];
  const column = (j: number, du: number): number[] => {
    const plus = new Float64Array(4);
    const minus = new Float64Array(4);
    if (j >= 0) {
      plus[j] = h;
      minus[j] = -h;
    }
    integ.step(plus, du);
    integ.step(minus, -du);
    return Array.from(plus, (p, i) => (p - (minus[i] as number)) / (2 * h));
  };
  for (let j = 0; j < 4; j++) {
    const col = column(j, 0);
    for (let i = 0; i < 4; i++) (A[i] as number[])[j] = col[i] as number;
  }
  // Column -1 perturbs the action instead of the state: ∂s'/∂u.
  B.push(...column(-1, h));
  let P = Q.map((q, i) => Q.map((_, j) => (i === j ? q : 0)));
  let K = [0, 0, 0, 0];
  for (let it = 0; it < 2000; it++) {
    const PB = P.map((row) => row.reduce((acc, p, k) => acc + p * (B[k] as number), 0));
    const BPB = PB.reduce((acc, v, k) => acc + v * (B[k] as number), 0);
    const BPA = [0, 1, 2, 3].map((j) => PB.reduce((acc, v, k) => acc + v * ((A[k] as number[])[j] as number), 0));
    K = BPA.map((v) => v / (R + BPB));
    const Acl = A.map((row, i) => row.map((a, j) => a - (B[i] as number) * (K[j] as number)));
    // Stable symmetric form of the recursion: P = Q + KᵀRK + Aclᵀ P Acl.
    const PAcl = P.map((row) => idx.map((j) => row.reduce((acc, p, k) => acc + p * at(Acl, k, j), 0)));
    const next = idx.map((i) =>
      idx.map(
        (j) =>
          (i === j ? (Q[i] as number) : 0) +
          R * (K[i] as number) * (K[j] as number) +
          idx.reduce((acc, k) => acc + at(Acl, k, i) * at(PAcl, k, j), 0),
      ),
    );
    const delta = Math.max(...next.flatMap((row, i) => row.map((v, j) => Math.abs(v - at(P, i, j)))));
    P = next;
    if (delta < 1e-9) break;
  }
  return Float64Array.from(K);
}
