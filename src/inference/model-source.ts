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
import type { ModelBundle } from '../models/model-dir.js';

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

/** Reads and validates `<dir>/model.json` and the two ONNX files it names. */
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
  const file = async (name: string, role: string): Promise<ModelFile> => {
    const path = join(dir, name);
    return { path, bytes: await readRegularFile(path, role) };
  };
  const dynamics = card.dynamics === undefined ? undefined : await file(card.dynamics.file, 'the dynamics model');
  return {
    dir, card, cardText, critic: await file(card.critic.file, 'the critic model'), recovery: await file(card.recovery.file, 'the recovery model'),
    ...(dynamics === undefined ? {} : { dynamics }),
  };
}

/**
 * The same from a model version already in memory (a hot-swap's verified bytes): nothing is read
 * back from the staging folder, so what was verified is what runs.
 */
export function modelSourceFromBundle(dir: string, bundle: ModelBundle): ModelSource {
  const cardPath = join(dir, MODEL_CARD_FILE);
  const card = parseModelCard(bundle.card, cardPath);
  const file = (name: string, role: string): ModelFile => {
    const path = join(dir, name);
    const bytes = bundle.files.get(name);
    if (bytes === undefined) throw new RShieldError('E_MODEL', `${path}: the ${role} is not among the verified files`, { path });
    return { path, bytes };
  };
  return {
    dir, card, cardText: JSON.stringify(bundle.card), critic: file(card.critic.file, 'critic model'), recovery: file(card.recovery.file, 'recovery model'),
    ...(card.dynamics === undefined ? {} : { dynamics: file(card.dynamics.file, 'dynamics model') }),
  };
}

/** The bytes of a load: the verified bundle when there is one, else the directory. */
export async function modelSourceOf(dir: string, bundle: ModelBundle | undefined): Promise<ModelSource> {
  return bundle === undefined ? readModelSource(dir) : modelSourceFromBundle(dir, bundle);
}
