/**
 * What a shield must remember across restarts so that a restart opens no replay window: the
 * newest model sequence it accepted (a validly signed older version must stay refused) and the
 * nonces of the operator commands it accepted recently. One small JSON file in a private folder
 * (0700, owned by this user), replaced atomically (write a temporary file, fsync, rename), so a
 * kill or a full disk leaves the previous state whole, never half a file.
 */
import { lstat, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { RShieldError } from '../core/errors.js';
import { formatZodIssues } from '../config/zod-issues.js';

const stateSchema = z.strictObject({
  v: z.literal(1),
  robot: z.string(),
  /** Sequence and version of the newest model version accepted (0: none yet). */
  modelSequence: z.number().int().nonnegative(),
  modelVersion: z.string(),
  /** Operator commands accepted within the freshness window: a replay of one is refused. */
  commandNonces: z.array(z.object({ nonce: z.string(), issuedAt: z.number() })).max(100_000),
});
export type ShieldStateData = z.infer<typeof stateSchema>;

export const STATE_FILE = 'shield-state.json';

/** $XDG_STATE_HOME/rshield/R, else ~/.local/state/rshield/R: this user's own, not a shared temp folder. */
export function defaultStateDir(robot: string): string {
  const xdg = process.env.XDG_STATE_HOME;
  return join(xdg !== undefined && xdg !== '' ? xdg : join(homedir(), '.local', 'state'), 'rshield', robot);
}
const MAX_STATE_BYTES = 4 * 1024 * 1024;

/** Creates `dir` (0700) or checks it: a folder of this user that no one else may write. */
async function privateDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new RShieldError('E_IO', `cannot create the state folder ${dir}: ${(err as Error).message}`, { path: dir }, { cause: err });
  }
  const s = await lstat(dir);
  if (!s.isDirectory()) throw new RShieldError('E_CONFIG', `state folder ${dir} is not a directory (${s.isSymbolicLink() ? 'a symbolic link' : 'a file'})`, { path: dir });
  const uid = process.getuid?.();
  if (uid !== undefined && s.uid !== uid) throw new RShieldError('E_CONFIG', `state folder ${dir} belongs to uid ${s.uid}, not to this user (${uid}): choose another (--state DIR)`, { path: dir });
  if ((s.mode & 0o022) !== 0) throw new RShieldError('E_CONFIG', `state folder ${dir} is writable by other users (mode ${(s.mode & 0o777).toString(8)}): chmod 700 it or choose another (--state DIR)`, { path: dir });
}

export class ShieldState {
  readonly file: string;
  #data: ShieldStateData;
  #writes: Promise<void> = Promise.resolve();
  /** The last write that failed (full disk, ...): the previous state stays on disk. */
  lastWriteError: string | undefined;
  writeFailures = 0;

  private constructor(file: string, data: ShieldStateData) {
    this.file = file;
    this.#data = data;
  }

  /**
   * Opens (or starts) the state of `robot` in `dir`. A state file that is not valid JSON of the
   * right shape, or of another robot, is refused (E_CONFIG naming it): starting from nothing
   * would accept a rollback, so deleting it is the operator's call.
   */
  static async open(dir: string, robot: string): Promise<ShieldState> {
    await privateDir(dir);
    const file = join(dir, STATE_FILE);
    let text: string | undefined;
    try {
      const s = await lstat(file);
      if (!s.isFile() || s.size > MAX_STATE_BYTES) throw new RShieldError('E_CONFIG', `${file} is not a regular file of at most ${MAX_STATE_BYTES} bytes`, { path: file });
      text = await readFile(file, 'utf8');
    } catch (err) {
      if (err instanceof RShieldError) throw err;
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new RShieldError('E_IO', `cannot read ${file}: ${(err as Error).message}`, { path: file }, { cause: err });
    }
    if (text === undefined) return new ShieldState(file, { v: 1, robot, modelSequence: 0, modelVersion: '', commandNonces: [] });
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new RShieldError('E_CONFIG', `${file} is not JSON (${(err as Error).message}); delete it to accept any signed model version once`, { path: file });
    }
    const r = stateSchema.safeParse(raw);
    if (!r.success) throw new RShieldError('E_CONFIG', `${file}: ${formatZodIssues(r.error, raw).join('; ')}; delete it to accept any signed model version once`, { path: file });
    if (r.data.robot !== robot) throw new RShieldError('E_CONFIG', `${file} is the state of robot '${r.data.robot}', not '${robot}': give each robot its own --state folder`, { path: file, robot });
    return new ShieldState(file, r.data);
  }

  get data(): ShieldStateData {
    return this.#data;
  }

  /** Changes the state and writes it (writes queue up in order); resolves when on disk or failed. */
  update(patch: Partial<Omit<ShieldStateData, 'v' | 'robot'>>): Promise<void> {
    this.#data = { ...this.#data, ...patch };
    const text = `${JSON.stringify(this.#data)}\n`;
    this.#writes = this.#writes.then(() => this.#write(text));
    return this.#writes;
  }

  /** Resolves when every update so far has been written (or failed). */
  flushed(): Promise<void> {
    return this.#writes;
  }

  async #write(text: string): Promise<void> {
    const tmp = `${this.file}.${process.pid}.tmp`;
    try {
      const fh = await open(tmp, 'w', 0o600);
      try {
        await fh.writeFile(text);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, this.file);
      // The rename itself reaches the disk only with the folder's entry.
      const dh = await open(dirname(this.file), 'r');
      await dh.sync().finally(() => dh.close());
      this.lastWriteError = undefined;
    } catch (err) {
      this.writeFailures++;
      this.lastWriteError = `cannot write ${this.file}: ${(err as Error).message}`;
      await rm(tmp, { force: true }).catch(() => undefined);
    }
  }
}
