// Fleet operations by signed command on a real broker: pin freezes the running version (updates
// refused and said), rollback swaps the version before it back in at a tick boundary and pins it,
// unpin lets the trainer's next version through; the status and `rshield status` show the pin.
import t from 'tap';
import { join } from 'node:path';
import { startBroker } from '../../helpers/broker.js';
import { FleetView } from '../../../src/transport/mqtt/fleet-view.js';
import { FakeTrainer } from './fakes.js';
import { client, next, shieldNode, signedCmd, tempDir, topics, trainerNode } from './harness.js';

const until = async (cond: () => boolean, ms = 5000): Promise<void> => {
  for (const end = Date.now() + ms; !cond() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 10));
};

void t.test('pin, rollback and unpin, each signed by an operator', async (t) => {
  const broker = await startBroker();
  t.teardown(() => broker.stop());
  const dir = await tempDir(t, 'rshield-pin-');
  const start = join(dir, 'start');
  await new FakeTrainer(1000).exportModel(start, 'v0');
  const tr = await trainerNode(t, broker.url, { every: 16 });
  const s = await shieldNode(t, broker.url, { batchSize: 16, startModelDir: start });
  const op = client(t, broker.url);
  await op.waitConnected();
  const send = async (cmd: 'pin' | 'unpin' | 'rollback', id: string): Promise<void> => {
    const applied = next<[unknown]>(s.node, 'cmd');
    await op.publish(topics.cmd, signedCmd(cmd, { id }), { qos: 1 });
    await applied;
  };
  const ticksUntilSwapped = async (): Promise<string> => {
    const swapped = next<[string]>(s.node, 'swapped');
    let got: string | undefined;
    void swapped.then(([v]) => (got = v));
    for (let i = 0; i < 400 && got === undefined; i++) {
      await s.node.tick();
      await new Promise((r) => setTimeout(r, 2));
    }
    return got ?? 'none';
  };

  t.equal(await ticksUntilSwapped(), 'line-online.1', 'the trainer\'s first version swaps in');
  await send('pin', 'op-pin');
  t.equal(s.node.pinned, 'line-online.1', 'pinned at the running version');
  t.match(s.node.status(), { pinned: 'line-online.1' });
  const refused = next<[string, string]>(s.node, 'swapFailed');
  for (let i = 0; i < 40; i++) await s.node.tick();
  const [version, why] = await refused;
  t.equal(version, 'line-online.2');
  t.match(why, /pinned at line-online\.1 by an operator/, 'a new version is refused while pinned, and said');
  t.equal(s.shield.modelVersion, 'line-online.1', 'the pinned version keeps running');

  await send('rollback', 'op-back');
  t.equal(s.node.pinned, 'v0', 'rollback pins the version it goes back to');
  t.equal(await ticksUntilSwapped(), 'v0', 'the start model is swapped back in at a tick boundary');
  t.equal(s.shield.modelVersion, 'v0');

  const view = new FleetView();
  view.handle(topics.status, Buffer.from(JSON.stringify(s.node.status())));
  t.match(view.render(), /PINNED at v0: model updates refused until rshield cmd unpin/, 'rshield status says so');

  await send('unpin', 'op-free');
  t.equal(s.node.pinned, undefined);
  const after = await ticksUntilSwapped();
  t.match(after, /^line-online\.\d+$/, `after unpin the trainer's next version swaps in (${after})`);
  t.ok(tr.schedule.published >= 3, `${tr.schedule.published} versions published`);
});

void t.test('rollback with nothing to roll back to is refused and said; the running model stays', async (t) => {
  const broker = await startBroker();
  t.teardown(() => broker.stop());
  const s = await shieldNode(t, broker.url);
  const op = client(t, broker.url);
  await op.waitConnected();
  const failed = next<[string, string]>(s.node, 'swapFailed');
  await op.publish(topics.cmd, signedCmd('rollback', { id: 'op-x' }), { qos: 1 });
  const [what, why] = await failed;
  t.equal(what, 'rollback');
  t.match(why, /no earlier version to roll back to/);
  t.equal(s.node.pinned, undefined, 'nothing pinned');
  t.equal(s.shield.modelVersion, 'v0');
  await until(() => s.node.lastSwapError !== undefined);
  t.match(s.node.status(), { lastSwapError: /rollback: no earlier version/ });
});
