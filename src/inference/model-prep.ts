/**
 * The protobuf half of loading a model: decode both ONNX files (read by model-source.ts), check their IO
 * against the card, fuse them (and build the nearest-safe search graph) and encode the result.
 * Plain data in, plain data out, no ONNX Runtime: model-loader.ts creates the sessions. (It ran
 * in a worker thread once; that cost more than it saved — docs/shield.md, "Hot-swap memory".)
 */
import { RShieldError } from '../core/errors.js';
import { nearestSafeCandidates } from '../core/nearest-safe-candidates.js';
import { fuseModels } from './merge.js';
import { checkDynamicsIO, checkModelIO } from './model-io.js';
import { cemGraph } from './cem-graph.js';
import type { PlannerSettings } from '../config/planner-settings.js';
import { nearestSafeGraph } from './nearest-safe-graph.js';
import type { ModelFile, ModelSource } from './model-source.js';
import { decodeModel, encodeModel, type ModelProto } from '../nn/onnx-proto.js';

export interface PrepRequest {
  /** The card (robot already checked by the caller) and the bytes of both files. */
  readonly source: ModelSource;
  /** Try to fuse critic and recovery into one graph (merge.ts). */
  readonly fuse: boolean;
  /** Build the nearest-safe search graph too. */
  readonly nearestSafe: boolean;
  /** Build the CEM planner graph with these settings (model-based recovery). */
  readonly planner: PlannerSettings | null;
}

/** Bytes for the sessions to create: one fused model, or the two files as they are. */
export type PreppedSessions =
  | { readonly kind: 'fused'; readonly bytes: Uint8Array }
  | { readonly kind: 'separate'; readonly critic: Uint8Array; readonly criticPath: string; readonly recovery: Uint8Array; readonly recoveryPath: string };

export interface PreppedModel {
  /** Rank of the critic output: 2 for [N, 1], 1 for [N]. */
  readonly criticOutputRank: number;
  readonly sessions: PreppedSessions;
  /** Why fusion was not used, when it was tried. */
  readonly fuseNote: string | null;
  /** The search graph and its batch (candidates + the recovery action), in nearest-safe mode. */
  readonly nearestSafe: { readonly bytes: Uint8Array; readonly batch: number } | null;
  /** dynamics.onnx as read (for its check batch) and the planner graph, in model-based mode. */
  readonly planner: { readonly dynamics: Uint8Array; readonly dynamicsPath: string; readonly bytes: Uint8Array; readonly settings: PlannerSettings } | null;
}

function decodeOnnx(f: ModelFile): { proto: ModelProto; bytes: Uint8Array; path: string } {
  const { path, bytes } = f;
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

/** Does the protobuf work of a load; throws E_MODEL naming the file or tensor at fault. */
export function prepModel(r: PrepRequest): PreppedModel {
  const { card } = r.source;
  const critic = decodeOnnx(r.source.critic);
  const recovery = decodeOnnx(r.source.recovery);
  const io = checkModelIO(card, critic.proto, recovery.proto);
  const fusion = r.fuse ? fuseModels(card, critic.proto, recovery.proto) : null;
  const sessions: PreppedSessions =
    fusion?.ok === true
      ? { kind: 'fused', bytes: encodeModel(fusion.model) }
      : { kind: 'separate', critic: critic.bytes, criticPath: critic.path, recovery: recovery.bytes, recoveryPath: recovery.path };
  let nearestSafe: PreppedModel['nearestSafe'] = null;
  if (r.nearestSafe) {
    const cands = nearestSafeCandidates(card.actDim);
    nearestSafe = { bytes: encodeModel(nearestSafeGraph(card, critic.proto, cands)), batch: cands.count + 1 };
  }
  let planner: PreppedModel['planner'] = null;
  if (r.planner !== null) {
    if (r.source.dynamics === undefined || card.dynamics === undefined) {
      throw new RShieldError('E_MODEL', `${card.robot} model ${card.version}: model-based recovery needs a dynamics model; the card declares none (card field 'dynamics')`, { robot: card.robot });
    }
    const dynamics = decodeOnnx(r.source.dynamics);
    checkDynamicsIO(card, dynamics.proto);
    planner = { dynamics: dynamics.bytes, dynamicsPath: dynamics.path, bytes: encodeModel(cemGraph(card, critic.proto, dynamics.proto, r.planner)), settings: r.planner };
  }
  return { criticOutputRank: io.criticOutputRank, sessions, fuseNote: fusion?.ok === false ? fusion.reason : null, nearestSafe, planner };
}
