// Child process of bench/swap.ts playing the trainer: reads, signs and chunks a model version into
// MQTT model messages in ITS OWN process, as a deployed trainer does, so that the sender's
// allocations (base64 of every chunk) do not count in the shield's RSS. Answers each
// { src, robot, sequence, privateKeyPem } with the messages as JSON strings (the MQTT payloads).
import { parsePrivateKey } from '../../src/models/signing.js';
import { readModelDir } from '../../src/models/model-dir.js';
import { buildModelMessages } from '../../src/transport/mqtt/model-transfer.js';

interface SendRequest {
  readonly src: string;
  readonly robot: string;
  readonly sequence: number;
  readonly privateKeyPem: string;
}

process.on('message', (r: SendRequest) => {
  void (async () => {
    const bundle = await readModelDir(r.src);
    const messages = buildModelMessages(bundle, { robot: r.robot, sequence: r.sequence, signer: parsePrivateKey(r.privateKeyPem), transfer: 'inline', chunkBytes: 4096 });
    process.send?.(messages.map((m) => JSON.stringify(m)));
  })();
});
process.on('disconnect', () => process.exit(0));
