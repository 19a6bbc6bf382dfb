/**
 * Moves a model version from the trainer to the shield over the `model` topic: an announcement
 * (the version's manifest and signature, src/models/manifest.ts) followed by inline base64
 * chunks of each file the card names, or by nothing when the shield resolves the files by
 * content hash in its configured model store. A file path never comes from a message alone:
 * the names are the card's, checked against the signed manifest, written under a staging
 * directory named by hash.
 */
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { RShieldError } from '../../core/errors.js';
import type { ModelAnnounce, ModelChunk, ModelMessage } from '../../config/mqtt-payloads.js';
import { checkFiles, checkManifest, manifestOf, type ManifestExpectations, type ModelManifest } from '../../models/manifest.js';
import { pruneStaged, readFromStore, writeModelDir, type BundleCard, type ModelBundle } from '../../models/model-dir.js';

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
  const { manifest, signature } = manifestOf(options.robot, bundle, options.signer);
  const announce: ModelAnnounce = {
    v: 1,
    kind: 'announce',
    robot: manifest.robot,
    version: manifest.version,
    card: manifest.card,
    files: manifest.files.map((f) => ({ ...f })),
    transfer: options.transfer === 'inline' ? { mode: 'inline', chunkBytes } : { mode: 'hash' },
    ...(signature !== undefined ? { signature: signature.signature, keyId: signature.keyId } : {}),
  };
  const out: ModelMessage[] = [announce];
  if (options.transfer === 'inline') {
    for (const { name } of manifest.files) {
      const bytes = bundle.files.get(name) ?? new Uint8Array();
      const total = Math.max(1, Math.ceil(bytes.byteLength / chunkBytes));
      for (let i = 0; i < total; i++) {
        const data = Buffer.from(bytes.buffer, bytes.byteOffset + i * chunkBytes, Math.min(chunkBytes, bytes.byteLength - i * chunkBytes)).toString('base64');
        out.push({ v: 1, kind: 'chunk', version: manifest.version, file: name, index: i, total, data });
      }
    }
  }
  return out;
}

export interface ModelReceiverOptions extends ManifestExpectations {
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
  readonly card: BundleCard;
}

interface Pending {
  readonly manifest: ModelManifest;
  readonly id: string;
  readonly chunks: Map<string, (Buffer | undefined)[]>;
  received: number;
  readonly expected: number;
}

function manifestOfAnnounce(a: ModelAnnounce): ModelManifest {
  return { robot: a.robot, version: a.version, card: a.card, files: a.files };
}

/**
 * Assembles and verifies incoming model versions. `handle` returns the version once it is
 * complete and verified, undefined while chunks are still due; it throws E_SIGNATURE, E_MODEL
 * or E_DATA (with the reason) for a message it refuses, and a refused version is forgotten.
 */
export class ModelReceiver {
  readonly #opts: ModelReceiverOptions;
  readonly #pending = new Map<string, Pending>();

  constructor(options: ModelReceiverOptions) {
    this.#opts = options;
  }

  async handle(msg: ModelMessage): Promise<ReceivedModel | undefined> {
    return msg.kind === 'announce' ? this.#onAnnounce(msg) : this.#onChunk(msg);
  }

  async #onAnnounce(a: ModelAnnounce): Promise<ReceivedModel | undefined> {
    const manifest = manifestOfAnnounce(a);
    const id = checkManifest(manifest, { signature: a.signature, keyId: a.keyId }, this.#opts);
    if (a.transfer.mode === 'hash') {
      const ctx = { robot: this.#opts.robot, version: a.version };
      const store = this.#opts.storeDir;
      if (store === undefined) throw new RShieldError('E_MODEL', `model ${a.version} is sent by content hash but this shield has no model store (--models)`, ctx);
      const files = new Map<string, Uint8Array>();
      for (const f of a.files) {
        const bytes = await readFromStore(store, f.sha256);
        if (bytes === undefined) throw new RShieldError('E_MODEL', `model ${a.version}: ${f.name} (sha256 ${f.sha256.slice(0, 12)}…) is not in the model store`, ctx);
        files.set(f.name, bytes);
      }
      return this.#finish(manifest, id, files);
    }
    const chunks = new Map<string, (Buffer | undefined)[]>();
    let expected = 0;
    for (const f of a.files) {
      const total = Math.max(1, Math.ceil(f.bytes / a.transfer.chunkBytes));
      chunks.set(f.name, new Array<Buffer | undefined>(total).fill(undefined));
      expected += total;
    }
    this.#pending.delete(a.version);
    this.#pending.set(a.version, { manifest, id, chunks, received: 0, expected });
    const max = this.#opts.maxPending ?? 2;
    while (this.#pending.size > max) {
      const oldest = this.#pending.keys().next().value;
      if (oldest === undefined) break;
      this.#pending.delete(oldest);
    }
    return undefined;
  }

  async #onChunk(c: ModelChunk): Promise<ReceivedModel | undefined> {
    const p = this.#pending.get(c.version);
    const ctx = { robot: this.#opts.robot, version: c.version };
    if (p === undefined) throw new RShieldError('E_DATA', `chunk of model ${c.version} arrived without its announcement`, ctx);
    const slots = p.chunks.get(c.file);
    if (slots === undefined || c.total !== slots.length || c.index >= slots.length) {
      this.#pending.delete(c.version);
      throw new RShieldError('E_DATA', `chunk ${c.index}/${c.total} of ${c.file} does not fit the announcement of model ${c.version} (${slots?.length ?? 0} chunks)`, ctx);
    }
    if (slots[c.index] === undefined) p.received++;
    slots[c.index] = Buffer.from(c.data, 'base64');
    if (p.received < p.expected) return undefined;
    this.#pending.delete(c.version);
    const files = new Map<string, Uint8Array>();
    for (const [name, parts] of p.chunks) files.set(name, Buffer.concat(parts.filter((b): b is Buffer => b !== undefined)));
    return this.#finish(p.manifest, p.id, files);
  }

  async #finish(m: ModelManifest, id: string, files: Map<string, Uint8Array>): Promise<ReceivedModel> {
    const bundle = checkFiles(m, files);
    const dir = join(this.#opts.stagingDir, id);
    await writeModelDir(dir, bundle);
    return { version: m.version, dir, card: bundle.card };
  }

  /** Removes staged versions other than `keep` (the running and the pending one), so disk use stays flat over many swaps. */
  async prune(keep: readonly string[]): Promise<void> {
    await pruneStaged(this.#opts.stagingDir, keep);
  }
}
