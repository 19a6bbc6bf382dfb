/**
 * Trust for a model directory on disk (`--models DIR`, the ROS 2 `model_dir`): the same Ed25519
 * signature as a model update (model-signing.ts), kept beside the card in `model.sig.json`
 * ({ signature, keyId }) and checked over the bytes the shield will load (model-source.ts).
 * Hardware profiles require it; an unsigned or foreign-signed directory is refused.
 */
import type { KeyObject } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RShieldError } from '../core/errors.js';
import { sha256Hex, signModel, verifyModel, type ModelSignature, type SignedModelFields } from '../models/signing.js';
import { readModelSource, readRegularFile, type ModelSource } from './model-source.js';

export const LOCAL_SIGNATURE_FILE = 'model.sig.json';

export interface LocalModelTrust {
  /** Refuse a directory without a valid signature by one of `keys`. */
  readonly requireSigned: boolean;
  readonly keys: readonly KeyObject[];
}

function fields(src: ModelSource): SignedModelFields {
  return {
    robot: src.card.robot,
    version: src.card.version,
    // A directory on disk is not a published update: no sequence to order it against.
    sequence: 0,
    card: JSON.parse(src.cardText) as unknown,
    // Every file the card names (critic, recovery, dynamics, an image model's encoder and heads):
    // a swapped file of any of them fails the check.
    files: [...src.files].map(([name, bytes]) => ({ name, sha256: sha256Hex(bytes) })),
  };
}

/** Signs a model directory in place (writes model.sig.json). */
export async function signModelDir(dir: string, privateKey: KeyObject): Promise<ModelSignature> {
  const sig = signModel(privateKey, fields(await readModelSource(dir)));
  await writeFile(join(dir, LOCAL_SIGNATURE_FILE), `${JSON.stringify(sig, null, 2)}\n`);
  return sig;
}

/**
 * Checks `source` against the trust; returns the key id that verified, or null when no
 * signature is required. Throws E_SIGNATURE naming the directory and why.
 */
export async function checkLocalModel(source: ModelSource, trust: LocalModelTrust): Promise<string | null> {
  if (!trust.requireSigned) return null;
  const path = join(source.dir, LOCAL_SIGNATURE_FILE);
  let sig: Partial<ModelSignature>;
  try {
    sig = JSON.parse(Buffer.from(await readRegularFile(path, 'the model signature', 64 * 1024)).toString('utf8')) as Partial<ModelSignature>;
  } catch (err) {
    const why = err instanceof RShieldError && /no such file/.test(err.message) ? `no ${LOCAL_SIGNATURE_FILE}` : (err as Error).message;
    throw new RShieldError('E_SIGNATURE', `${source.dir}: unsigned model refused (signed models are required): ${why}`, { dir: source.dir }, { cause: err });
  }
  try {
    return verifyModel(trust.keys, fields(source), sig);
  } catch (err) {
    throw new RShieldError('E_SIGNATURE', `${source.dir}: ${(err as Error).message}`, { dir: source.dir }, { cause: err });
  }
}
