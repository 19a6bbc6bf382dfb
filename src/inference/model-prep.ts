/**
 * The protobuf half of loading a model: read both ONNX files, decode them, check their IO
 * against the card, fuse them (and build the nearest-safe search graph) and encode the result.
 * Plain data in, plain data out, no ONNX Runtime: model-loader.ts creates the sessions. (It ran
 * in a worker thread once; that cost more than it saved — docs/shield.md, "Hot-swap memory".)
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RShieldError } from '../core/errors.js';
import { nearestSafeCandidates } from '../core/nearest-safe-candidates.js';
import type { ModelCard } from '../config/model-card.js';
import { fuseModels } from './merge.js';
import { checkModelIO } from './model-io.js';
import { nearestSafeGraph } from './nearest-safe-graph.js';
import { decodeModel, encodeModel, type ModelProto } from '../nn/onnx-proto.js';

export interface PrepRequest {
  readonly modelDir: string;
  /** The files' bytes by the card's names (verified by the caller); else read from modelDir. */
  readonly files?: ReadonlyMap<string, Uint8Array>;
  /** The parsed card (robot and format already checked by the caller). */
  readonly card: ModelCard;
  /** Try to fuse critic and recovery into one graph (merge.ts). */
  readonly fuse: boolean;
  /** Build the nearest-safe search graph too. */
  readonly nearestSafe: boolean;
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
}

async function readOnnx(dir: string, given: ReadonlyMap<string, Uint8Array> | undefined, file: string, role: string): Promise<{ proto: ModelProto; bytes: Uint8Array; path: string }> {
  const path = join(dir, file);
  let bytes: Uint8Array | undefined = given?.get(file);
  if (given !== undefined && bytes === undefined) throw new RShieldError('E_MODEL', `${path}: the ${role} model is not among the verified files`, { path });
  try {
    bytes ??= await readFile(path);
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

/** Does the protobuf work of a load; throws E_MODEL naming the file or tensor at fault. */
export async function prepModel(r: PrepRequest): Promise<PreppedModel> {
  const { card } = r;
  const critic = await readOnnx(r.modelDir, r.files, card.critic.file, 'critic');
  const recovery = await readOnnx(r.modelDir, r.files, card.recovery.file, 'recovery');
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
  return { criticOutputRank: io.criticOutputRank, sessions, fuseNote: fusion?.ok === false ? fusion.reason : null, nearestSafe };
}
