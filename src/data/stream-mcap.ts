import { createReadStream } from 'node:fs';
import { McapStreamReader, type McapTypes } from '@mcap/core';
import { RShieldError } from '../core/errors.js';

export interface StreamedMcap {
  /** The file ends with a valid footer (false for a file whose writer was killed). */
  readonly complete: boolean;
  /** Bytes of an unfinished record left at the end of an incomplete file. */
  readonly bytesDiscarded: number;
}

/**
 * Streams the records of one MCAP file, in file order, to `onRecord` (McapStreamReader, CRCs
 * checked), not through its summary: a file whose writer was killed — no summary, no footer —
 * yields every record of its complete chunks. RShieldErrors thrown by `onRecord` pass
 * through; read errors become E_IO and corrupt data E_DATA naming the file and `where()`.
 */
export async function streamMcap(path: string, onRecord: (record: McapTypes.TypedMcapRecord) => void, where: () => string): Promise<StreamedMcap> {
  const reader = new McapStreamReader({ validateCrcs: true });
  let bytesSeen = 0;
  try {
    const stream = createReadStream(path, { highWaterMark: 1 << 20 });
    for await (const piece of stream) {
      const bytes = piece as Buffer;
      if (bytesSeen === 0 && !isMcapStart(bytes)) {
        throw new RShieldError('E_DATA', `${path} is not an MCAP file (no MCAP magic at its start)`, { file: path });
      }
      bytesSeen += bytes.byteLength;
      reader.append(bytes);
      for (let r = reader.nextRecord(); r !== undefined; r = reader.nextRecord()) onRecord(r);
    }
  } catch (err) {
    if (err instanceof RShieldError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new RShieldError('E_IO', `cannot read '${path}': no such file`, { file: path }, { cause: err });
    if (code !== undefined) throw new RShieldError('E_IO', `cannot read '${path}': ${code}`, { file: path }, { cause: err });
    throw new RShieldError('E_DATA', `${path}: corrupt MCAP ${where()}: ${(err as Error).message}`, { file: path }, { cause: err });
  }
  if (bytesSeen === 0) throw new RShieldError('E_DATA', `${path} is empty`, { file: path });
  return { complete: reader.done(), bytesDiscarded: reader.done() ? 0 : reader.bytesRemaining() };
}

/** The MCAP magic, or as much of it as a (tiny) first piece holds. */
function isMcapStart(bytes: Uint8Array): boolean {
  const magic = [0x89, 0x4d, 0x43, 0x41, 0x50, 0x30, 0x0d, 0x0a];
  const n = Math.min(magic.length, bytes.byteLength);
  for (let i = 0; i < n; i++) if (bytes[i] !== magic[i]) return false;
  return true;
}
