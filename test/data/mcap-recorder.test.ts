import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { McapRecorder, TransitionWriter, readDataset } from '../../src/data/index.js';
import { withIndexedReader } from './mcap-file.js';
import { syntheticMeta, syntheticTransition } from './synthetic.js';

const dir = mkdtempSync(join(tmpdir(), 'rshield-rec-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

void t.test('a chunk reaches the file once its first message is flushIntervalMs old', async (t) => {
  let now = 0;
  const path = join(dir, 'timed.mcap');
  const w = TransitionWriter.open(path, syntheticMeta(), { clock: { monotonicUs: () => now * 1000 }, flushTimer: false, flushIntervalMs: 500, chunkBytes: 1 << 20 });
  const afterHeader = w.recorder.bytesWritten;
  for (let i = 0; i < 10; i++) w.write(syntheticTransition(i));
  now = 499;
  w.write(syntheticTransition(10));
  t.equal(statSync(path).size, afterHeader, 'nothing flushed before the interval');
  t.equal((await readDataset([path])).size, 0, 'a reader now sees no transitions');
  now = 500;
  w.write(syntheticTransition(11));
  t.ok(statSync(path).size > afterHeader, 'the chunk is in the file');
  const mid = await readDataset([path]);
  t.equal(mid.size, 12, 'a reader of the still-open file gets all 12 transitions');
  t.equal(mid.files[0]?.complete, false);
  w.close();
  t.equal((await readDataset([path])).files[0]?.complete, true);
});

void t.test('the flush timer writes a chunk of a channel that went quiet', async (t) => {
  const path = join(dir, 'quiet.mcap');
  const w = TransitionWriter.open(path, syntheticMeta(), { flushIntervalMs: 40 });
  w.write(syntheticTransition(0));
  // Wait on the condition a user cares about (the data in the file), bounded by tap's timeout.
  while ((await readDataset([path])).size === 0) await new Promise((r) => setTimeout(r, 10));
  t.pass('the transition reached the file without another write');
  w.close();
});

void t.test('other CDR channels share the file with the transitions', async (t) => {
  const path = join(dir, 'mixed.mcap');
  const rec = McapRecorder.open(path, { chunkBytes: 1024 });
  const joints = rec.addChannel({ topic: '/PSM1/measured_js', schemaName: 'std_msgs/msg/UInt32', schemaText: 'uint32 data\n' });
  const w = TransitionWriter.attach(rec, syntheticMeta(), { startTimeNs: 1000n });
  const again = rec.addChannel({ topic: '/PSM2/measured_js', schemaName: 'std_msgs/msg/UInt32', schemaText: 'uint32 data\n' });
  for (let i = 0; i < 100; i++) {
    const cdr = new Uint8Array([0, 1, 0, 0, i, 0, 0, 0]); // CDR little-endian header + uint32
    rec.write(joints, BigInt(1000 + i), cdr);
    rec.write(again, BigInt(1000 + i), cdr);
    w.write(syntheticTransition(i));
  }
  w.close();
  t.notOk(rec.closed, 'closing an attached writer leaves the recorder open');
  rec.close();
  await withIndexedReader(path, async (reader) => {
    t.same([...reader.channelsById.values()].map((c) => c.topic).sort(), ['/PSM1/measured_js', '/PSM2/measured_js', '/rshield/transitions']);
    t.equal(reader.schemasById.size, 2, 'one schema per distinct type');
    t.equal(reader.statistics?.messageCount, 300n);
    let n = 0;
    for await (const m of reader.readMessages({ topics: ['/PSM1/measured_js'] })) {
      if (m.data[4] !== n) t.fail(`message ${n} out of order`);
      n++;
    }
    t.equal(n, 100);
  });
  t.equal((await readDataset([path])).size, 100, 'the dataset reader skips the other channels');
});

void t.test('misuse gets coded errors', (t) => {
  const rec = McapRecorder.open(join(dir, 'misuse.mcap'), { flushTimer: false });
  t.throws(() => rec.write(3, 0n, new Uint8Array(1)), { code: 'E_USAGE', message: /channel 3 is not registered/ });
  rec.close();
  rec.close();
  t.throws(() => rec.addChannel({ topic: '/x', schemaName: 'x', schemaText: '' }), { code: 'E_IO', message: /closed/ });
  t.throws(() => McapRecorder.open(join(dir, 'bad.mcap'), { flushIntervalMs: 0 }), { code: 'E_USAGE' });
  t.end();
});
