// The spool on a full or failing disk: writing stops, what is on disk is still sent, the fault is
// reported once, and no empty or short file is ever sent as a batch.
import t from 'tap';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TransitionSpool } from '../../../src/transport/mqtt/spool.js';
import { faultySpoolFs } from '../../helpers/faulty-fs.js';

const batch = (n: number): Uint8Array => new Uint8Array(100).fill(n);

async function tempDir(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'rshield-spool-fault-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

for (const code of ['ENOSPC', 'EIO']) {
  void t.test(`${code}: writing stops, batches already on disk are sent, the fault is said once`, async (t) => {
    const dir = await tempDir(t);
    const s = await TransitionSpool.open({ dir, maxBatches: 100, maxBytes: 1e6, fs: faultySpoolFs(3, code) });
    const faults: string[] = [];
    s.on('fault', (why) => faults.push(why));
    for (let i = 1; i <= 6; i++) s.push(batch(i));
    await s.flushed();
    t.equal(faults.length, 1, 'one report');
    t.match(faults[0], new RegExp(`^spool .*: ${code} writing .*0000000000000003\\.rstb: .*; writing stopped, 3 batches on disk are still sent$`));
    t.equal(s.fault, faults[0], 'and it stays readable as a field');
    t.equal(s.dropped, 3, 'the failed batch and the two after it are counted as dropped');
    t.same((await readdir(dir)).sort(), ['0000000000000000.rstb', '0000000000000001.rstb', '0000000000000002.rstb'], 'the empty file the failed write left is gone');
    s.push(batch(7));
    t.equal(s.dropped, 4, 'nothing more is written');
    const sent: number[] = [];
    t.equal(await s.drain((x) => (sent.push(x[0] ?? 0), Promise.resolve()), () => true), 3);
    t.same(sent, [1, 2, 3], 'everything flushed before the fault still goes out');
  });
}

void t.test('zero-byte and short spool files are deleted and counted, never sent', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, '0000000000000000.rstb'), new Uint8Array());
  await writeFile(join(dir, '0000000000000001.rstb'), batch(1));
  const s = await TransitionSpool.open({ dir, maxBatches: 100, maxBytes: 1e6 });
  t.equal(s.skippedEmpty, 1, 'an empty file left by an earlier run');
  t.equal(s.pending, 1);
  s.push(batch(2));
  await s.flushed();
  await writeFile(join(dir, '0000000000000002.rstb'), new Uint8Array(10)); // truncated behind the spool's back
  const sent: Uint8Array[] = [];
  await s.drain((x) => (sent.push(x), Promise.resolve()), () => true);
  t.same(sent.map((x) => [x.byteLength, x[0]]), [[100, 1]], 'only the whole batch is sent');
  t.equal(s.skippedEmpty, 2);
  t.same(await readdir(dir), [], 'both are gone from the disk');
});

void t.test('a batch is renamed into place only when whole: a write killed mid-way leaves a .part file that is deleted, never sent', async (t) => {
  const dir = await tempDir(t);
  const s = await TransitionSpool.open({ dir, maxBatches: 100, maxBytes: 1e6 });
  s.push(batch(1));
  await s.flushed();
  t.same(await readdir(dir), ['0000000000000000.rstb'], 'no .part file once the write finished');
  // What SIGKILL in the middle of the next write leaves: half the bytes under the temporary name.
  await writeFile(join(dir, '0000000000000001.rstb.part'), batch(2).subarray(0, 50));
  const again = await TransitionSpool.open({ dir, maxBatches: 100, maxBytes: 1e6 });
  t.equal(again.skippedEmpty, 1, 'the torn write is counted');
  t.equal(again.pending, 1, 'the whole batch is kept');
  const sent: Uint8Array[] = [];
  await again.drain((x) => (sent.push(x), Promise.resolve()), () => true);
  t.same(sent.map((x) => [x.byteLength, x[0]]), [[100, 1]]);
  t.same(await readdir(dir), [], 'nothing left behind');
});
