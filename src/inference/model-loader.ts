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
import { MODEL_CARD_FILE, parseModelCard, type ModelCard } from '../config/model-card.js';
import { loadModelCard, type ModelBundle } from '../models/model-dir.js';
import { NearestSafeRiskModel, checkNearestSafe } from './nearest-safe-model.js';
import { prepModel } from './model-prep.js';
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
  /** Refuse a card for another robot. */
  readonly robot?: string;
  /** 'auto' fuses when the graphs allow it; false always runs two sessions. */
  readonly fuse: 'auto' | false;
  readonly sessions: SessionFactory;
  /** Overrides the card's recovery mode; 'nearest-safe' builds the search session. */
  readonly recoveryMode?: RecoveryMode;
  /** Verified card and files, used instead of reading `modelDir` (which then only names them). */
  readonly bundle?: ModelBundle;
}

export async function loadModel(o: LoadModelOptions): Promise<LoadedModel> {
  const card = o.bundle === undefined ? await loadModelCard(o.modelDir) : parseModelCard(o.bundle.card, join(o.modelDir, MODEL_CARD_FILE));
  if (o.robot !== undefined && card.robot !== o.robot) {
    throw new RShieldError('E_MODEL', `${join(o.modelDir, 'model.json')}: model is for robot '${card.robot}', not '${o.robot}'`, {
      robot: o.robot,
      cardRobot: card.robot,
    });
  }
  const recoveryMode = o.recoveryMode ?? card.recoveryMode;
  const prepped = await prepModel({ modelDir: o.modelDir, ...(o.bundle === undefined ? {} : { files: o.bundle.files }), card, fuse: o.fuse === 'auto', nearestSafe: recoveryMode === 'nearest-safe' });
  const wiring = { obsDim: card.obsDim, actDim: card.actDim, qRank: prepped.criticOutputRank };
  const label = `${card.robot} model ${card.version} (${o.modelDir})`;

  let model: RiskModel;
  const s = prepped.sessions;
  if (s.kind === 'fused') {
    model = new FusedRiskModel(await o.sessions.create(s.bytes, `${label}, fused critic+recovery`), wiring);
  } else {
    const cs = await o.sessions.create(s.critic, s.criticPath);
    let rs;
    try {
      rs = await o.sessions.create(s.recovery, s.recoveryPath);
    } catch (err) {
      await cs.release();
      throw err;
    }
    const c = card.critic;
    model = new SeparateRiskModel(cs, rs, wiring, {
      criticObs: c.inputs.obs,
      criticAct: c.inputs.act,
      criticOut: c.output,
      recoveryIn: card.recovery.input,
      recoveryOut: card.recovery.output,
    });
  }
  const bounds = { actLow: Float32Array.from(card.actLow), actHigh: Float32Array.from(card.actHigh), label };
  try {
    if (prepped.nearestSafe !== null) {
      const search = await o.sessions.create(prepped.nearestSafe.bytes, `${label}, nearest-safe search`);
      const ns = new NearestSafeRiskModel(model, search, prepped.nearestSafe.batch);
      model = ns;
      await checkNearestSafe(ns, bounds);
    }
    await sanityCheck(model, bounds);
  } catch (err) {
    await model.close();
    throw err;
  }
  return { card, dir: o.modelDir, model, fused: s.kind === 'fused', fuseNote: prepped.fuseNote, recoveryMode };
}
