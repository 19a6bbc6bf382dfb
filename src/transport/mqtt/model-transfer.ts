/**
 * Moves a model version from the trainer to the shield over the `model` topic: an announcement
 * (the version's manifest and signature, src/models/manifest.ts) followed by inline base64
 * chunks of each file the card names, or by nothing when the shield resolves the files by
 * content hash in its configured model store. A file path never comes from a message alone:
 * the names are the card's, checked against the signed manifest, written under a staging
 * directory named by hash inside a private (0700, mkdtemp) folder. The shield prepares the
 * swap from the verified bytes in memory, never by reading that folder back. A version whose
 * signed sequence is not above the newest verified one is refused (replay, rollback), and
 * chunk and update sizes are bounded before anything is buffered.
 */
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { RShieldError } from '../../core/errors.js';
import { MAX_CHUNKS_PER_FILE, type ModelAnnounce, type ModelChunk, type ModelMessage } from '../../config/mqtt-payloads.js';
import { checkFiles, checkManifest, manifestOf, type ManifestExpectations, type ModelManifest } from '../../models/manifest.js';
import { makePrivateDir, pruneStaged, readFromStore, writeModelDir, type BundleCard, type ModelBundle } from '../../models/model-dir.js';

export interface ModelMessagesOptions {
  readonly robot: string;
  /** Publish sequence, signed with the version; each must be above the previous one. */
  readonly sequence: number;
  /** Ed25519 private key; without one the announcement is unsigned (accepted only by shields that allow it). */
  readonly signer?: KeyObject;
  /** 'inline': bytes in chunks; 'hash': the shield reads them from its model store. */
  readonly transfer: 'inline' | 'hash';
  readonly chunkBytes?: number;
}

/** The announcement and (inline) chunk messages of a version, in publish order. */
export function buildModelMessages(bundle: ModelBundle, options: ModelMessagesOptions): ModelMessage[] {
  const chunkBytes = options.chunkBytes ?? 128 * 1024;
  const { manifest, signature } = manifestOf(options.robot, options.sequence, bundle, options.signer);
  const announce: ModelAnnounce = {
    v: 1,
    kind: 'announce',
    robot: manifest.robot,
    version: manifest.version,
    sequence: manifest.sequence,
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

/** Default bound on the bytes of one chunk (before base64). */
export const MAX_CHUNK_BYTES = 1024 * 1024;
/** What a model message may carry besides its chunk's base64: card, names, JSON. */
const ENVELOPE_BYTES = 64 * 1024;

export interface ModelReceiverOptions extends ManifestExpectations {
  /**
   * Folder in which the receiver creates its own private folder (0700, random name) for the
   * verified versions, one subfolder each, named by hash. Default: the system temp folder.
   */
  readonly stagingDir?: string;
  /** Content-addressed store for 'hash' transfers; without it such announcements are refused. */
  readonly storeDir?: string;
  /** Versions being assembled at once; the oldest is abandoned beyond this. */
  readonly maxPending?: number;
  /** Largest chunk accepted, in bytes before base64 (default MAX_CHUNK_BYTES). */
  readonly maxChunkBytes?: number;
  /** Sequence of the model running at start (default 0: any signed sequence is newer); a persisted one after a restart. */
  readonly startSequence?: number;
  /** Names the start sequence's version in refusals (default 'the start model'). */
  readonly startVersion?: string;
  /**
   * Called when a version's sequence becomes the newest (persist it: ShieldState); awaited
   * before the version is handed on, so it never runs before its sequence is on disk.
   */
  readonly onAccepted?: (sequence: number, version: string) => void | Promise<void>;
}

/** A verified version written to disk, ready for the shield's prepare step. */
export interface ReceivedModel {
  readonly version: string;
  readonly sequence: number;
  /** Where the version was written (a private folder); names it in messages. */
  readonly dir: string;
  readonly card: BundleCard;
  /** The verified bytes: what the shield prepares, so later changes on disk cannot matter. */
  readonly bundle: ModelBundle;
}

interface Pending {
  readonly manifest: ModelManifest;
  readonly id: string;
  readonly chunks: Map<string, (Buffer | undefined)[]>;
  readonly chunkBytes: number;
  received: number;
  readonly expected: number;
}

function manifestOfAnnounce(a: ModelAnnounce): ModelManifest {
  return { robot: a.robot, version: a.version, sequence: a.sequence, card: a.card, files: a.files };
}

/**
 * Assembles and verifies incoming model versions. `handle` returns the version once it is
 * complete and verified, undefined while chunks are still due; it throws E_SIGNATURE, E_MODEL
 * or E_DATA (with the reason) for a message it refuses, and a refused version is forgotten.
 */
export class ModelReceiver {
  readonly #opts: ModelReceiverOptions;
  readonly #pending = new Map<string, Pending>();
  readonly #maxChunkBytes: number;
  #newest: { sequence: number; version: string };
  #root: Promise<string> | undefined;
  /** Versions refused because their sequence was not above the newest verified one. */
  refusedStale = 0;
  /** Messages refused unread because they were larger than any chunk may be. */
  refusedOversize = 0;

  constructor(options: ModelReceiverOptions) {
    this.#opts = options;
    this.#maxChunkBytes = options.maxChunkBytes ?? MAX_CHUNK_BYTES;
    this.#newest = { sequence: options.startSequence ?? 0, version: options.startVersion ?? 'the start model' };
  }

  /** Sequence of the newest verified version (the start sequence before any). */
  get newestSequence(): number {
    return this.#newest.sequence;
  }

  /** The largest model message (bytes on the wire) worth parsing: a full chunk in base64 plus its envelope. */
  get maxMessageBytes(): number {
    return Math.ceil(this.#maxChunkBytes / 3) * 4 + ENVELOPE_BYTES;
  }

  /**
   * Called with a message's size before it is parsed: the reason it is refused (counted) when
   * it is larger than any chunk this receiver accepts, else undefined.
   */
  admit(bytes: number): string | undefined {
    if (bytes <= this.maxMessageBytes) return undefined;
    this.refusedOversize++;
    return `model message of ${bytes} bytes refused unread: over ${this.maxMessageBytes} bytes (chunks of at most ${this.#maxChunkBytes} bytes)`;
  }

  async handle(msg: ModelMessage): Promise<ReceivedModel | undefined> {
    return msg.kind === 'announce' ? this.#onAnnounce(msg) : this.#onChunk(msg);
  }

  /** Removes the private staging folder (the caller is done with every received version). */
  async close(): Promise<void> {
    const root = this.#root;
    this.#root = undefined;
    const path = await root?.catch(() => undefined);
    if (path !== undefined) await rm(path, { recursive: true, force: true }).catch(() => undefined);
  }

  /** E_MODEL unless `sequence` is above the newest verified version's: a replay or rollback is refused. */
  #checkFresh(version: string, sequence: number): void {
    const newest = this.#newest;
    if (sequence > newest.sequence) return;
    this.refusedStale++;
    const what = sequence === newest.sequence ? 'equal to' : 'below';
    throw new RShieldError('E_MODEL', `model ${version} has sequence ${sequence}, ${what} ${newest.sequence} of ${newest.version}: an older or replayed version is refused`, {
      robot: this.#opts.robot, version, sequence, newestSequence: newest.sequence,
    });
  }

  async #onAnnounce(a: ModelAnnounce): Promise<ReceivedModel | undefined> {
    this.#checkFresh(a.version, a.sequence);
    const manifest = manifestOfAnnounce(a);
    const id = checkManifest(manifest, { signature: a.signature, keyId: a.keyId }, this.#opts);
    const ctx = { robot: this.#opts.robot, version: a.version };
    if (a.transfer.mode === 'hash') {
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
    const { chunkBytes } = a.transfer;
    if (chunkBytes > this.#maxChunkBytes) throw new RShieldError('E_MODEL', `model ${a.version} is sent in chunks of ${chunkBytes} bytes, over this shield's limit of ${this.#maxChunkBytes}`, { ...ctx, chunkBytes });
    const chunks = new Map<string, (Buffer | undefined)[]>();
    let expected = 0;
    for (const f of a.files) {
      const total = Math.max(1, Math.ceil(f.bytes / chunkBytes));
      if (total > MAX_CHUNKS_PER_FILE) throw new RShieldError('E_MODEL', `model ${a.version}: ${f.name} would come in ${total} chunks of ${chunkBytes} bytes, over ${MAX_CHUNKS_PER_FILE}`, { ...ctx, chunkBytes });
      chunks.set(f.name, new Array<Buffer | undefined>(total).fill(undefined));
      expected += total;
    }
    this.#pending.delete(a.version);
    this.#pending.set(a.version, { manifest, id, chunks, chunkBytes, received: 0, expected });
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
    const bytes = Buffer.from(c.data, 'base64');
    // Larger than announced is refused at once; a wrong short chunk fails the file's sha256.
    if (bytes.byteLength > p.chunkBytes) {
      this.#pending.delete(c.version);
      throw new RShieldError('E_DATA', `chunk ${c.index}/${c.total} of ${c.file} of model ${c.version} is ${bytes.byteLength} bytes, over the announced ${p.chunkBytes}`, ctx);
    }
    if (slots[c.index] === undefined) p.received++;
    slots[c.index] = bytes;
    if (p.received < p.expected) return undefined;
    this.#pending.delete(c.version);
    const files = new Map<string, Uint8Array>();
    for (const [name, parts] of p.chunks) files.set(name, Buffer.concat(parts.filter((b): b is Buffer => b !== undefined)));
    return this.#finish(p.manifest, p.id, files);
  }

  async #finish(m: ModelManifest, id: string, files: Map<string, Uint8Array>): Promise<ReceivedModel> {
    const bundle = checkFiles(m, files);
    this.#checkFresh(m.version, m.sequence); // a newer version may have completed meanwhile
    this.#newest = { sequence: m.sequence, version: m.version };
    await this.#opts.onAccepted?.(m.sequence, m.version);
    const dir = join(await this.#stagingRoot(), id);
    await writeModelDir(dir, bundle);
    return { version: m.version, sequence: m.sequence, dir, card: bundle.card, bundle };
  }

  #stagingRoot(): Promise<string> {
    this.#root ??= makePrivateDir(this.#opts.stagingDir ?? tmpdir(), `rshield-models-${this.#opts.robot}-`);
    return this.#root;
  }

  /** Removes staged versions other than `keep` (the running and the pending one), so disk use stays flat over many swaps. */
  async prune(keep: readonly string[]): Promise<void> {
    if (this.#root !== undefined) await pruneStaged(await this.#root, keep);
  }
}
