import * as fs from 'node:fs';
import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import { RShieldError } from '../core/errors.js';

/** The file operations a sink uses: node:fs, or a test's seam that fails like a full disk. */
export interface SinkFs {
  openSync(path: string, flags: 'w'): number;
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number): number;
  fsyncSync(fd: number): void;
  closeSync(fd: number): void;
  ftruncateSync(fd: number, length: number): void;
}

const nodeFs: SinkFs = {
  openSync: (path, flags) => fs.openSync(path, flags),
  writeSync: (fd, buffer, offset, length) => fs.writeSync(fd, buffer, offset, length),
  fsyncSync: (fd) => fs.fsyncSync(fd),
  closeSync: (fd) => fs.closeSync(fd),
  ftruncateSync: (fd, length) => fs.ftruncateSync(fd, length),
};

/**
 * An append-only file written with synchronous write(2) calls. Every `write` has reached the
 * kernel when it returns, so the bytes survive a SIGKILL of this process (not a power loss:
 * `close` fsyncs for that). Synchronous on purpose: the recorder writes a chunk at most every
 * few hundred milliseconds, and the data must be on its way before the next one is built.
 */
export class FileSink {
  readonly path: string;
  readonly #fs: SinkFs;
  #fd: number;
  #position = 0;

  private constructor(path: string, fd: number, sinkFs: SinkFs) {
    this.path = path;
    this.#fd = fd;
    this.#fs = sinkFs;
  }

  /** Creates (or truncates) `path`. Errors name the path and what is wrong with it. */
  static create(path: string, sinkFs: SinkFs = nodeFs): FileSink {
    try {
      return new FileSink(path, sinkFs.openSync(path, 'w'), sinkFs);
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
      while (off < bytes.byteLength) off += this.#fs.writeSync(this.#fd, bytes, off, bytes.byteLength - off);
    } catch (err) {
      throw new RShieldError('E_IO', `writing '${this.path}' failed at byte ${this.#position + off}: ${errText(err)}`, { path: this.path }, { cause: err });
    } finally {
      this.#position += off;
    }
  }

  /**
   * Cuts the file back to `length` bytes (the end of the last whole record after a failed
   * write), so readers meet no half-written record. Best effort: false when that failed too.
   */
  truncate(length: number): boolean {
    if (this.#fd < 0) return false;
    try {
      this.#fs.ftruncateSync(this.#fd, length);
      this.#position = length;
      return true;
    } catch {
      return false;
    }
  }

  /** Flushes to the disk and closes. Idempotent. */
  close(): void {
    if (this.#fd < 0) return;
    const fd = this.#fd;
    this.#fd = -1;
    try {
      this.#fs.fsyncSync(fd);
    } finally {
      this.#fs.closeSync(fd);
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
