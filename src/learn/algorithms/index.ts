/**
 * Every learning algorithm of the comparison, as the experiment runner sees them
 * (src/learn/algorithm.ts): Recovery RL with model-free recovery and the baselines
 * of the thesis (reference notes §4), all on the one online loop (src/learn/recovery-rl) and
 * sharing its pretrained critic and D_offline. Each entry is also a factory taking loop
 * overrides (small networks in tests). New methods (model-based recovery) join the list.
 */
import { RShieldError } from '../../core/errors.js';
import type { SimulatedRobot } from '../../core/types.js';
import type { Algorithm, AlgorithmRun, RunSpec } from '../algorithm.js';
import { defaultLoopSettings, OnlineLoop, type LoopSettings } from '../recovery-rl/online-loop.js';
import { baselineSettings, DUAL_LR } from './baseline-settings.js';

export type LoopOverrides = Partial<LoopSettings>;

interface Definition {
  readonly name: string;
  readonly summary: string;
  readonly ablations: readonly string[];
  /** The loop settings of this method on `spec.robot`, before ablations. */
  settings(spec: RunSpec): LoopSettings;
}

const RECOVERY_ABLATIONS = ['no-pretraining', 'no-online', 'no-relabeling', 'offline-size'] as const;

/** Applies `name[=value]` ablations to the settings, refusing any the method does not list. */
export function applyAblations(def: Pick<Definition, 'name' | 'ablations'>, s: LoopSettings, ablations: readonly string[]): LoopSettings {
  let out = s;
  for (const a of ablations) {
    const [key, value] = a.split('=', 2) as [string, string | undefined];
    if (!def.ablations.includes(key)) {
      throw new RShieldError('E_USAGE', `algorithm ${def.name} has no ablation '${key}' (known: ${def.ablations.join(', ') || 'none'})`, { algo: def.name, ablation: a });
    }
    switch (key) {
      case 'no-pretraining':
        out = { ...out, pretrain: false };
        break;
      case 'no-online':
        out = { ...out, safetyUpdates: false };
        break;
      case 'no-relabeling':
        out = { ...out, relabel: false };
        break;
      case 'offline-size': {
        const n = Number(value);
        if (value === undefined || !Number.isInteger(n) || n < 1) {
          throw new RShieldError('E_USAGE', `ablation offline-size needs an integer ≥ 1 (offline-size=1000), got '${a}'`, { ablation: a });
        }
        out = { ...out, offlineSize: n };
        break;
      }
    }
  }
  return out;
}

function define(def: Definition): (overrides?: LoopOverrides) => Algorithm {
  return (overrides = {}) => ({
    name: def.name,
    summary: def.summary,
    ablations: def.ablations,
    async start(spec: RunSpec, robot: SimulatedRobot): Promise<AlgorithmRun> {
      const s = applyAblations(def, { ...def.settings(spec), ...overrides }, spec.ablations);
      return OnlineLoop.start(spec, s, robot);
    },
  });
}

const sacOnly: LoopSettings = { ...defaultLoopSettings, safetyCritic: false, shield: false, safetyUpdates: false };
/** The safety-critic baselines: the critic is pretrained and trained online as for Recovery RL, but never shields. */
const critiqued: LoopSettings = { ...defaultLoopSettings, shield: false };

export const recoveryRl = define({
  name: 'recovery-rl',
  summary: 'Recovery RL, model-free recovery: SAC shielded by the safety critic and π_rec, action relabeling',
  ablations: RECOVERY_ABLATIONS,
  settings: () => defaultLoopSettings,
});

export const unconstrained = define({
  name: 'unconstrained',
  summary: 'SAC alone, no safety critic',
  ablations: [],
  settings: () => sacOnly,
});

export const rewardPenalty = define({
  name: 'rp',
  summary: 'Reward penalty: SAC with r − λ on every violating step',
  ablations: [],
  settings: (spec) => ({ ...sacOnly, rewardPenalty: baselineSettings(spec.robot).rewardPenalty }),
});

export const lagrangian = define({
  name: 'lr',
  summary: 'Lagrangian relaxation: SAC policy loss + ν·(Q_risk(s, π(s)) − ε), ν learned',
  ablations: [],
  settings: (spec) => ({ ...critiqued, riskTerm: { use: 'penalty', weight: { kind: 'learned', initial: baselineSettings(spec.robot).lagrangian, lr: DUAL_LR } } }),
});

export const sqrl = define({
  name: 'sqrl',
  summary: 'SQRL: the Lagrangian SAC, actions drawn from 100 policy samples the critic rates safe',
  ablations: [],
  settings: (spec) => ({ ...critiqued, filterSamples: 100, riskTerm: { use: 'penalty', weight: { kind: 'learned', initial: baselineSettings(spec.robot).lagrangian, lr: DUAL_LR } } }),
});

export const rspo = define({
  name: 'rspo',
  summary: 'RSPO: the Lagrangian SAC with ν decaying linearly from 2·λ_LR to 0 over the run',
  ablations: [],
  settings: (spec) => ({ ...critiqued, riskTerm: { use: 'penalty', weight: { kind: 'schedule', start: baselineSettings(spec.robot).rspoStart, end: 0 } } }),
});

export const rcpo = define({
  name: 'rcpo',
  summary: 'RCPO: SAC on r − λ·Q_risk(s, a), λ learned',
  ablations: [],
  settings: (spec) => ({ ...critiqued, riskTerm: { use: 'shaping', weight: { kind: 'learned', initial: baselineSettings(spec.robot).rcpo, lr: DUAL_LR } } }),
});

/** Every algorithm, Recovery RL first, with the reference settings. */
export const algorithms: readonly Algorithm[] = [recoveryRl(), unconstrained(), rewardPenalty(), lagrangian(), sqrl(), rspo(), rcpo()];
