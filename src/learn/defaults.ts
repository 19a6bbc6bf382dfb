import { RShieldError } from '../core/errors.js';
import type { PlannerSettingsInput } from '../config/planner-settings.js';

/**
 * Offline training defaults per robot. γ_risk/ε_risk follow the reference's model-free
 * recovery settings (reference notes §2 table; MESA §6.1 for cartpole); the optimiser follows
 * the reference defaults (Adam 3e-4, batch 256, τ_safe 2e-4) except where noted.
 */
export interface TrainDefaults {
  readonly gammaRisk: number;
  readonly epsRisk: number;
  /** Share of each batch drawn from violating transitions; -1 samples uniformly (reference pos_fraction). */
  readonly violationShare: number;
  readonly steps: number;
  readonly batch: number;
  readonly lr: number;
  readonly tau: number;
  /** Horizon k of the held-out AUROC: does a violation happen within the next k steps? */
  readonly aurocHorizon: number;
}

const base = { batch: 256, lr: 3e-4, steps: 10000, violationShare: -1, aurocHorizon: 5 } as const;

export const trainDefaults: Readonly<Record<string, TrainDefaults>> = {
  nav1: { ...base, gammaRisk: 0.8, epsRisk: 0.3, tau: 0.005 },
  nav2: { ...base, gammaRisk: 0.65, epsRisk: 0.2, tau: 0.005 },
  maze: { ...base, gammaRisk: 0.5, epsRisk: 0.15, violationShare: 0.3, tau: 0.005 },
  'maze-mujoco': { ...base, gammaRisk: 0.5, epsRisk: 0.15, violationShare: 0.3, tau: 0.005 },
  'cartpole-length': { ...base, gammaRisk: 0.8, epsRisk: 0.1, tau: 0.005 },
  // Object Extraction: the paper's MF recovery setting (γ 0.75, ε 0.25); its data is ~2–9% violating.
  'object-extraction': { ...base, gammaRisk: 0.75, epsRisk: 0.25, violationShare: 0.3, tau: 0.005 },
  'object-extraction-dynamic': { ...base, gammaRisk: 0.85, epsRisk: 0.35, violationShare: 0.3, tau: 0.005 },
  // MESA §6.1: HC 0.8 / 0.1 with pos_fraction 0.3; Ant 0.8 / 0.3.
  'halfcheetah-disabled': { ...base, gammaRisk: 0.8, epsRisk: 0.1, violationShare: 0.3, tau: 0.005 },
  'ant-disabled': { ...base, gammaRisk: 0.8, epsRisk: 0.3, tau: 0.005 },
  // dvrk-reacher: the paper's dVRK MF setting is (0.55, 0.05). Our simulated arm moves up to
  // 5 mm per tick toward a zone a few cm away, so risk must be seen a few ticks ahead.
  'dvrk-reacher': { ...base, gammaRisk: 0.7, epsRisk: 0.2, violationShare: 0.3, tau: 0.005 },
  // Camera robots (docs/images.md): the settings of their low-dimensional bases, with fewer,
  // smaller batches so a CPU trains the conv encoder in minutes (the reference pretrains Image
  // Maze for 30000 steps of 256 on a GPU).
  'image-maze': { ...base, gammaRisk: 0.5, epsRisk: 0.15, violationShare: 0.3, tau: 0.005, steps: 8000, batch: 128 },
  'image-maze-mujoco': { ...base, gammaRisk: 0.5, epsRisk: 0.15, violationShare: 0.3, tau: 0.005, steps: 8000, batch: 128 },
  'dvrk-reacher-image': { ...base, gammaRisk: 0.7, epsRisk: 0.2, violationShare: 0.3, tau: 0.005, steps: 3000, batch: 128 },
};

export function defaultsFor(robot: string): TrainDefaults {
  const d = trainDefaults[robot];
  if (d === undefined) {
    throw new RShieldError('E_UNKNOWN_ROBOT', `no training defaults for robot '${robot}' (known: ${Object.keys(trainDefaults).join(', ')})`, { robot });
  }
  return d;
}

/**
 * Model-based recovery defaults per robot: the plan horizon H (reference §3.2: nav 5, maze 15)
 * and the weights of the terms that make the plan serve the controller (0 = the reference's
 * pure-risk cost): λ on ‖a_0 − a_task‖², μ on the distance of the plan's end to the goal.
 */
export interface PlannerDefaults {
  readonly horizon: number;
  readonly taskWeight: number;
  readonly goalWeight: number;
  /** C of C·max(0, Q_risk − ε) per plan step: with a goal term, keeps the plan's steps at or below ε. */
  readonly riskPenalty: number;
  /** Sampling and rollout settings beyond the reference's (planner-settings.ts), where they help the robot. */
  readonly extra?: Pick<PlannerSettingsInput, 'repeat' | 'riskAt' | 'returns' | 'correlation'>;
  /** The robot's own CPU preset, where its plan is costlier than the common one (H·repeat model steps). */
  readonly cpu?: Pick<PlannerSettingsInput, 'population' | 'elites' | 'iterations'>;
}

/**
 * K of the online dynamics retraining: every K episodes, 5 epochs on all data so far (reference
 * §3.2, `recovery_policy_update_freq`: Nav 1, Maze 5, Obj 20). The robots the reference does not
 * run get the maze's 5.
 */
const dynamicsEvery: Readonly<Record<string, number>> = { nav1: 1, nav2: 1, maze: 5, 'maze-mujoco': 5, 'object-extraction': 20, 'object-extraction-dynamic': 20 };

/** Episodes between online retrainings of the dynamics ensemble (see `dynamicsEvery`). */
export function dynamicsEveryFor(robot: string): number {
  return dynamicsEvery[robot] ?? 5;
}

const planner: Readonly<Record<string, PlannerDefaults>> = {
  nav1: { horizon: 5, taskWeight: 0.1, goalWeight: 0.3, riskPenalty: 100 },
  // nav2: getting round the block takes ~20 ticks of moving against the controller's heading,
  // so each planned action is held 5 ticks (H 4: a 20-tick look-ahead), samples keep a heading
  // (ρ 0.9) and the best sample is taken (a mean of "above" and "below" detours is neither);
  // the critic scores every model step (once per held action cut the block's corners), and one
  // CEM iteration per tick on a batch of 32 — the warm start carries the search from tick to
  // tick — keeps the plan within the 50 Hz tick (docs/shield.md, "Results on nav2").
  nav2: {
    horizon: 4, taskWeight: 0.1, goalWeight: 0.3, riskPenalty: 10,
    extra: { repeat: 5, returns: 'best', correlation: 0.9 },
    cpu: { population: 32, elites: 4, iterations: 1 },
  },
  maze: { horizon: 15, taskWeight: 0.1, goalWeight: 1, riskPenalty: 100 },
  'maze-mujoco': { horizon: 15, taskWeight: 0.1, goalWeight: 1, riskPenalty: 100 },
  'cartpole-length': { horizon: 5, taskWeight: 0.1, goalWeight: 0, riskPenalty: 0 },
  'object-extraction': { horizon: 15, taskWeight: 0.1, goalWeight: 0, riskPenalty: 0 },
  'object-extraction-dynamic': { horizon: 15, taskWeight: 0.1, goalWeight: 0, riskPenalty: 0 },
  'halfcheetah-disabled': { horizon: 5, taskWeight: 0.1, goalWeight: 0, riskPenalty: 0 },
  'ant-disabled': { horizon: 5, taskWeight: 0.1, goalWeight: 0, riskPenalty: 0 },
  'dvrk-reacher': { horizon: 5, taskWeight: 0.1, goalWeight: 10, riskPenalty: 100 },
};

export function plannerDefaultsFor(robot: string): PlannerDefaults {
  defaultsFor(robot);
  const p = planner[robot];
  if (p === undefined) throw new RShieldError('E_USAGE', `robot '${robot}' has no model-based recovery (known: ${Object.keys(planner).join(', ')})`, { robot });
  return p;
}
