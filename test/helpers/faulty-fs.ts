// File-system seams that fail like a full or broken disk, for the spool (async) and the MCAP
// sink (sync): the first `okWrites` writes succeed, later ones throw an errno error (ENOSPC by
// default), optionally after writing part of the buffer as write(2) does on a full disk.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import type { SinkFs } from '../../src/data/file-sink.js';
import type { SpoolFs } from '../../src/transport/mqtt/spool.js';

export function diskError(code = 'ENOSPC'): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`${code}: ${code === 'ENOSPC' ? 'no space left on device' : 'i/o error'}, write`);
  err.code = code;
  return err;
}

/** A spool fs whose writeFile fails after `okWrites`, leaving a zero-byte file behind as a full disk does. */
export function faultySpoolFs(okWrites: number, code = 'ENOSPC'): SpoolFs & { writes: number } {
  const seam = {
    writes: 0,
    async writeFile(path: string, data: Uint8Array): Promise<void> {
      if (seam.writes++ < okWrites) return fsp.writeFile(path, data);
      await fsp.writeFile(path, new Uint8Array());
      throw diskError(code);
    },
    rename: (from: string, to: string): Promise<void> => fsp.rename(from, to),
    readFile: (path: string): Promise<Uint8Array> => fsp.readFile(path),
    unlink: (path: string): Promise<void> => fsp.unlink(path),
  };
  return seam;
}

/** A sink fs whose writeSync fails once `okBytes` are written: the failing call writes up to the limit first, then throws. */
export function faultySinkFs(okBytes: number, code = 'ENOSPC'): SinkFs {
  let written = 0;
  return {
    openSync: (path, flags) => fs.openSync(path, flags),
    writeSync(fd, buffer, offset, length) {
      const room = okBytes - written;
      if (room <= 0) throw diskError(code);
      const n = fs.writeSync(fd, buffer, offset, Math.min(length, room));
      written += n;
      return n;
    },
    fsyncSync: (fd) => fs.fsyncSync(fd),
    closeSync: (fd) => fs.closeSync(fd),
    ftruncateSync: (fd, len) => fs.ftruncateSync(fd, len),
  };
}
