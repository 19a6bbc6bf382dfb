/**
 * Loads a model directory into a ready RiskModel: card, files, IO check, optional fusion,
 * sessions, check batch. Used both at start-up and beside a running shield for a hot-swap;
 * anything wrong is refused here with E_MODEL, before a robot depends on it.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RShieldError } from '../core/errors.js';
import type { RecoveryMode } from '../core/recovery-mode.js';
import type { RiskModel } from '../core/risk-model.js';
import { nearestSafeCandidates } from '../core/nearest-safe-candidates.js';
import { sanityCheck } from '../core/sanity-check.js';
import { loadModelCard, type ModelCard } from '../config/model-card.js';
import { fuseModels } from './merge.js';
import { nearestSafeGraph } from './nearest-safe-graph.js';
import { NearestSafeRiskModel, checkNearestSafe } from './nearest-safe-model.js';
import { checkModelIO } from './model-io.js';
import { decodeModel, encodeModel, type ModelProto } from './onnx-proto.js';
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
}

async function readOnnx(dir: string, file: string, role: string): Promise<{ proto: ModelProto; bytes: Uint8Array; path: string }> {
  const path = join(dir, file);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new RShieldError('E_MODEL', `${path}: cannot read the ${role} model: ${why}`, { path }, { cause: err });
  }
  try {
    const proto = decodeModel(bytes);
    if (proto.graph == null || (proto.graph.node ?? []).length === 0) throw new Error('no graph nodes');
    return { proto, bytes, path };
  } catch (err) {
    throw new RShieldError(
      'E_MODEL',
      `${path}: not a valid ONNX model (${bytes.length} bytes; truncated?): ${(err as Error).message}`,
      { path, bytes: bytes.length },
      { cause: err },
    );
  }
}

export async function loadModel(o: LoadModelOptions): Promise<LoadedModel> {
  const card = await loadModelCard(o.modelDir);
  if (o.robot !== undefined && card.robot !== o.robot) {
    throw new RShieldError('E_MODEL', `${join(o.modelDir, 'model.json')}: model is for robot '${card.robot}', not '${o.robot}'`, {
      robot: o.robot,
      cardRobot: card.robot,
    });
  }
  const critic = await readOnnx(o.modelDir, card.critic.file, 'critic');
  const recovery = await readOnnx(o.modelDir, card.recovery.file, 'recovery');
  const io = checkModelIO(card, critic.proto, recovery.proto);
  const wiring = { obsDim: card.obsDim, actDim: card.actDim, qRank: io.criticOutputRank };
  const label = `${card.robot} model ${card.version} (${o.modelDir})`;

  let model: RiskModel;
  let fuseNote: string | null = null;
  const fusion = o.fuse === 'auto' ? fuseModels(card, critic.proto, recovery.proto) : null;
  if (fusion?.ok === true) {
    const session = await o.sessions.create(encodeModel(fusion.model), `${label}, fused critic+recovery`);
    model = new FusedRiskModel(session, wiring);
  } else {
    if (fusion?.ok === false) fuseNote = fusion.reason;
    const cs = await o.sessions.create(critic.bytes, critic.path);
    let rs;
    try {
      rs = await o.sessions.create(recovery.bytes, recovery.path);
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
  const recoveryMode = o.recoveryMode ?? card.recoveryMode;
  const bounds = { actLow: Float32Array.from(card.actLow), actHigh: Float32Array.from(card.actHigh), label };
  try {
    if (recoveryMode === 'nearest-safe') {
      const cands = nearestSafeCandidates(card.actDim);
      const graph = nearestSafeGraph(card, critic.proto, cands);
      const ns = new NearestSafeRiskModel(model, await o.sessions.create(encodeModel(graph), `${label}, nearest-safe search`), cands.count + 1);
      model = ns;
      await checkNearestSafe(ns, bounds);
    }
    await sanityCheck(model, bounds);
  } catch (err) {
    await model.close();
    throw err;
  }
  return { card, dir: o.modelDir, model, fused: fusion?.ok === true, fuseNote, recoveryMode };
}
