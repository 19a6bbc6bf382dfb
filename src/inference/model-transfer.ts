/**
 * Moves a model version from the trainer to the shield over the `model` topic: an announcement
 * (card, file hashes, signature) followed by inline base64 chunks, or by nothing when the shield
 * resolves the files by content hash in its configured model store. A file path never comes
 * from a message: received files are written under a staging directory named by hash.
 */
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { RShieldError } from '../core/errors.js';
import type { ModelAnnounce, ModelChunk, ModelFileName, ModelMessage } from '../config/mqtt-payloads.js';
import { sha256Hex, signModel, signingMessage, verifyModel, type SignedModelFields } from './model-signing.js';

export const MODEL_FILES: readonly ModelFileName[] = ['critic.onnx', 'recovery.onnx'];

/** A model version in memory: its card (model.json) and the bytes of its two ONNX files. */
export interface ModelBundle {
  readonly card: Record<string, unknown> & { robot: string; version: string; obsDim: number; actDim: number };
  readonly files: ReadonlyMap<ModelFileName, Uint8Array>;
}

export async function readModelDir(dir: string): Promise<ModelBundle> {
  let cardText: string;
  try {
    cardText = await readFile(join(dir, 'model.json'), 'utf8');
  } catch (err) {
    throw new RShieldError('E_IO', `cannot read model card ${join(dir, 'model.json')}: ${(err as Error).message}`, { dir });
  }
  let card: unknown;
  try {
    card = JSON.parse(cardText);
  } catch (err) {
    throw new RShieldError('E_MODEL', `model card ${join(dir, 'model.json')} is not JSON: ${(err as Error).message}`, { dir });
  }
  if (card === null || typeof card !== 'object') throw new RShieldError('E_MODEL', `model card in ${dir} is not an object`, { dir });
  const c = card as Record<string, unknown>;
  if (typeof c.robot !== 'string' || typeof c.version !== 'string' || typeof c.obsDim !== 'number' || typeof c.actDim !== 'number') {
    throw new RShieldError('E_MODEL', `model card in ${dir} lacks robot, version, obsDim or actDim`, { dir });
  }
  const files = new Map<ModelFileName, Uint8Array>();
  for (const name of MODEL_FILES) {
    try {
      files.set(name, await readFile(join(dir, name)));
    } catch (err) {
      throw new RShieldError('E_IO', `cannot read ${join(dir, name)}: ${(err as Error).message}`, { dir });
    }
  }
  return { card: c as ModelBundle['card'], files };
}

export async function writeModelDir(dir: string, bundle: ModelBundle): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [name, bytes] of bundle.files) await writeFile(join(dir, name), bytes);
  await writeFile(join(dir, 'model.json'), `${JSON.stringify(bundle.card, null, 2)}\n`);
}

function signedFields(robot: string, bundle: ModelBundle): SignedModelFields {
  return {
    robot,
    version: bundle.card.version,
    card: bundle.card,
    files: MODEL_FILES.map((name) => ({ name, sha256: sha256Hex(bundle.files.get(name) ?? new Uint8Array()) })),
  };
}

export interface ModelMessagesOptions {
  readonly robot: string;
  /** Ed25519 private key; without one the announcement is unsigned (accepted only by shields that allow it). */
  readonly signer?: KeyObject;
  /** 'inline': bytes in chunks; 'hash': the shield reads them from its model store. */
  readonly transfer: 'inline' | 'hash';
  readonly chunkBytes?: number;
}

/** The announcement and (inline) chunk messages of a version, in publish order. */
export function buildModelMessages(bundle: ModelBundle, options: ModelMessagesOptions): ModelMessage[] {
  const chunkBytes = options.chunkBytes ?? 128 * 1024;
  const fields = signedFields(options.robot, bundle);
  const sig = options.signer !== undefined ? signModel(options.signer, fields) : undefined;
  const announce: ModelAnnounce = {
    v: 1,
    kind: 'announce',
    robot: options.robot,
    version: bundle.card.version,
    card: bundle.card,
    files: MODEL_FILES.map((name) => ({ name, sha256: sha256Hex(bundle.files.get(name) ?? new Uint8Array()), bytes: bundle.files.get(name)?.byteLength ?? 0 })),
    transfer: options.transfer === 'inline' ? { mode: 'inline', chunkBytes } : { mode: 'hash' },
    ...(sig !== undefined ? { signature: sig.signature, keyId: sig.keyId } : {}),
  };
  const out: ModelMessage[] = [announce];
  if (options.transfer === 'inline') {
    for (const name of MODEL_FILES) {
      const bytes = bundle.files.get(name) ?? new Uint8Array();
      const total = Math.max(1, Math.ceil(bytes.byteLength / chunkBytes));
      for (let i = 0; i < total; i++) {
        const data = Buffer.from(bytes.buffer, bytes.byteOffset + i * chunkBytes, Math.min(chunkBytes, bytes.byteLength - i * chunkBytes)).toString('base64');
        out.push({ v: 1, kind: 'chunk', version: bundle.card.version, file: name, index: i, total, data });
      }
    }
  }
  return out;
}

/** Writes the files of a bundle into a content-addressed store (file name = sha256), for 'hash' transfer. */
export async function storeByHash(storeDir: string, bundle: ModelBundle): Promise<void> {
  await mkdir(storeDir, { recursive: true });
  for (const bytes of bundle.files.values()) await writeFile(join(storeDir, sha256Hex(bytes)), bytes);
}

export interface ModelReceiverOptions {
  readonly robot: string;
  readonly obsDim: number;
  readonly actDim: number;
  readonly trustedKeys: readonly KeyObject[];
  /** Accept unsigned announcements (simulation only; the CLI refuses it without --sim). */
  readonly allowUnsigned: boolean;
  /** Where verified versions are written, one subdirectory per version, named by hash. */
  readonly stagingDir: string;
  /** Content-addressed store for 'hash' transfers; without it such announcements are refused. */
  readonly storeDir?: string;
  /** Versions being assembled at once; the oldest is abandoned beyond this. */
  readonly maxPending?: number;
}

/** A verified version written to disk, ready for the shield's prepare step. */
export interface ReceivedModel {
  readonly version: string;
  readonly dir: string;
  readonly card: ModelBundle['card'];
}

interface Pending {
  readonly announce: ModelAnnounce;
  readonly id: string;
  readonly chunks: Map<ModelFileName, (Buffer | undefined)[]>;
  received: number;
  readonly expected: number;
}

/**
 * Assembles and verifies incoming model versions. `handle` returns the version once it is
 * complete and verified, undefined while chunks are still due; it throws E_SIGNATURE, E_MODEL
 * or E_DATA (with the reason) for a message it refuses, and a refused version is forgotten.
 */
export class ModelReceiver {
  private readonly opts: ModelReceiverOptions;
  private readonly pending = new Map<string, Pending>();

  constructor(options: ModelReceiverOptions) {
    this.opts = options;
  }

  async handle(msg: ModelMessage): Promise<ReceivedModel | undefined> {
    return msg.kind === 'announce' ? this.onAnnounce(msg) : this.onChunk(msg);
  }

  private async onAnnounce(a: ModelAnnounce): Promise<ReceivedModel | undefined> {
    const { robot, obsDim, actDim } = this.opts;
    const ctx = { robot, version: a.version };
    if (a.robot !== robot || a.card.robot !== robot) throw new RShieldError('E_MODEL', `model ${a.version} is for robot '${a.card.robot}' (announced for '${a.robot}'), this shield runs '${robot}'`, ctx);
    if (a.card.version !== a.version) throw new RShieldError('E_MODEL', `model announced as ${a.version} carries a card for version ${a.card.version}`, ctx);
    if (a.card.obsDim !== obsDim || a.card.actDim !== actDim) {
      throw new RShieldError('E_MODEL', `model ${a.version} has obsDim ${a.card.obsDim}, actDim ${a.card.actDim}; this robot has ${obsDim}, ${actDim}`, ctx);
    }
    const fields: SignedModelFields = { robot: a.robot, version: a.version, card: a.card, files: a.files };
    if (a.signature !== undefined || !this.opts.allowUnsigned) verifyModel(this.opts.trustedKeys, fields, { signature: a.signature, keyId: a.keyId });
    const id = sha256Hex(signingMessage(fields)).slice(0, 16);
    if (a.transfer.mode === 'hash') {
      const files = new Map<ModelFileName, Uint8Array>();
      const store = this.opts.storeDir;
      if (store === undefined) throw new RShieldError('E_MODEL', `model ${a.version} is sent by content hash but this shield has no model store (--models)`, ctx);
      for (const f of a.files) {
        // The name is the validated 64-hex digest, never text from the message used as a path.
        let bytes: Uint8Array;
        try {
          bytes = await readFile(join(store, f.sha256));
        } catch {
          throw new RShieldError('E_MODEL', `model ${a.version}: ${f.name} (sha256 ${f.sha256.slice(0, 12)}…) is not in the model store`, ctx);
        }
        files.set(f.name, bytes);
      }
      return this.finish(a, id, files);
    }
    const chunks = new Map<ModelFileName, (Buffer | undefined)[]>();
    let expected = 0;
    for (const f of a.files) {
      const total = Math.max(1, Math.ceil(f.bytes / a.transfer.chunkBytes));
      chunks.set(f.name, new Array<Buffer | undefined>(total).fill(undefined));
      expected += total;
    }
    this.pending.delete(a.version);
    this.pending.set(a.version, { announce: a, id, chunks, received: 0, expected });
    const max = this.opts.maxPending ?? 2;
    while (this.pending.size > max) {
      const oldest = this.pending.keys().next().value;
      if (oldest === undefined) break;
      this.pending.delete(oldest);
    }
    return undefined;
  }

  private async onChunk(c: ModelChunk): Promise<ReceivedModel | undefined> {
    const p = this.pending.get(c.version);
    const ctx = { robot: this.opts.robot, version: c.version };
    if (p === undefined) throw new RShieldError('E_DATA', `chunk of model ${c.version} arrived without its announcement`, ctx);
    const slots = p.chunks.get(c.file);
    if (slots === undefined || c.total !== slots.length || c.index >= slots.length) {
      this.pending.delete(c.version);
      throw new RShieldError('E_DATA', `chunk ${c.index}/${c.total} of ${c.file} does not fit the announcement of model ${c.version} (${slots?.length ?? 0} chunks)`, ctx);
    }
    if (slots[c.index] === undefined) p.received++;
    slots[c.index] = Buffer.from(c.data, 'base64');
    if (p.received < p.expected) return undefined;
    this.pending.delete(c.version);
    const files = new Map<ModelFileName, Uint8Array>();
    for (const [name, parts] of p.chunks) files.set(name, Buffer.concat(parts.filter((b): b is Buffer => b !== undefined)));
    return this.finish(p.announce, p.id, files);
  }

  private async finish(a: ModelAnnounce, id: string, files: Map<ModelFileName, Uint8Array>): Promise<ReceivedModel> {
    for (const f of a.files) {
      const bytes = files.get(f.name) ?? new Uint8Array();
      const digest = sha256Hex(bytes);
      if (bytes.byteLength !== f.bytes || digest !== f.sha256) {
        throw new RShieldError('E_SIGNATURE', `model ${a.version}: ${f.name} is ${bytes.byteLength} bytes with sha256 ${digest.slice(0, 12)}…, announced ${f.bytes} bytes, ${f.sha256.slice(0, 12)}…`, { robot: a.robot, version: a.version });
      }
    }
    const dir = join(this.opts.stagingDir, id);
    const card = a.card as ModelBundle['card'];
    await writeModelDir(dir, { card, files });
    return { version: a.version, dir, card };
  }

  /** Removes staged versions other than `keep` (the running and the pending one), so disk use stays flat over many swaps. */
  async prune(keep: readonly string[]): Promise<void> {
    let entries: string[];
    try {
      entries = await readdir(this.opts.stagingDir);
    } catch {
      return;
    }
    const keepSet = new Set(keep);
    for (const e of entries) {
      const dir = join(this.opts.stagingDir, e);
      if (!keepSet.has(dir)) await rm(dir, { recursive: true, force: true });
    }
  }
}
