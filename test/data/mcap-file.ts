// Opens a file with @mcap/core's indexed reader — the path Foxglove and other MCAP tools take
// (summary, chunk indexes, CRCs) — so tests check that files are valid for any reader.
import { open } from 'node:fs/promises';
import { McapIndexedReader } from '@mcap/core';

export async function withIndexedReader<T>(path: string, use: (reader: McapIndexedReader) => Promise<T>): Promise<T> {
  const fh = await open(path, 'r');
  try {
    const size = BigInt((await fh.stat()).size);
    const reader = await McapIndexedReader.Initialize({
      readable: {
        size: () => Promise.resolve(size),
        read: async (offset, length) => {
          const buf = new Uint8Array(Number(length));
          await fh.read(buf, 0, buf.byteLength, Number(offset));
          return buf;
        },
      },
    });
    return await use(reader);
  } finally {
    await fh.close();
  }
}
