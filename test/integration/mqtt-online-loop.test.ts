// The full online loop on a real broker: the shield streams transitions, the trainer learns,
// signs and publishes a new version, the shield verifies, swaps between ticks and uses it.
import t from 'tap';
import { startBroker } from '../helpers/broker.js';
import { telemetryPayload, statusPayload, parseJsonPayload } from '../../src/config/mqtt-payloads.js';
import { client, next, shieldNode, topics, trainerNode, waitForMessage } from '../transport/mqtt/harness.js';

void t.test('a new model is trained, signed, swapped and used; telemetry reports it', async (t) => {
  const broker = await startBroker();
  t.teardown(() => broker.stop());
  const { schedule, trainer } = await trainerNode(t, broker.url, { every: 64 });
  const { node, shield, timers } = await shieldNode(t, broker.url, { batchSize: 16 });
  const watcher = client(t, broker.url);
  await watcher.waitConnected();
  const telemetry: unknown[] = [];
  let telemetryArrived: () => void = () => {};
  const statusHandlers: ((topic: string, p: Uint8Array) => void)[] = [];
  await watcher.subscribe(topics.status, (topic, p) => statusHandlers.forEach((h) => h(topic, p)));
  const statusAfterSwap = waitForMessage(
    (h) => statusHandlers.push(h),
    (p) => {
      const r = parseJsonPayload(statusPayload, p);
      return r.ok && r.value.state === 'online' && r.value.modelVersion === 'line-online.1';
    },
  );
  await watcher.subscribe(topics.telemetry, (_t, p) => {
    telemetry.push(parseJsonPayload(telemetryPayload, p));
    telemetryArrived();
  });

  const published = next<[string]>(schedule, 'published');
  const prepared = next<[string]>(node, 'prepared');
  const swapped = next<[string]>(node, 'swapped');
  // 64 transitions = 4 batches reach the trainer, 64 updates, one version published.
  for (let i = 0; i < 64; i++) await node.tick();
  const [version] = await published;
  t.equal(version, 'line-online.1');
  t.equal(trainer.received.length, 64, 'every transition reached the trainer once');
  t.same([trainer.received[0]?.episode, trainer.received[0]?.step], [0, 0]);
  // a′ of the TD target: the controller's proposal at s′ (0.3), also where the shield executed its recovery action.
  const withNext = trainer.received.filter((x) => x.nextAct !== undefined);
  t.ok(withNext.length >= 64 - 4 - node.episodes, `${withNext.length} of 64 rows carry a′ (not the last row of each batch of 16, nor an episode's last)`);
  t.ok(withNext.every((x) => Math.abs((x.nextAct?.[0] ?? 0) - 0.3) < 1e-6), 'every a′ is the proposal');

  await prepared;
  t.equal(shield.modelVersion, 'v0', 'the new model waits for a tick boundary');
  await node.tick();
  t.same(await swapped, ['line-online.1']);
  t.equal(shield.modelVersion, 'line-online.1');
  t.ok(shield.recoveryAction < -0.2, 'the swapped model is the one in use');
  const interventionsBefore = shield.interventions;
  for (let i = 0; i < 20; i++) await node.tick();
  t.ok(shield.interventions > interventionsBefore, 'and it intervenes');

  const tel = new Promise<void>((resolve) => (telemetryArrived = resolve));
  timers.fire();
  await tel;
  const last = telemetry[telemetry.length - 1] as { ok: boolean; value?: { modelVersion: string; ticks: number; swaps: number } };
  t.ok(last.ok, 'telemetry validates against its schema');
  t.equal(last.value?.modelVersion, 'line-online.1');
  t.equal(last.value?.swaps, 1);
  t.equal(last.value?.ticks, 85);
  await statusAfterSwap;
  t.pass('the retained status names the running version');
});
