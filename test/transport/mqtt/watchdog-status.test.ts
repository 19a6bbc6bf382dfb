// The inference watchdog in `rshield status`: telemetry carries its counts, summed over the models
// the node swapped through; the fleet view shows them, and STUCK while no worker is ready.
import t from 'tap';
import { startBroker } from '../../helpers/broker.js';
import { parsePrivateKey } from '../../../src/models/signing.js';
import { buildModelMessages } from '../../../src/transport/mqtt/model-transfer.js';
import { FleetView } from '../../../src/transport/mqtt/fleet-view.js';
import { FakeShield, type FakePrepared } from './fakes.js';
import { ROBOT, client, keys, next, shieldNode, topics } from './harness.js';

/** A fake shield with a watchdog whose counts restart with each model, as the real one's do. */
class WatchedFakeShield extends FakeShield {
  w = { late: 0, busy: 0, replacements: 0, stuck: false };
  watchdogStats(): { late: number; busy: number; replacements: number; stuck: boolean } {
    return this.w;
  }
  override swap(p: FakePrepared): void {
    super.swap(p);
    this.w = { late: 0, busy: 0, replacements: 0, stuck: false };
  }
}

void t.test('watchdog counts reach rshield status, cumulative over swaps', async (t) => {
  const broker = await startBroker();
  t.teardown(() => broker.stop());
  const shield = new WatchedFakeShield();
  const s = await shieldNode(t, broker.url, { shield });
  shield.w = { late: 3, busy: 40, replacements: 1, stuck: false };
  t.same(s.node.telemetry().watchdog, { late: 3, busy: 40, replacements: 1, stuck: false });

  const card = { robot: ROBOT, version: 'v1', obsDim: 2, actDim: 1, critic: { file: 'critic.onnx' }, recovery: { file: 'recovery.onnx' } };
  const files = new Map([['critic.onnx', new Uint8Array(100).fill(1)], ['recovery.onnx', new Uint8Array(50).fill(2)]]);
  const trainer = client(t, broker.url);
  await trainer.waitConnected();
  const prepared = next(s.node, 'prepared');
  for (const m of buildModelMessages({ card, files }, { robot: ROBOT, sequence: 1, signer: parsePrivateKey(keys.privateKeyPem), transfer: 'inline' })) await trainer.publish(topics.model, JSON.stringify(m), { qos: 1 });
  await prepared;
  await s.node.tick(); // swapped at the tick boundary
  t.equal(shield.modelVersion, 'v1');
  shield.w = { late: 2, busy: 5, replacements: 0, stuck: true };
  t.same(s.node.telemetry().watchdog, { late: 5, busy: 45, replacements: 1, stuck: true }, 'the old model\'s counts are kept; stuck is the running one\'s');

  const view = new FleetView();
  view.handle(topics.telemetry, Buffer.from(JSON.stringify(s.node.telemetry())));
  t.match(view.rows()[0], { watchdog: { late: 5, busy: 45, replacements: 1, stuck: true } });
  t.match(view.render(), /late\s+busy\s+workers↻/);
  t.match(view.render(), /\s5\s+45\s+1 STUCK/);
});
