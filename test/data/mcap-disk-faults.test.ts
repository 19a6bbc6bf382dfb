// A recorder whose disk fills up or fails: it stops writing, says so once, never throws at the
// caller, and the file stays readable (@mcap/core) up to the last whole chunk.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { McapStreamReader } from '@mcap/core';
import { McapRecorder } from '../../src/data/mcap-recorder.js';
import { faultySinkFs } from '../helpers/faulty-fs.js';

const dir = mkdtempSync(join(tmpdir(), 'rshield-mcap-fault-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

/** Every message in the file, read as a stream (no summary needed), and the bytes left unparsed. */
function readBack(path: string): { sequences: number[]; unparsed: number } {
  const reader = new McapStreamReader({ validateCrcs: true });
  reader.append(readFileSync(path));
  const sequences: number[] = [];
  for (let r = reader.nextRecord(); r !== undefined; r = reader.nextRecord()) if (r.type === 'Message') sequences.push(r.sequence);
  return { sequences, unparsed: reader.bytesRemaining() };
}

for (const code of ['ENOSPC', 'EIO']) {
  void t.test(`${code} mid-recording: writing stops, the file is readable up to the last flushed chunk`, (t) => {
    const path = join(dir, `${code}.mcap`);
    const faults: string[] = [];
    const rec = McapRecorder.open(path, { chunkBytes: 1024, flushTimer: false, fs: faultySinkFs(6000, code), onFault: (why) => faults.push(why) });
    const ch = rec.addChannel({ topic: '/x', schemaName: 'x', schemaText: 'uint8[] data', encoding: 'cdr' });
    const payload = new Uint8Array(200).fill(7);
    for (let i = 0; i < 100; i++) rec.write(ch, BigInt(i) * 1_000_000n, payload);
    t.doesNotThrow(() => rec.close(), 'close after the fault does not throw');
    t.equal(faults.length, 1, 'said once');
    const m = new RegExp(`^${code} writing '.*${code}\\.mcap': recording stopped; the file is cut back to (\\d+) bytes and readable up to its last whole chunk \\((\\d+) messages\\)$`).exec(faults[0] ?? '');
    t.ok(m, faults[0] ?? 'no fault');
    t.equal(rec.fault, faults[0]);
    const { sequences, unparsed } = readBack(path);
    const flushed = Number(m?.[2]);
    t.ok(flushed > 0 && flushed < 100, `${flushed} messages flushed before the disk filled`);
    t.same(sequences, [...Array(flushed).keys()], 'every flushed message reads back, in order, CRCs valid');
    t.equal(unparsed, 0, 'no half-written record at the end');
    t.equal(rec.droppedMessages, 100 - flushed, 'the rest are counted as dropped');
    t.end();
  });
}

void t.test('a disk full while writing the summary at close: no throw, the data section stays readable', (t) => {
  const path = join(dir, 'summary.mcap');
  const probe = McapRecorder.open(join(dir, 'probe.mcap'), { flushTimer: false });
  const ch0 = probe.addChannel({ topic: '/x', schemaName: 'x', schemaText: 'uint8[] data' });
  for (let i = 0; i < 10; i++) probe.write(ch0, BigInt(i), new Uint8Array(50));
  probe.flush();
  const dataBytes = probe.bytesWritten;
  probe.close();
  const faults: string[] = [];
  const rec = McapRecorder.open(path, { flushTimer: false, fs: faultySinkFs(dataBytes + 10), onFault: (why) => faults.push(why) });
  const ch = rec.addChannel({ topic: '/x', schemaName: 'x', schemaText: 'uint8[] data' });
  for (let i = 0; i < 10; i++) rec.write(ch, BigInt(i), new Uint8Array(50));
  rec.flush();
  t.equal(faults.length, 0, 'the data fit');
  t.doesNotThrow(() => rec.close());
  t.equal(faults.length, 1);
  t.same(readBack(path).sequences, [...Array(10).keys()], 'all ten messages read back');
  t.end();
});

void t.test('a disk full at open is one E_IO error naming the file', (t) => {
  t.throws(() => McapRecorder.open(join(dir, 'open.mcap'), { flushTimer: false, fs: faultySinkFs(3) }), { code: 'E_IO', message: /^ENOSPC writing '.*open\.mcap': recording stopped/ });
  t.end();
});
