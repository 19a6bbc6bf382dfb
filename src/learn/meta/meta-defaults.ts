/**
 * MESA's optimiser settings (reference notes §6.1–6.2) and where ours differ. The reference
 * runs 10 000 meta-iterations at outer lr 1e-5 with an inner lr that starts at ≈1e-3; on a
 * 2-core machine we run fewer iterations at a larger outer lr, and start the inner lr higher.
 * The start matters little once ℓ is learned: on dvrk-reacher-weak-axis (1500 iterations, seeds
 * 1–2) starts of 0.05 and 1e-3 gave the same meta-critic AUROC on the test robot (0.885 and 0.885)
 * while the learned rates grew to ≈0.1 and ≈0.005 (docs/results.md, MESA).
 */
export interface MetaDefaults {
  readonly iterations: number;
  /** Rows of each inner and each outer batch (reference 256). */
  readonly batch: number;
  /** Tasks per meta-iteration (reference 5). */
  readonly metaBatch: number;
  /** Outer Adam learning rate on the critic (reference 1e-5 over 10 000 iterations). */
  readonly outerLr: number;
  /** Initial inner learning rate softplus(ℓ₀) of every tensor (reference ≈ 1e-3). */
  readonly innerLr: number;
  /** Adam learning rate on ℓ (reference 1e-3). */
  readonly innerLrLr: number;
  /** Global-norm clip of the outer critic gradient (reference 40). */
  readonly clipNorm: number;
  /** Polyak rate of the TD target network toward the meta-parameters. */
  readonly tau: number;
  /** Adam learning rate of the recovery policy's one step per meta-iteration (reference 1e-4). */
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
