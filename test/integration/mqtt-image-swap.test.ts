// The online loop's model path with an image model (`rshield run --sim` on a camera robot): signed
// image versions arrive over a real broker, are verified by the ModelReceiver, prepared by the
// ImageShield in quarantine, and swapped in between ticks of the node, which pictures each state
// for the shield before deciding; a version refused on the way (a NaN latent on the running frame,
// a replayed sequence) is counted with its reason and the running version keeps deciding.
import t from 'tap';
import { join } from 'node:path';
import { createController, createEnv, hasCamera } from '../../src/envs/index.js';
import { ImageShield } from '../../src/inference/image-shield.js';
import { writeModelDir, type ModelBundle } from '../../src/models/model-dir.js';
import { parsePrivateKey, parsePublicKey } from '../../src/models/signing.js';
import { ModelReceiver, buildModelMessages } from '../../src/transport/mqtt/model-transfer.js';
import { ShieldNode } from '../../src/transport/mqtt/shield-node.js';
import { TransitionSpool } from '../../src/transport/mqtt/spool.js';
import { robotTopics } from '../../src/transport/mqtt/topics.js';
import { startBroker } from '../helpers/broker.js';
import { imageVersions, nanEncoderBytes } from '../inference/helpers/image-versions.js';
import { client, keys, next, tempDir } from '../transport/mqtt/harness.js';

const ROBOT = 'dvrk-reacher-image';

void t.test('image versions over MQTT: swapped between ticks and used; a bad one refused, counted and named', async (t) => {
  const broker = await startBroker();
  t.teardown(() => broker.stop());
  const dir = await tempDir(t, 'rshield-image-loop-');
  const versions = await imageVersions();
  t.teardown(versions.cleanup);
  await writeModelDir(join(dir, 'v1'), versions.version('img-1', 0.001));
  const shield = await ImageShield.load({ modelDir: join(dir, 'v1'), robot: ROBOT, imageStaleAfterMs: 1000, deadlineUs: 1_000_000 });
  t.teardown(() => shield.close());
  const env = createEnv(ROBOT, { seed: 3 });
  if (!hasCamera(env)) throw new Error(`${ROBOT} has a camera`);
  const transport = client(t, broker.url);
  await transport.waitConnected();
  const receiver = new ModelReceiver({ robot: ROBOT, obsDim: 3, actDim: 3, trustedKeys: [parsePublicKey(keys.publicKeyPem)], allowUnsigned: false, stagingDir: join(dir, 'staging') });
  const decided: { source: string; c: number }[] = [];
  const node = new ShieldNode({
    robot: ROBOT,
    env,
    controller: createController(ROBOT, { seed: 3 }),
    shield,
    transport,
    spool: await TransitionSpool.open({ dir: join(dir, 'spool'), maxBatches: 1000, maxBytes: 1e8 }),
    receiver,
    batchSize: 25,
    session: 1,
    beforeDecide: () => shield.pushFrame(env.frame(Date.now())),
    onDecision: (_obs, _proposed, d) => void decided.push({ source: d.source, c: Math.round((d.action[0] as number) * 1000) }),
  });
  t.teardown(() => node.stop());
  await node.start();

  const trainer = client(t, broker.url);
  await trainer.waitConnected();
  const publish = async (bundle: ModelBundle, sequence: number): Promise<void> => {
    for (const m of buildModelMessages(bundle, { robot: ROBOT, sequence, signer: parsePrivateKey(keys.privateKeyPem), transfer: 'inline', chunkBytes: 32 * 1024 })) {
      await trainer.publish(robotTopics(ROBOT).model, JSON.stringify(m), { qos: 1 });
    }
  };
  /** Ticks until `event` settles (at most 2 000 ticks), resolving with its arguments. */
  const tickUntil = async <A extends unknown[]>(event: Promise<A>): Promise<A> => {
    let got: A | undefined;
    void event.then((a) => (got = a));
    for (let i = 0; i < 2000 && got === undefined; i++) {
      await node.tick();
      await new Promise((r) => setTimeout(r, 1));
    }
    if (got === undefined) throw new Error('the event did not come within 2 000 ticks');
    return got;
  };
  /** Publishes a version and ticks until the node says what became of it (listening before the first message goes out). */
  const offer = <A extends unknown[]>(event: string, bundle: ModelBundle, sequence: number): Promise<A> => {
    const ev = next<A>(node, event);
    return publish(bundle, sequence).then(() => tickUntil(ev));
  };

  for (let i = 0; i < 10; i++) await node.tick();
  t.same(await offer<[string]>('swapped', versions.version('img-2', 0.002), 2), ['img-2'], 'the signed image version is swapped in at a tick boundary');
  const swappedAt = decided.length;
  for (let i = 0; i < 10; i++) await node.tick();
  t.same(new Set(decided.slice(swappedAt).map((d) => d.c)), new Set([2]), 'every tick after the swap uses the new version\'s heads');

  const [bad, why] = await offer<[string, string]>('swapFailed', versions.version('img-3', 0.003, (_card, files) => files.set('encoder.onnx', nanEncoderBytes(versions.latentDim, 1))), 3);
  t.equal(bad, 'img-3');
  t.match(why, /refused: on the running camera frame \(64×48\) its encoder gives latent\[0\] = NaN/, 'the reason names the frame and the value');
  const [old, stale] = await offer<[string, string]>('swapFailed', versions.version('img-old', 0.004), 1);
  t.equal(old, 'img-old');
  t.match(stale, /sequence 1, below 3 of img-3: an older or replayed version is refused/);
  for (let i = 0; i < 10; i++) await node.tick();

  t.equal(shield.modelVersion, 'img-2', 'the running version stays');
  t.equal(node.swaps, 1);
  t.equal(node.swapFailures, 2, 'both refusals counted');
  t.equal(receiver.refusedStale, 1);
  t.match(node.status(), { lastSwapError: /^img-old: / }, 'the newest refusal is in the retained status');
  t.match(node.telemetry(), { swaps: 1, swapFailures: 2, modelVersion: 'img-2', failsafes: 0 });
  t.same(decided.filter((d) => d.source !== 'recovery'), [], 'no tick failed safe: none lost to a swap or a refusal');
  t.equal(decided[decided.length - 1]?.c, 2, 'and the last ones still decide with img-2');
});
