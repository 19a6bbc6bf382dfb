import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { RShieldError } from '../core/errors.js';
import { keyIdOf, parsePublicKey } from './signing.js';
import { loadRobotProfile, resolveProfilePath, type RobotProfile } from '../config/profile.js';

/** Which model versions a shield accepts: signed by one of `keys`, or unsigned where allowed. */
export interface ModelTrust {
  readonly keys: readonly KeyObject[];
  /** Key ids (sha256 of the SPKI, first 16 hex) of `keys`, in order. */
  readonly keyIds: readonly string[];
  readonly allowUnsigned: boolean;
}

/** DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410 §4): what precedes the raw 32-byte key. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * One `models.trustedKeys` entry: an inline PEM, base64 of the raw 32-byte key or of the 44-byte
 * SPKI DER, or else a file path (relative to the profile's folder) holding a PEM. Only base64
 * that decodes to exactly 32 or 44 bytes counts as a key; anything else is a path. Errors name
 * the profile file and the entry (E_SIGNATURE for a bad key, E_IO for an unreadable file).
 */
function decodeKey(entry: string, baseDir: string, where: string): KeyObject {
  const text = entry.trim();
  if (text.includes('-----BEGIN')) return parsePublicKey(text, where);
  if (text.length % 4 === 0 && BASE64.test(text)) {
    const der = Buffer.from(text, 'base64');
    if (der.length === 32 || der.length === 44) {
      let key: KeyObject;
      try {
        key = createPublicKey({ key: der.length === 32 ? Buffer.concat([ED25519_SPKI_PREFIX, der]) : der, format: 'der', type: 'spki' });
      } catch (err) {
        throw new RShieldError('E_SIGNATURE', `${where} is not a base64 Ed25519 public key: ${(err as Error).message}`, { source: where });
      }
      if (key.asymmetricKeyType !== 'ed25519') throw new RShieldError('E_SIGNATURE', `${where} is a ${key.asymmetricKeyType ?? 'unknown'} key, expected ed25519`, { source: where });
      return key;
    }
  }
  const file = resolve(baseDir, text);
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (err) {
    throw new RShieldError('E_IO', `${where}: cannot read key file ${file}: ${(err as Error).message}`, { source: where, file });
  }
  return parsePublicKey(pem, `${where} (${file})`);
}

/**
 * The trust a profile grants (`models:`), its key paths resolved against the profile file's
 * folder. allowUnsigned holds only for simulated robots; the schema refuses it elsewhere, and
 * this check keeps that true for profiles built in code.
 */
export function profileModelTrust(profile: RobotProfile, profileFile: string): ModelTrust {
  const entries = profile.models?.trustedKeys ?? [];
  const keys = entries.map((entry, i) => decodeKey(entry, dirname(profileFile), `${profileFile}: models.trustedKeys[${i}]`));
  return { keys, keyIds: keys.map(keyIdOf), allowUnsigned: profile.kind === 'sim' && profile.models?.allowUnsigned === true };
}

/** The operator keys a profile trusts for commands (`commands.trustedKeys`), resolved like model keys. */
export function profileOperatorKeys(profile: RobotProfile, profileFile: string): KeyObject[] {
  return (profile.commands?.trustedKeys ?? []).map((entry, i) => decodeKey(entry, dirname(profileFile), `${profileFile}: commands.trustedKeys[${i}]`));
}

/** Reads public key files given on the command line (`--trust-key`, `--operator-key`); E_IO names the option and file. */
export async function readPublicKeyFiles(option: string, files: readonly string[]): Promise<KeyObject[]> {
  return Promise.all(
    files.map(async (f) => {
      const pem = await readFile(f, 'utf8').catch((err: Error) => {
        throw new RShieldError('E_IO', `cannot read ${option} ${f}: ${err.message}`, { path: f });
      });
      return parsePublicKey(pem, f);
    }),
  );
}

/** Union of key lists, each key once (by key id). */
export function uniqueKeys(...lists: readonly (readonly KeyObject[])[]): KeyObject[] {
  const byId = new Map<string, KeyObject>();
  for (const l of lists) for (const k of l) if (!byId.has(keyIdOf(k))) byId.set(keyIdOf(k), k);
  return [...byId.values()];
}

/** Loads a profile (shipped name or path) and the trust it grants. */
export function loadModelTrust(nameOrPath: string): { profile: RobotProfile; file: string; trust: ModelTrust } {
  const file = resolveProfilePath(nameOrPath);
  const profile = loadRobotProfile(file);
  return { profile, file, trust: profileModelTrust(profile, file) };
}

/** Union of several grants: every key once (by key id), unsigned if any grant allows it. */
export function mergeModelTrust(...grants: readonly ModelTrust[]): ModelTrust {
  const keys: KeyObject[] = [];
  const keyIds: string[] = [];
  for (const g of grants) {
    g.keys.forEach((k, i) => {
      const id = g.keyIds[i] ?? keyIdOf(k);
      if (keyIds.includes(id)) return;
      keys.push(k);
      keyIds.push(id);
    });
  }
  return { keys, keyIds, allowUnsigned: grants.some((g) => g.allowUnsigned) };
}
