// Model updates that must not run: signed by an untrusted key, or failing the shield's checks.
// The running model stays and the shield says why (event, status).
import t from 'tap';
import { generateSigningKeys } from '../../src/models/signing.js';
import { parseJsonPayload, statusPayload } from '../../src/config/mqtt-payloads.js';
import { startBroker } from '../helpers/broker.js';
import { client, next, shieldNode, topics, trainerNode, waitForMessage } from '../transport/mqtt/harness.js';

void t.test('a badly signed version is refused, a broken one fails its check; the running model stays', async (t) => {
  const broker = await startBroker();
  t.teardown(() => broker.stop());
  const { node, shield } = await shieldNode(t, broker.url);
  const rogue = await trainerNode(t, broker.url, { every: 16, signWith: generateSigningKeys().privateKeyPem });
  const watcher = client(t, broker.url);
  await watcher.waitConnected();
  const statusSays = waitForMessage(
    (h) => void watcher.subscribe(topics.status, h),
    (p) => {
      const r = parseJsonPayload(statusPayload, p);
      return r.ok && r.value.state === 'online' && /not trusted/.test(r.value.lastSwapError ?? '');
    },
  );
  const refused = next<[string, string]>(node, 'swapFailed');
  for (let i = 0; i < 16; i++) await node.tick();
  const [version, reason] = await refused;
  t.equal(version, 'line-online.1');
  t.match(reason, /signed by key [0-9a-f]{16}, which is not trusted/);
  await statusSays;
  t.pass('the retained status reports the refusal');
  await rogue.node.stop();

  const honest = await trainerNode(t, broker.url, { every: 16 });
  honest.trainer.broken = true;
  const failed = next<[string, string]>(node, 'swapFailed');
  for (let i = 0; i < 16; i++) await node.tick();
  const [, why] = await failed;
  t.match(why, /check batch gave NaN/, 'a model failing its check batch is not swapped');
  for (let i = 0; i < 5; i++) await node.tick();
  t.equal(shield.modelVersion, 'v0', 'the running model stayed');
  t.equal(node.swaps, 0);
  t.equal(node.swapFailures, 2);
});
