// Child process of bench/soak.ts playing the trainer: on { url, robot, src, sequence, version,
// privateKeyPem } it signs the model in `src` under that version and sequence, publishes the
// announcement and chunks at QoS 1 and answers { published } — in its own process, as a deployed
// trainer runs, so the sender's buffers do not count in the shield's RSS.
import { readModelDir } from '../../src/models/model-dir.js';
import { parsePrivateKey } from '../../src/models/signing.js';
import { buildModelMessages } from '../../src/transport/mqtt/model-transfer.js';
import { MqttTransport } from '../../src/transport/mqtt/mqtt-transport.js';
import { robotTopics } from '../../src/transport/mqtt/topics.js';

interface PublishRequest {
  readonly url: string;
  readonly robot: string;
  readonly src: string;
  readonly sequence: number;
  readonly version: string;
  readonly privateKeyPem: string;
}

let link: MqttTransport | undefined;
process.on('message', (r: PublishRequest) => {
  void (async () => {
    link ??= MqttTransport.connect({ url: r.url, reconnectPeriodMs: 100 });
    await link.waitConnected();
    const bundle = await readModelDir(r.src);
    const messages = buildModelMessages({ card: { ...bundle.card, version: r.version }, files: bundle.files }, { robot: r.robot, sequence: r.sequence, signer: parsePrivateKey(r.privateKeyPem), transfer: 'inline', chunkBytes: 256 * 1024 });
    for (const m of messages) await link.publish(robotTopics(r.robot).model, JSON.stringify(m), { qos: 1 });
    process.send?.({ published: r.version });
  })().catch((err: unknown) => process.send?.({ error: String(err) }));
});
process.on('disconnect', () => process.exit(0));
