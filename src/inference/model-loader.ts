/**
 * Loads a model directory into a ready RiskModel: card, files, IO check, optional fusion,
 * sessions, check batch. Used both at start-up and beside a running shield for a hot-swap;
 * anything wrong is refused here with E_MODEL, before a robot depends on it. The protobuf work
 * (files, IO check, fusion, nearest-safe graph) is model-prep.ts; here, sessions from its bytes
 * and the check batch. It all runs on the calling thread: a worker thread for the protobuf work
 * was measured and neither lowered RSS nor main-thread time (docs/shield.md, "Hot-swap memory").
 */
import { join } from 'node:path';
import { RShieldError } from '../core/errors.js';
import type { RecoveryMode } from '../core/recovery-mode.js';
import type { RiskModel } from '../core/risk-model.js';
import { sanityCheck } from '../core/sanity-check.js';
import type { ModelCard } from '../config/model-card.js';
import { NearestSafeRiskModel, checkNearestSafe } from './nearest-safe-model.js';
import { PlannerRiskModel, checkDynamics, checkPlanner } from './planner-model.js';
import { actionMid } from './cem-graph.js';
import { withPreset, type PlannerPreset, type PlannerSettings } from '../config/planner-settings.js';
import { prepModel } from './model-prep.js';
import { readModelSource, type ModelSource } from './model-source.js';
import { FusedRiskModel, SeparateRiskModel } from './onnx-risk-model.js';
import type { SessionFactory } from './session-factory.js';

export interface LoadedModel {
  readonly card: ModelCard;
  readonly dir: string;
  readonly model: RiskModel;
  /** One fused session (true) or critic and recovery sessions (false). */
  readonly fused: boolean;
  /** Why fusion was not used, when it was wanted. */
  readonly fuseNote: string | null;
  /** The recovery mode the model was built for (option, else the card's). */
  readonly recoveryMode: RecoveryMode;
}

export interface LoadModelOptions {
  readonly modelDir: string;
  /** The directory's bytes, already read (a replacement worker loads from these); else read from modelDir. */
  readonly source?: ModelSource;
  /** Refuse a card for another robot. */
  readonly robot?: string;
  /** 'auto' fuses when the graphs allow it; false always runs two sessions. */
  readonly fuse: 'auto' | false;
  readonly sessions: SessionFactory;
  /** Overrides the card's recovery mode; 'nearest-safe' builds the search session, 'model-based' the planner. */
  readonly recoveryMode?: RecoveryMode;
  /** Model-based: the planner's sampling preset over the card's settings (default: the card's). */
  readonly plannerPreset?: PlannerPreset;
}

/** The planner's settings in model-based mode (the card's, with the preset applied), else null. */
function plannerSettings(card: ModelCard, mode: RecoveryMode, preset: PlannerPreset | undefined, label: string): PlannerSettings | null {
  if (mode !== 'model-based') return null;
  if (card.planner === undefined || card.dynamics === undefined) {
    throw new RShieldError('E_MODEL', `${label}: recovery mode 'model-based' needs a card with 'dynamics' and 'planner' parts (train with rshield train --recovery model-based)`, { robot: card.robot });
  }
  return preset === undefined ? card.planner : withPreset(card.planner, preset);
}

export async function loadModel(o: LoadModelOptions): Promise<LoadedModel> {
  const source = o.source ?? (await readModelSource(o.modelDir));
  const { card } = source;
  if (o.robot !== undefined && card.robot !== o.robot) {
    throw new RShieldError('E_MODEL', `${join(o.modelDir, 'model.json')}: model is for robot '${card.robot}', not '${o.robot}'`, {
      robot: o.robot,
      cardRobot: card.robot,
    });
  }
  const recoveryMode = o.recoveryMode ?? card.recoveryMode;
  const label = `${card.robot} model ${card.version} (${o.modelDir})`;
  if (card.image !== undefined) {
    throw new RShieldError('E_MODEL', `${label}: an image model (its card has 'image'): it needs camera frames, load it with ImageShield (docs/images.md)`, { robot: card.robot });
  }
  const planner = plannerSettings(card, recoveryMode, o.plannerPreset, label);
  const prepped = prepModel({ source, fuse: o.fuse === 'auto', nearestSafe: recoveryMode === 'nearest-safe', planner });
  const wiring = { obsDim: card.obsDim, actDim: card.actDim, qRank: prepped.criticOutputRank };

  let tick: FusedRiskModel | SeparateRiskModel;
  const s = prepped.sessions;
  if (s.kind === 'fused') {
    tick = new FusedRiskModel(await o.sessions.createTick(s.bytes, `${label}, fused critic+recovery`), wiring);
  } else {
    const cs = await o.sessions.createTick(s.critic, s.criticPath);
    let rs;
    try {
      rs = await o.sessions.createTick(s.recovery, s.recoveryPath);
    } catch (err) {
      cs.direct?.dispose();
      await cs.session.release();
      throw err;
    }
    const c = card.critic;
    tick = new SeparateRiskModel(cs, rs, wiring, {
      criticObs: c.inputs.obs,
      criticAct: c.inputs.act,
      criticOut: c.output,
      recoveryIn: card.recovery.input,
      recoveryOut: card.recovery.output,
    });
  }
  const directWhy = await tick.checkDirect().catch(async (err: unknown) => {
    await tick.close();
    throw err;
  });
  if (directWhy !== null) o.sessions.warnDirect(`${label}: the direct session was not used: ${directWhy}`);
  let model: RiskModel = tick;
  const bounds = {
    actLow: Float32Array.from(card.actLow),
    actHigh: Float32Array.from(card.actHigh),
    ...(card.obsLow !== undefined && card.obsHigh !== undefined ? { obsLow: Float32Array.from(card.obsLow), obsHigh: Float32Array.from(card.obsHigh) } : {}),
    label,
  };
  try {
    if (prepped.nearestSafe !== null) {
      const search = await o.sessions.create(prepped.nearestSafe.bytes, `${label}, nearest-safe search`);
      const ns = new NearestSafeRiskModel(model, search, prepped.nearestSafe.batch);
      model = ns;
      await checkNearestSafe(ns, bounds);
    }
    if (prepped.planner !== null) {
      const check = await o.sessions.create(prepped.planner.dynamics, prepped.planner.dynamicsPath);
      try {
        await checkDynamics(check, card, label);
      } finally {
        await check.release();
      }
      const session = await o.sessions.create(prepped.planner.bytes, `${label}, CEM planner`);
      const pm = new PlannerRiskModel(model, session, { horizon: prepped.planner.settings.horizon, repeat: prepped.planner.settings.repeat, mid: actionMid(card) });
      model = pm;
      await checkPlanner(pm, bounds);
    }
    await sanityCheck(model, bounds);
  } catch (err) {
    await model.close();
    throw err;
  }
  return { card, dir: o.modelDir, model, fused: s.kind === 'fused', fuseNote: prepped.fuseNote, recoveryMode };
}
