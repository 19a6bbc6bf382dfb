import { closeSync, fsyncSync, openSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { RShieldError } from '../core/errors.js';

/**
 * An append-only file written with synchronous write(2) calls. Every `write` has reached the
 * kernel when it returns, so the bytes survive a SIGKILL of this process (not a power loss:
 * `close` fsyncs for that). Synchronous on purpose: the recorder writes a chunk at most every
 * few hundred milliseconds, and the data must be on its way before the next one is built.
 */
export class FileSink {
  readonly path: string;
  #fd: number;
  #position = 0;

  private constructor(path: string, fd: number) {
    this.path = path;
    this.#fd = fd;
  }

  /** Creates (or truncates) `path`. Errors name the path and what is wrong with it. */
  static create(path: string): FileSink {
    try {
      return new FileSink(path, openSync(path, 'w'));
    } catch (err) {
      throw openError(path, err);
    }
  }

  /** Bytes written so far: the file offset of the next write. */
  get position(): number {
    return this.#position;
  }

  get closed(): boolean {
    return this.#fd < 0;
  }

  write(bytes: Uint8Array): void {
    if (this.#fd < 0) throw new RShieldError('E_IO', `cannot write to '${this.path}': it is closed`, { path: this.path });
    let off = 0;
    try {
      while (off < bytes.byteLength) off += writeSync(this.#fd, bytes, off, bytes.byteLength - off);
    } catch (err) {
      throw new RShieldError('E_IO', `writing '${this.path}' failed at byte ${this.#position + off}: ${errText(err)}`, { path: this.path }, { cause: err });
    } finally {
      this.#position += off;
    }
  }

  /** Flushes to the disk and closes. Idempotent. */
  close(): void {
    if (this.#fd < 0) return;
    const fd = this.#fd;
    this.#fd = -1;
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Turns an open(2) failure into one line a user can act on. */
function openError(path: string, err: unknown): RShieldError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const dir = dirname(path);
  let why: string;
  if (code === 'ENOENT' && !isDir(dir)) why = `directory '${dir}' does not exist`;
  else if (code === 'ENOTDIR') why = `'${dir}' is not a directory`;
  else if (code === 'EISDIR' || isDir(path)) why = 'it is a directory';
  else if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') why = 'permission denied';
  else why = errText(err);
  return new RShieldError('E_IO', `cannot write '${path}': ${why}`, { path, errno: code }, { cause: err });
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
