// Child process of the command-flood and soak benches playing a hostile or busy client: on
// { url, topic, payloads, retain } it connects, publishes every payload at QoS 1 and answers
// { published, ms } once the broker acknowledged them all. Its own process, so the publisher's
// work does not count against the shield's event loop.
import { MqttTransport } from '../../src/transport/mqtt/mqtt-transport.js';

interface FloodRequest {
  readonly url: string;
  readonly topic: string;
  readonly payloads: readonly string[];
  readonly retain?: boolean;
}

process.on('message', (r: FloodRequest) => {
  void (async () => {
    const c = MqttTransport.connect({ url: r.url, reconnectPeriodMs: 100 });
    await c.waitConnected();
    const t0 = performance.now();
    await Promise.all(r.payloads.map((p) => c.publish(r.topic, p, { qos: 1, retain: r.retain ?? false })));
    const ms = performance.now() - t0;
    await c.close();
    process.send?.({ published: r.payloads.length, ms });
  })();
});
process.on('disconnect', () => process.exit(0));
