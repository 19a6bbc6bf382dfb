import t from 'tap';
import { startBroker } from '../../helpers/broker.js';
import { MqttTransport } from '../../../src/transport/mqtt/mqtt-transport.js';

/** Fails the test instead of hanging it when `p` does not settle within `ms`. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not return within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, guard]);
  } finally {
    clearTimeout(timer);
  }
}

void t.test('a graceful close with a QoS 1 publish in flight and the broker gone returns', async (t) => {
  const broker = await startBroker();
  t.teardown(() => broker.stop());
  const link = MqttTransport.connect({ url: broker.url, clientId: 'close-test-a', reconnectPeriodMs: 100 });
  await link.waitConnected();
  await broker.down();
  // Never acknowledged: the broker is down.
  void link.publish('rshield/test/close', 'x', { qos: 1 }).catch(() => undefined);
  await within(link.close({ graceMs: 300 }), 10_000, 'close()');
  t.pass('close() returned with the broker down');
});

void t.test('the broker back but not yet reconnected to: close still returns', async (t) => {
  const broker = await startBroker();
  t.teardown(() => broker.stop());
  const link = MqttTransport.connect({ url: broker.url, clientId: 'close-test-b', reconnectPeriodMs: 5_000 });
  await link.waitConnected();
  await broker.down();
  void link.publish('rshield/test/close', 'x', { qos: 1 }).catch(() => undefined);
  await broker.up();
  const started = performance.now();
  await within(link.close(), 10_000, 'close()');
  t.ok(performance.now() - started < 5_000, 'without waiting for the next reconnect');
});

void t.test('a graceful close waits for the acknowledgement and disconnects cleanly (no last will)', async (t) => {
  const broker = await startBroker();
  t.teardown(() => broker.stop());
  const will = 'rshield/test/will';
  const watcher = MqttTransport.connect({ url: broker.url, clientId: 'close-test-watch' });
  await watcher.waitConnected();
  const wills: string[] = [];
  const got: string[] = [];
  await watcher.subscribe(will, (_topic, payload) => wills.push(payload.toString()));
  await watcher.subscribe('rshield/test/acked', (_topic, payload) => got.push(payload.toString()));
  const link = MqttTransport.connect({ url: broker.url, clientId: 'close-test-c', will: { topic: will, payload: 'gone', retain: false, qos: 1 } });
  await link.waitConnected();
  const acked = link.publish('rshield/test/acked', 'kept', { qos: 1 });
  await within(link.close(), 10_000, 'close()');
  await acked;
  await new Promise((r) => setTimeout(r, 300));
  t.same(got, ['kept'], 'the publish in flight reached the broker');
  t.same(wills, [], 'no last will: the disconnect was clean');
  await watcher.close();
});
