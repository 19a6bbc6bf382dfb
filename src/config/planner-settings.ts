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
  /**
   * Action repeat: each of the H planned actions is held for this many model steps, so a plan
   * looks H·repeat ticks ahead with the same number of decision variables (1: the reference).
   * The rollout and its cost cover every model step; its cost grows with H·repeat.
   */
  repeat: count.default(1),
  /**
   * Where the critic scores a rollout: 'every-step' (Σ over all H·repeat model steps, the
   * reference's sum) or 'action-start' (once per planned action, at the model step where it
   * starts: H terms, about repeat× fewer critic rows; the dynamics still runs every step).
   * The same when repeat is 1.
   */
  riskAt: z.enum(['every-step', 'action-start']).default('every-step'),
  /** TS-∞ particles per sequence, a multiple of the ensemble size (reference 20). */
  particles: count,
  /** Smoothing: mean ← α·mean + (1 − α)·elite mean (reference 0.1). */
  alpha: z.number().min(0).lt(1),
  /**
   * λ of λ·‖(a_0 − a_task)/half‖²: 0 is the reference (pure risk); > 0 makes the recovery the
   * safe plan closest to what the controller wants.
   */
  taskWeight: z.number().min(0).default(0),
  /**
   * What a plan returns: 'mean', the final CEM mean (PETS, the reference), or 'best', the
   * lowest-cost sample of the last iteration (the reference's image planner): a mean of elites
   * from two detours (left and right of an obstacle) is neither, the best sample is one.
   */
  returns: z.enum(['mean', 'best']).default('mean'),
  /**
   * ρ of the sampling noise's correlation over the plan's steps: each sample's noise is
   * ρ·z + √(1 − ρ²)·z_t with z shared by its steps, so samples hold a heading and reach states
   * a detour needs (iCEM's colored noise, Pinneri et al. 2020, in its simplest form). 0: the
   * reference's independent steps.
   */
  correlation: z.number().min(0).lt(1).default(0),
  /**
   * C of the penalty C·max(0, Q_risk(ŝ_t, a_t) − ε_risk) added to every step's risk: with the
   * task and goal terms it makes "stay at or below ε along the plan" a constraint rather than
   * one term among others (0: the reference's plain Σ Q_risk).
   */
  riskPenalty: z.number().min(0).default(0),
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
export const CPU_PLANNER = { population: 64, elites: 8, iterations: 3, particles: 5, alpha: 0.1 } as const;

/** The preset's sampling settings over `base` (horizon, weights and goal stay). */
export function withPreset(base: PlannerSettings, preset: PlannerPreset): PlannerSettings {
  return { ...base, ...(preset === 'reference' ? REFERENCE_PLANNER : CPU_PLANNER) };
}
