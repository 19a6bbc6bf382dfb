/**
 * Ed25519 signatures over a model version (node:crypto). What is signed is a short canonical
 * text naming the robot, the version, the sha256 of the canonical card JSON and the sha256 of
 * each model file, so a signature covers every byte the shield will load and nothing else.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { RShieldError } from '../core/errors.js';

export interface SignedModelFields {
  readonly robot: string;
  readonly version: string;
  /**
   * Monotonic publish sequence: a receiver refuses a version whose sequence is not above the
   * one it runs, so a replayed older (validly signed) version cannot roll the shield back.
   */
  readonly sequence: number;
  readonly card: unknown;
  readonly files: readonly { readonly name: string; readonly sha256: string }[];
}

export interface ModelSignature {
  /** base64 Ed25519 signature. */
  readonly signature: string;
  /** First 16 hex digits of the sha256 of the signer's SPKI public key. */
  readonly keyId: string;
}

export interface KeyPairPem {
  readonly privateKeyPem: string;
  readonly publicKeyPem: string;
  readonly keyId: string;
}

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** JSON with object keys sorted at every level, so the same card always hashes the same. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const src = v as Record<string, unknown>;
    return Object.fromEntries(Object.keys(src).sort().map((k) => [k, src[k]]));
  });
}

/** The exact text that is signed. */
export function signingMessage(m: SignedModelFields): Buffer {
  const files = [...m.files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((f) => `${f.name}=${f.sha256}`);
  const lines = ['rshield-model-signature-v2', `robot=${m.robot}`, `version=${m.version}`, `sequence=${m.sequence}`, `card=${sha256Hex(canonicalJson(m.card))}`, ...files];
  return Buffer.from(lines.join('\n'), 'utf8');
}

export function keyIdOf(publicKey: KeyObject): string {
  return sha256Hex(publicKey.export({ type: 'spki', format: 'der' })).slice(0, 16);
}

export function generateSigningKeys(): KeyPairPem {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    keyId: keyIdOf(publicKey),
  };
}

/** Reads an Ed25519 private key (PKCS#8 PEM); E_SIGNATURE names the source when it is not one. */
export function parsePrivateKey(pem: string, source = 'private key'): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (err) {
    throw new RShieldError('E_SIGNATURE', `${source} is not a PEM private key: ${err instanceof Error ? err.message : String(err)}`, { source });
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new RShieldError('E_SIGNATURE', `${source} is a ${key.asymmetricKeyType ?? 'unknown'} key, expected ed25519`, { source });
  return key;
}

/** Reads an Ed25519 public key (SPKI PEM). */
export function parsePublicKey(pem: string, source = 'public key'): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (err) {
    throw new RShieldError('E_SIGNATURE', `${source} is not a PEM public key: ${err instanceof Error ? err.message : String(err)}`, { source });
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new RShieldError('E_SIGNATURE', `${source} is a ${key.asymmetricKeyType ?? 'unknown'} key, expected ed25519`, { source });
  return key;
}

export function signModel(privateKey: KeyObject, m: SignedModelFields): ModelSignature {
  const signature = sign(null, signingMessage(m), privateKey).toString('base64');
  return { signature, keyId: keyIdOf(createPublicKey(privateKey)) };
}

/**
 * Checks a signature over `message` against the trusted keys. Throws E_SIGNATURE saying why
 * (missing, unknown key, does not verify), `what` naming the signed thing; returns the key id
 * that verified. One check for model versions and operator commands alike.
 */
export function verifySigned(trusted: readonly KeyObject[], message: Buffer, sig: Partial<ModelSignature>, what: string, ctx: Record<string, unknown>): string {
  if (sig.signature === undefined || sig.keyId === undefined) throw new RShieldError('E_SIGNATURE', `${what} is unsigned`, ctx);
  const key = trusted.find((k) => keyIdOf(k) === sig.keyId);
  if (key === undefined) throw new RShieldError('E_SIGNATURE', `${what} is signed by key ${sig.keyId}, which is not trusted (${trusted.length} trusted keys)`, { ...ctx, keyId: sig.keyId });
  const ok = verify(null, message, key, Buffer.from(sig.signature, 'base64'));
  if (!ok) throw new RShieldError('E_SIGNATURE', `${what}: signature does not verify with key ${sig.keyId}`, { ...ctx, keyId: sig.keyId });
  return sig.keyId;
}

/** Checks a model version's signature against the trusted keys (verifySigned); returns the key id. */
export function verifyModel(trusted: readonly KeyObject[], m: SignedModelFields, sig: Partial<ModelSignature>): string {
  return verifySigned(trusted, signingMessage(m), sig, `model ${m.version}`, { robot: m.robot, version: m.version });
}
