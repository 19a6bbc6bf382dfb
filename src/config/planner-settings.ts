/**
 * Settings of the CEM planner of model-based recovery (thesis §4; reference notes §3.2), and
 * the two presets: the reference's and a CPU default sized for a tick budget (docs/shield.md,
 * "Model-based recovery"; `npm run bench -- cem` measures both).
 */
import { z } from 'zod';

const count = z.number().int().positive();

export const PlannerGoalSchema = z.object({
  /** Observation coordinates that hold the position to reach. */
  dims: z.array(z.number().int().nonnegative()).min(1),
  /** Where they should go (same units as the observation). */
  target: z.array(z.number().finite()).min(1),
  /** Weight of ‖ŝ_H[dims] − target‖ (mean over particles) in the plan cost. */
  weight: z.number().min(0),
});

export const PlannerSettingsSchema = z.object({
  /** Action sequences sampled per CEM iteration (reference 400). */
  population: count,
  /** Lowest-cost sequences the distribution is refitted to (reference 40). */
  elites: count,
  /** CEM iterations per plan (reference 5). */
  iterations: count,
  /** Plan length H (reference: nav 5, maze and extraction 15). */
  horizon: count,
  /** TS-∞ particles per sequence, a multiple of the ensemble size (reference 20). */
  particles: count,
  /** Smoothing: mean ← α·mean + (1 − α)·elite mean (reference 0.1). */
  alpha: z.number().min(0).lt(1),
  /**
   * λ of λ·‖(a_0 − a_task)/half‖²: 0 is the reference (pure risk); > 0 makes the recovery the
   * safe plan closest to what the controller wants.
   */
  taskWeight: z.number().min(0).default(0),
  /** Goal progress term, where the robot's goal is a fixed point of its state. */
  goal: PlannerGoalSchema.optional(),
});

export type PlannerSettings = z.output<typeof PlannerSettingsSchema>;
export type PlannerSettingsInput = z.input<typeof PlannerSettingsSchema>;

export const PLANNER_PRESETS = ['reference', 'cpu'] as const;
export type PlannerPreset = (typeof PLANNER_PRESETS)[number];

/** The reference's CEM: pop 400, 40 elites, 5 iterations, 20 particles (reference §3.2). */
export const REFERENCE_PLANNER = { population: 400, elites: 40, iterations: 5, particles: 20, alpha: 0.1 } as const;
/**
 * The CPU default: a twelfth of the reference's batch, sized so a plan's p99 stays within
 * 20 ms on a 2-core machine (bench/cem.ts). One particle per member keeps TS-∞'s model
 * disagreement; fewer iterations are paid back by the warm start.
 */
export const CPU_PLANNER = { population: 100, elites: 10, iterations: 3, particles: 5, alpha: 0.1 } as const;

/** The preset's sampling settings over `base` (horizon, weights and goal stay). */
export function withPreset(base: PlannerSettings, preset: PlannerPreset): PlannerSettings {
  return { ...base, ...(preset === 'reference' ? REFERENCE_PLANNER : CPU_PLANNER) };
}
