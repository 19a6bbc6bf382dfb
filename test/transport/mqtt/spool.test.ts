import t from 'tap';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TransitionSpool } from '../../../src/transport/mqtt/spool.js';

const batch = (n: number): Uint8Array => new Uint8Array(100).fill(n);

void t.test('batches wait on disk, survive a restart and are sent oldest first', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'rshield-spool-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const a = await TransitionSpool.open({ dir, maxBatches: 10, maxBytes: 1e6 });
  for (let i = 1; i <= 3; i++) a.push(batch(i));
  await a.flushed();
  t.equal((await readdir(dir)).length, 3);
  const b = await TransitionSpool.open({ dir, maxBatches: 10, maxBytes: 1e6 });
  b.push(batch(4));
  const sent: number[] = [];
  let failOnce = true;
  const n1 = await b.drain((x) => {
    if (x[0] === 3 && failOnce) {
      failOnce = false;
      return Promise.reject(new Error('link down'));
    }
    sent.push(x[0] ?? 0);
    return Promise.resolve();
  }, () => true);
  t.equal(n1, 2, 'a failed send stops the drain and keeps the batch');
  await b.drain((x) => (sent.push(x[0] ?? 0), Promise.resolve()), () => true);
  t.same(sent, [1, 2, 3, 4]);
  t.equal(b.pending, 0);
  t.same(await readdir(dir), [], 'acknowledged batches are deleted');
});

void t.test('beyond the bound the oldest batches are dropped and counted', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'rshield-spool-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const s = await TransitionSpool.open({ dir, maxBatches: 5, maxBytes: 1e6 });
  for (let i = 1; i <= 8; i++) s.push(batch(i));
  t.equal(s.dropped, 3);
  const sent: number[] = [];
  await s.drain((x) => (sent.push(x[0] ?? 0), Promise.resolve()), () => true);
  t.same(sent, [4, 5, 6, 7, 8], 'none lost within the bound');
  const small = await TransitionSpool.open({ dir: join(dir, 'b'), maxBatches: 100, maxBytes: 250 });
  for (let i = 1; i <= 4; i++) small.push(batch(i));
  t.equal(small.dropped, 2, 'the byte bound holds too');
  await small.flushed();
  t.same((await readdir(join(dir, 'b'))).sort(), ['0000000000000002.rstb', '0000000000000003.rstb'], 'only the newest two are on disk, no .part left');
});

void t.test('with a window, several batches await their acknowledgement at once, sent in spool order, each deleted on its own ack', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'rshield-spool-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const s = await TransitionSpool.open({ dir, maxBatches: 100, maxBytes: 1e6 });
  for (let i = 1; i <= 10; i++) s.push(batch(i));
  await s.flushed();
  const order: number[] = [];
  const acks: (() => void)[] = [];
  let most = 0;
  const draining = s.drain((x) => {
    order.push(x[0] ?? 0);
    most = Math.max(most, acks.length + 1);
    return new Promise<void>((resolve) => acks.push(resolve));
  }, () => true, 4);
  for (let i = 0; i < 20 && acks.length < 4; i++) await new Promise((r) => setTimeout(r, 5));
  t.equal(acks.length, 4, 'four sent before any acknowledgement');
  t.equal(s.pending, 10, 'none deleted before its acknowledgement');
  acks.shift()!();
  for (let i = 0; i < 20 && acks.length < 4; i++) await new Promise((r) => setTimeout(r, 5));
  t.equal(s.pending, 9, 'the acknowledged one is deleted');
  while (order.length < 10 || acks.length > 0) {
    acks.shift()?.();
    await new Promise((r) => setTimeout(r, 2));
  }
  t.equal(await draining, 10);
  t.same(order, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 'sent oldest first');
  t.equal(most, 4, 'never more than the window in flight');
  t.same(await readdir(dir), []);
});
