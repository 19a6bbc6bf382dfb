// A broker restart mid-run: shielding goes on, transitions wait in the disk spool and all of them
// reach the trainer after reconnection (the trainer keeps a persistent session).
import t from 'tap';
import { startBroker } from '../helpers/broker.js';
import { shieldNode, trainerNode } from '../transport/mqtt/harness.js';

void t.test('no transition is lost across a broker restart', async (t) => {
  const broker = await startBroker();
  t.teardown(() => broker.stop());
  const { node: trainerN, trainer } = await trainerNode(t, broker.url, { every: 1_000_000, clientId: `trainer-restart-${process.pid}` });
  const { node, shield, transport } = await shieldNode(t, broker.url, { batchSize: 16 });
  const until = (n: number): Promise<void> =>
    new Promise((resolve) => {
      const check = (): void => {
        if (trainer.received.length >= n) {
          trainerN.off('batch', check);
          resolve();
        }
      };
      trainerN.on('batch', check);
      check();
    });

  for (let i = 0; i < 32; i++) await node.tick();
  await until(32);
  const lost = new Promise<void>((resolve) => transport.onConnectionChange((up) => !up && resolve()));
  await broker.down();
  await lost;
  for (let i = 0; i < 100; i++) await node.tick();
  node.flushBatch();
  t.equal(shield.ticks, 132, 'shielding went on while the broker was down');
  await node.o.spool.flushed();
  t.ok(node.o.spool.pending >= 6, `${node.o.spool.pending} batches waited on disk`);
  await broker.up();
  await until(132);
  await node.drained();
  const keys = new Set(trainer.received.map((x) => `${x.episode}:${x.step}`));
  t.equal(trainer.received.length, 132, 'every transition arrived once (duplicates dropped)');
  t.equal(keys.size, 132, 'no (episode, step) is missing or repeated');
  t.equal(node.o.spool.pending, 0, 'the spool is empty');
  t.equal(node.o.spool.dropped, 0);
});
