/**
 * MESA's optimiser settings (reference notes §6.1–6.2) and where ours differ. The reference
 * runs 10 000 meta-iterations at outer lr 1e-5 with an inner lr that starts at ≈1e-3; on a
 * 2-core machine we run fewer iterations at a larger outer lr, and start the inner lr higher so
 * that one inner step changes the critic enough for MAML to differ from pooled training.
 */
export interface MetaDefaults {
  readonly iterations: number;
  readonly batch: number;
  readonly metaBatch: number;
  readonly outerLr: number;
  readonly innerLr: number;
  readonly innerLrLr: number;
  readonly clipNorm: number;
  readonly tau: number;
  readonly recoveryLr: number;
}

export const metaDefaults: MetaDefaults = {
  iterations: 1000,
  batch: 256,
  metaBatch: 5,
  outerLr: 3e-4,
  innerLr: 0.05,
  innerLrLr: 1e-3,
  clipNorm: 40,
  tau: 0.005,
  recoveryLr: 3e-4,
};

/**
 * Phase 2 (adaptation to the new robot's few hundred transitions): plain Adam on the critic and
 * the recovery policy, lr 1e-3, as the reference's `update_parameters` (online_iters: nav and
 * cartpole 100). Ours default to 300 steps.
 */
export const adaptDefaults = { steps: 300, lr: 1e-3 } as const;
