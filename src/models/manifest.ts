/**
 * What a model version is, in the words a signature covers: robot, version, sequence, card and the
 * name, sha256 and size of each file the card names. The sender builds it from a bundle; the
 * receiver checks it (robot, dims, files, signature) before taking any bytes, and checks the
 * bytes against it once they are in.
 */
import type { KeyObject } from 'node:crypto';
import { RShieldError } from '../core/errors.js';
import { cardFileNames, type BundleCard, type ModelBundle } from './model-dir.js';
import { sha256Hex, signModel, signingMessage, verifyModel, type ModelSignature, type SignedModelFields } from './signing.js';

export interface ManifestFile {
  readonly name: string;
  readonly sha256: string;
  readonly bytes: number;
}

export interface ModelManifest {
  readonly robot: string;
  readonly version: string;
  /** Publish sequence, signed: each version's is above the last one's (signing.ts). */
  readonly sequence: number;
  readonly card: BundleCard;
  /** One entry per file the card names, in card order. */
  readonly files: readonly ManifestFile[];
}

/** The manifest of a bundle, and its signature when a key is given. */
export function manifestOf(robot: string, sequence: number, bundle: ModelBundle, signer?: KeyObject): { manifest: ModelManifest; signature?: ModelSignature } {
  if (!Number.isSafeInteger(sequence) || sequence < 1) throw new RShieldError('E_MODEL', `model ${bundle.card.version}: sequence must be a positive integer, got ${sequence}`, { version: bundle.card.version });
  const files = cardFileNames(bundle.card, `model ${bundle.card.version}`).map((name) => {
    const bytes = bundle.files.get(name);
    if (bytes === undefined) throw new RShieldError('E_MODEL', `model ${bundle.card.version}: the card names ${name}, which the bundle lacks`, { version: bundle.card.version });
    return { name, sha256: sha256Hex(bytes), bytes: bytes.byteLength };
  });
  const manifest = { robot, version: bundle.card.version, sequence, card: bundle.card, files };
  return signer === undefined ? { manifest } : { manifest, signature: signModel(signer, signedFields(manifest)) };
}

function signedFields(m: ModelManifest): SignedModelFields {
  return { robot: m.robot, version: m.version, sequence: m.sequence, card: m.card, files: m.files };
}

/** Which versions a receiver takes: its robot and dimensions, and the trust it was given. */
export interface ManifestExpectations {
  readonly robot: string;
  readonly obsDim: number;
  readonly actDim: number;
  readonly trustedKeys: readonly KeyObject[];
  /** Accept an unsigned manifest (simulation only). */
  readonly allowUnsigned: boolean;
  /** Files of one version may total at most this many bytes (default MAX_UPDATE_BYTES). */
  readonly maxUpdateBytes?: number;
}

/** Default bound on the bytes of one model version (all its files). */
export const MAX_UPDATE_BYTES = 64 * 1024 * 1024;

/**
 * Checks a received manifest before any bytes are taken: robot, version, dimensions, the file
 * list against the files its card names, and the signature. Throws E_MODEL or E_SIGNATURE with
 * the reason; returns an id for the version (16 hex of the signed text's sha256).
 */
export function checkManifest(m: ModelManifest, sig: Partial<ModelSignature>, expect: ManifestExpectations): string {
  const { robot, obsDim, actDim } = expect;
  const ctx = { robot, version: m.version };
  if (m.robot !== robot || m.card.robot !== robot) throw new RShieldError('E_MODEL', `model ${m.version} is for robot '${m.card.robot}' (announced for '${m.robot}'), this shield runs '${robot}'`, ctx);
  if (m.card.version !== m.version) throw new RShieldError('E_MODEL', `model announced as ${m.version} carries a card for version ${m.card.version}`, ctx);
  if (m.card.obsDim !== obsDim || m.card.actDim !== actDim) {
    throw new RShieldError('E_MODEL', `model ${m.version} has obsDim ${m.card.obsDim}, actDim ${m.card.actDim}; this robot has ${obsDim}, ${actDim}`, ctx);
  }
  const total = m.files.reduce((n, f) => n + f.bytes, 0);
  const maxBytes = expect.maxUpdateBytes ?? MAX_UPDATE_BYTES;
  if (total > maxBytes) throw new RShieldError('E_MODEL', `model ${m.version} is ${total} bytes in ${m.files.length} files, over this shield's limit of ${maxBytes} bytes per update`, { ...ctx, bytes: total, maxBytes });
  const named = cardFileNames(m.card, `model ${m.version}`);
  const sent = m.files.map((f) => f.name);
  if (named.length !== sent.length || named.some((n) => !sent.includes(n))) {
    throw new RShieldError('E_MODEL', `model ${m.version} sends files [${sent.join(', ')}] but its card names [${named.join(', ')}]`, ctx);
  }
  const fields = signedFields(m);
  if (sig.signature !== undefined || !expect.allowUnsigned) verifyModel(expect.trustedKeys, fields, sig);
  return sha256Hex(signingMessage(fields)).slice(0, 16);
}

/** Checks received bytes against the manifest (E_SIGNATURE naming the first file that differs); returns the bundle. */
export function checkFiles(m: ModelManifest, files: ReadonlyMap<string, Uint8Array>): ModelBundle {
  for (const f of m.files) {
    const bytes = files.get(f.name) ?? new Uint8Array();
    const digest = sha256Hex(bytes);
    if (bytes.byteLength !== f.bytes || digest !== f.sha256) {
      throw new RShieldError('E_SIGNATURE', `model ${m.version}: ${f.name} is ${bytes.byteLength} bytes with sha256 ${digest.slice(0, 12)}…, announced ${f.bytes} bytes, ${f.sha256.slice(0, 12)}…`, { robot: m.robot, version: m.version });
    }
  }
  return { card: m.card, files };
}
