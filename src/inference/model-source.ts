/**
 * The bytes of a model directory, read once: the card and both ONNX files. Everything after —
 * the IO check, fusion, sessions in the inference worker, a replacement worker after a stuck
 * one — works from these bytes, never from the directory again. Each file is opened
 * non-blocking and must be a regular file of bounded size: a FIFO or a device in place of
 * `critic.onnx` is refused instead of hanging the load.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { RShieldError } from '../core/errors.js';
import { MODEL_CARD_FILE, parseModelCard, type ModelCard } from '../config/model-card.js';
import { cardFileNames, type ModelBundle } from '../models/model-dir.js';

/** Larger files are refused: a shield model is a few MB (shipped: 0.8 MB). */
export const MAX_MODEL_FILE_BYTES = 256 * 1024 * 1024;

export interface ModelFile {
  readonly path: string;
  readonly bytes: Uint8Array;
}

export interface ModelSource {
  readonly dir: string;
  readonly card: ModelCard;
  /** model.json as read (what a signature covers, with the two files). */
  readonly cardText: string;
  readonly critic: ModelFile;
  readonly recovery: ModelFile;
  /** dynamics.onnx, when the card declares a dynamics ensemble (model-based recovery). */
  readonly dynamics?: ModelFile;
  /** Image models: the frame encoder and the per-tick heads. */
  readonly encoder?: ModelFile;
  readonly heads?: ModelFile;
  /** Every file the card names (model-dir.ts cardFileNames), by that name: what a signature covers. */
  readonly files: ReadonlyMap<string, Uint8Array>;
}

/** The parts of a source a card names, from its files by name. */
function partsOf(dir: string, card: ModelCard, files: ReadonlyMap<string, Uint8Array>, missing: (path: string, role: string) => never): Omit<ModelSource, 'dir' | 'card' | 'cardText' | 'files'> {
  const file = (name: string, role: string): ModelFile => {
    const path = join(dir, name);
    const bytes = files.get(name);
    return bytes === undefined ? missing(path, role) : { path, bytes };
  };
  return {
    critic: file(card.critic.file, 'critic model'),
    recovery: file(card.recovery.file, 'recovery model'),
    ...(card.dynamics === undefined ? {} : { dynamics: file(card.dynamics.file, 'dynamics model') }),
    ...(card.encoder === undefined ? {} : { encoder: file(card.encoder.file, 'image encoder') }),
    ...(card.heads === undefined ? {} : { heads: file(card.heads.file, 'image heads') }),
  };
}

/** Reads one regular file; E_MODEL names the path and why (missing, not a regular file, too large). */
export async function readRegularFile(path: string, role: string, maxBytes = MAX_MODEL_FILE_BYTES): Promise<Uint8Array> {
  let handle;
  try {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new RShieldError('E_MODEL', `${path}: cannot read ${role}: ${why}`, { path }, { cause: err });
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new RShieldError('E_MODEL', `${path}: ${role} is not a regular file (a FIFO, device or directory is refused)`, { path });
    if (st.size > maxBytes) throw new RShieldError('E_MODEL', `${path}: ${role} has ${st.size} bytes, more than the limit of ${maxBytes}`, { path, bytes: st.size });
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/** Reads and validates `<dir>/model.json` and every file it names. */
export async function readModelSource(dir: string): Promise<ModelSource> {
  const cardPath = join(dir, MODEL_CARD_FILE);
  const cardText = Buffer.from(await readRegularFile(cardPath, 'model card', 1024 * 1024)).toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(cardText);
  } catch (err) {
    throw new RShieldError('E_MODEL', `${cardPath}: not valid JSON: ${(err as Error).message}`, { path: cardPath }, { cause: err });
  }
  const card = parseModelCard(json, cardPath);
  // Every file the card names is read (and so signed and checked), not only the ones this shield runs.
  const files = new Map<string, Uint8Array>();
  const roles = new Map<string, string>([
    [card.critic.file, 'the critic model'],
    [card.recovery.file, 'the recovery model'],
    ...(card.dynamics === undefined ? [] : [[card.dynamics.file, 'the dynamics model'] as const]),
    ...(card.encoder === undefined ? [] : [[card.encoder.file, 'the image encoder'] as const]),
    ...(card.heads === undefined ? [] : [[card.heads.file, 'the image heads'] as const]),
  ]);
  for (const name of cardFileNames(json as Record<string, unknown>, cardPath)) files.set(name, await readRegularFile(join(dir, name), roles.get(name) ?? `${name} (named by the card)`));
  return { dir, card, cardText, files, ...partsOf(dir, card, files, () => { throw new Error('unreachable: every named file was read'); }) };
}

/**
 * The same from a model version already in memory (a hot-swap's verified bytes): nothing is read
 * back from the staging folder, so what was verified is what runs.
 */
export function modelSourceFromBundle(dir: string, bundle: ModelBundle): ModelSource {
  const cardPath = join(dir, MODEL_CARD_FILE);
  const card = parseModelCard(bundle.card, cardPath);
  const missing = (path: string, role: string): never => {
    throw new RShieldError('E_MODEL', `${path}: the ${role} is not among the verified files`, { path });
  };
  const files = new Map<string, Uint8Array>();
  for (const name of cardFileNames(bundle.card, cardPath)) files.set(name, bundle.files.get(name) ?? missing(join(dir, name), `file ${name} named by the card`));
  return { dir, card, cardText: JSON.stringify(bundle.card), files, ...partsOf(dir, card, files, missing) };
}

/** The bytes of a load: the verified bundle when there is one, else the directory. */
export async function modelSourceOf(dir: string, bundle: ModelBundle | undefined): Promise<ModelSource> {
  return bundle === undefined ? readModelSource(dir) : modelSourceFromBundle(dir, bundle);
}
