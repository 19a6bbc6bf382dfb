import { RShieldError } from '../../core/errors.js';

/**
 * The baselines' multipliers per robot (reference notes §2 table, from the reference's
 * scripts): LR's ν₀ (SQRL uses the same), RP's reward penalty, RCPO's λ₀ and RSPO's ν at the
 * first episode (twice LR's, decaying linearly to 0). dvrk-reacher: the paper gives only LR's
 * (1000); RP and RCPO take the same value and RSPO twice it, by the reference's own rule.
 */
export interface BaselineSettings {
  readonly lagrangian: number;
  readonly rewardPenalty: number;
  readonly rcpo: number;
  readonly rspoStart: number;
}

const table: Readonly<Record<string, BaselineSettings>> = {
  nav1: { lagrangian: 5000, rewardPenalty: 1000, rcpo: 1000, rspoStart: 10000 },
  nav2: { lagrangian: 1000, rewardPenalty: 3000, rcpo: 5000, rspoStart: 2000 },
  maze: { lagrangian: 100, rewardPenalty: 50, rcpo: 50, rspoStart: 200 },
  'dvrk-reacher': { lagrangian: 1000, rewardPenalty: 1000, rcpo: 1000, rspoStart: 2000 },
};

export function baselineSettings(robot: string): BaselineSettings {
  const s = Object.hasOwn(table, robot) ? table[robot] : undefined;
  if (s === undefined) throw new RShieldError('E_UNKNOWN_ROBOT', `no baseline settings for robot '${robot}' (known: ${Object.keys(table).join(', ')})`, { robot });
  return s;
}

/** The multipliers' learning rate: 0.1 × the networks' 3e-4 (reference). */
export const DUAL_LR = 3e-5;
