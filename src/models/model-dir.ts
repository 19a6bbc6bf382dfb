/**
 * A model directory read and written through its card: `model.json` names the ONNX files
 * (`critic.file`, `recovery.file`, and any later part with a `file`), so a PyTorch-exported
 * `q.onnx`/`pi.onnx` travels as well as rshield's own `critic.onnx`/`recovery.onnx`.
 */
import { lstat, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize } from 'node:path';
import { MODEL_CARD_FILE, parseModelCard, type ModelCard } from '../config/model-card.js';
import { RShieldError } from '../core/errors.js';
import { sha256Hex } from './signing.js';

/** The card fields every model directory needs to be moved and checked (the loader checks the rest). */
export type BundleCard = Record<string, unknown> & { robot: string; version: string; obsDim: number; actDim: number };

/** A model version in memory: its card and the bytes of each file the card names, by that name. */
export interface ModelBundle {
  readonly card: BundleCard;
  readonly files: ReadonlyMap<string, Uint8Array>;
}

/** A file name a card may give: a relative path inside the directory, never climbing out of it. */
export function isSafeModelFile(name: string): boolean {
  return name.length > 0 && !isAbsolute(name) && !name.includes('\\') && !normalize(name).startsWith('..') && normalize(name) !== '.' && name !== MODEL_CARD_FILE;
}

/**
 * The files a card names, in card order: the `file` of each top-level part (`critic`,
 * `recovery`, …). E_MODEL when a name is unsafe, used twice, or there is none.
 */
export function cardFileNames(card: Record<string, unknown>, source: string): string[] {
  const names: string[] = [];
  for (const [key, part] of Object.entries(card)) {
    if (part === null || typeof part !== 'object' || Array.isArray(part) || !('file' in part)) continue;
    const file = (part).file;
    if (typeof file !== 'string' || !isSafeModelFile(file)) {
      throw new RShieldError('E_MODEL', `${source}: ${key}.file is ${JSON.stringify(file)}, expected a file name inside the model directory`, { source, field: `${key}.file` });
    }
    if (names.includes(file)) throw new RShieldError('E_MODEL', `${source}: ${key}.file '${file}' is named by two parts of the card`, { source, field: `${key}.file` });
    names.push(file);
  }
  if (names.length === 0) throw new RShieldError('E_MODEL', `${source}: the card names no model files (critic.file, recovery.file)`, { source });
  return names;
}

/** Checks the fields a bundle's card must have; returns it typed. */
export function bundleCard(card: unknown, source: string): BundleCard {
  if (card === null || typeof card !== 'object' || Array.isArray(card)) throw new RShieldError('E_MODEL', `${source}: model card is not an object`, { source });
  const c = card as Record<string, unknown>;
  if (typeof c.robot !== 'string' || typeof c.version !== 'string' || typeof c.obsDim !== 'number' || typeof c.actDim !== 'number') {
    throw new RShieldError('E_MODEL', `${source}: model card lacks robot, version, obsDim or actDim`, { source });
  }
  return c as BundleCard;
}

/** `dir/model.json` parsed as JSON (not yet validated) and its path; E_MODEL naming the path when unreadable. */
async function readCardJson(dir: string): Promise<{ path: string; json: unknown }> {
  const path = join(dir, MODEL_CARD_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new RShieldError('E_MODEL', `${path}: cannot read model card: ${why}`, { path }, { cause: err });
  }
  try {
    return { path, json: JSON.parse(text) };
  } catch (err) {
    throw new RShieldError('E_MODEL', `${path}: not valid JSON: ${(err as Error).message}`, { path }, { cause: err });
  }
}

/** Reads and validates `<dir>/model.json` (the full card schema, defaults applied). */
export async function loadModelCard(dir: string): Promise<ModelCard> {
  const { path, json } = await readCardJson(dir);
  return parseModelCard(json, path);
}

/** Reads `dir/model.json` and every file it names. */
export async function readModelDir(dir: string): Promise<ModelBundle> {
  const { path: cardPath, json } = await readCardJson(dir);
  const card = bundleCard(json, cardPath);
  const files = new Map<string, Uint8Array>();
  for (const name of cardFileNames(card, cardPath)) {
    try {
      files.set(name, await readFile(join(dir, name)));
    } catch (err) {
      throw new RShieldError('E_IO', `cannot read ${join(dir, name)} (named by ${cardPath}): ${(err as Error).message}`, { dir });
    }
  }
  return { card, files };
}

/** Writes the bundle's files under the names its card gives, then the card. */
export async function writeModelDir(dir: string, bundle: ModelBundle): Promise<void> {
  const names = cardFileNames(bundle.card, `model ${bundle.card.version}`);
  await mkdir(dir, { recursive: true });
  for (const name of names) {
    const bytes = bundle.files.get(name);
    if (bytes === undefined) throw new RShieldError('E_MODEL', `model ${bundle.card.version}: the card names ${name}, which the bundle lacks`, { version: bundle.card.version });
    if (name.includes('/')) await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), bytes);
  }
  await writeFile(join(dir, MODEL_CARD_FILE), `${JSON.stringify(bundle.card, null, 2)}\n`);
}

/** Writes the files of a bundle into a content-addressed store (file name = sha256), for transfer by hash. */
export async function storeByHash(storeDir: string, bundle: ModelBundle): Promise<void> {
  await mkdir(storeDir, { recursive: true });
  for (const bytes of bundle.files.values()) await writeFile(join(storeDir, sha256Hex(bytes)), bytes);
}

/** The bytes stored under `sha256`, or undefined. The name read is the validated digest, never message text. */
export async function readFromStore(storeDir: string, sha256: string): Promise<Uint8Array | undefined> {
  if (!/^[0-9a-f]{64}$/.test(sha256)) return undefined;
  try {
    return await readFile(join(storeDir, sha256));
  } catch {
    return undefined;
  }
}

/** Removes the entries of `stagingDir` other than the directories in `keep`, so disk use stays flat over many swaps. */
export async function pruneStaged(stagingDir: string, keep: readonly string[]): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(stagingDir);
  } catch {
    return;
  }
  const keepSet = new Set(keep);
  for (const e of entries) {
    const dir = join(stagingDir, e);
    if (!keepSet.has(dir)) await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Creates a fresh directory only this user can enter (mkdtemp: random name, mode 0700) under
 * `parent`, creating the parent if needed. Refuses (E_CONFIG) a parent that other users may
 * write without the sticky bit: there they could rename the new directory and put their own
 * in its place.
 */
export async function makePrivateDir(parent: string, prefix: string): Promise<string> {
  try {
    await mkdir(parent, { recursive: true, mode: 0o700 });
    const s = await lstat(parent);
    if (!s.isDirectory()) throw new RShieldError('E_CONFIG', `${parent} is not a directory (${s.isSymbolicLink() ? 'a symbolic link' : 'a file'})`, { path: parent });
    if ((s.mode & 0o002) !== 0 && (s.mode & 0o1000) === 0) {
      throw new RShieldError('E_CONFIG', `${parent} is writable by every user and not sticky (mode ${(s.mode & 0o7777).toString(8)}): choose another folder`, { path: parent });
    }
    return await mkdtemp(join(parent, prefix));
  } catch (err) {
    if (err instanceof RShieldError) throw err;
    throw new RShieldError('E_IO', `cannot create a private folder under ${parent}: ${(err as Error).message}`, { path: parent }, { cause: err });
  }
}
