/**
 * How the shield recovers when Q_risk(s, a_task) > ε_risk:
 * - 'policy': the learned recovery policy's action π_rec(s) (thesis ch. 3; the reference).
 * - 'nearest-safe': the action closest to a_task, among a fixed candidate set, that the critic
 *   rates safe; π_rec(s) when none is (docs/shield.md "Nearest-safe recovery").
 * - 'model-based': the first action of a CEM plan over a learned dynamics ensemble that
 *   minimises Q_risk along the plan (thesis §4, PETS; docs/shield.md "Model-based recovery").
 */
export const RECOVERY_MODES = ['policy', 'nearest-safe', 'model-based'] as const;
export type RecoveryMode = (typeof RECOVERY_MODES)[number];

export function isRecoveryMode(x: unknown): x is RecoveryMode {
  return typeof x === 'string' && (RECOVERY_MODES as readonly string[]).includes(x);
}
