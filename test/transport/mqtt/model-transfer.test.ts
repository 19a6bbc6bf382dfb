import t from 'tap';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRShieldError } from '../../../src/core/errors.js';
import { generateSigningKeys, parsePrivateKey, parsePublicKey } from '../../../src/inference/model-signing.js';
import { ModelReceiver, buildModelMessages, readModelDir, storeByHash, type ReceivedModel } from '../../../src/inference/model-transfer.js';
import type { ModelMessage } from '../../../src/config/mqtt-payloads.js';
import { FakeTrainer } from './fakes.js';
import type { Teardown } from './harness.js';

const trainer = generateSigningKeys();
const stranger = generateSigningKeys();
const signer = parsePrivateKey(trainer.privateKeyPem);
const trusted = [parsePublicKey(trainer.publicKeyPem)];

async function setup(t: Teardown): Promise<{ dir: string; receiver: (o?: Partial<ConstructorParameters<typeof ModelReceiver>[0]>) => ModelReceiver }> {
  const dir = await mkdtemp(join(tmpdir(), 'rshield-xfer-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await new FakeTrainer(50_000).exportModel(join(dir, 'src'), 'line-7');
  const receiver = (o = {}): ModelReceiver => new ModelReceiver({ robot: 'line', obsDim: 2, actDim: 1, trustedKeys: trusted, allowUnsigned: false, stagingDir: join(dir, 'staging'), ...o });
  return { dir, receiver };
}

async function feed(r: ModelReceiver, msgs: ModelMessage[]): Promise<ReceivedModel | undefined> {
  let out: ReceivedModel | undefined;
  for (const m of msgs) out = (await r.handle(m)) ?? out;
  return out;
}

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return isRShieldError(err) ? `${err.code}: ${err.message}` : `untyped: ${String(err)}`;
  }
  return 'accepted';
}

void t.test('a signed model sent in chunks arrives byte for byte', async (t) => {
  const { dir, receiver } = await setup(t);
  const bundle = await readModelDir(join(dir, 'src'));
  const msgs = buildModelMessages(bundle, { robot: 'line', signer, transfer: 'inline', chunkBytes: 8192 });
  t.ok(msgs.length > 8, `${msgs.length} messages`);
  const got = await feed(receiver(), msgs);
  t.equal(got?.version, 'line-7');
  t.same(await readFile(join(got?.dir ?? '', 'critic.onnx')), await readFile(join(dir, 'src', 'critic.onnx')));
  t.notMatch(got?.dir ?? '', /line-7/, 'the staging folder is named by hash, not by message text');
});

void t.test('unsigned, foreign-signed and tampered models are refused with E_SIGNATURE', async (t) => {
  const { dir, receiver } = await setup(t);
  const bundle = await readModelDir(join(dir, 'src'));
  const unsigned = buildModelMessages(bundle, { robot: 'line', transfer: 'inline' });
  t.match(await refusal(feed(receiver(), unsigned)), /^E_SIGNATURE: .*unsigned/);
  t.equal((await feed(receiver({ allowUnsigned: true }), unsigned))?.version, 'line-7', 'accepted only where unsigned models are allowed');
  const foreign = buildModelMessages(bundle, { robot: 'line', transfer: 'inline', signer: parsePrivateKey(stranger.privateKeyPem) });
  t.match(await refusal(feed(receiver(), foreign)), /^E_SIGNATURE: .*not trusted/);
  const signed = buildModelMessages(bundle, { robot: 'line', signer, transfer: 'inline' });
  const [announce, ...chunks] = signed;
  if (announce?.kind !== 'announce') throw new Error('first message is the announcement');
  const cardTampered = { ...announce, card: { ...announce.card, epsRisk: 0.99 } };
  t.match(await refusal(feed(receiver(), [cardTampered, ...chunks])), /^E_SIGNATURE: .*does not verify/);
  const last = chunks[chunks.length - 1];
  if (last?.kind !== 'chunk') throw new Error('chunks follow');
  const bytesTampered = [...chunks.slice(0, -1), { ...last, data: Buffer.from('evil').toString('base64') }];
  t.match(await refusal(feed(receiver(), [announce, ...bytesTampered])), /^E_SIGNATURE: .*sha256/);
});

void t.test('by content hash: read from the configured store only', async (t) => {
  const { dir, receiver } = await setup(t);
  const bundle = await readModelDir(join(dir, 'src'));
  const msgs = buildModelMessages(bundle, { robot: 'line', signer, transfer: 'hash' });
  t.equal(msgs.length, 1, 'an announcement alone');
  t.match(await refusal(feed(receiver(), msgs)), /no model store/);
  t.match(await refusal(feed(receiver({ storeDir: join(dir, 'store') }), msgs)), /not in the model store/);
  await storeByHash(join(dir, 'store'), bundle);
  t.equal((await feed(receiver({ storeDir: join(dir, 'store') }), msgs))?.version, 'line-7');
});

void t.test('a model for another robot or other dims is refused before any bytes are taken', async (t) => {
  const { dir, receiver } = await setup(t);
  const bundle = await readModelDir(join(dir, 'src'));
  const msgs = buildModelMessages(bundle, { robot: 'line', signer, transfer: 'inline' });
  t.match(await refusal(feed(receiver({ robot: 'other' }), msgs)), /E_MODEL: .*this shield runs 'other'/);
  t.match(await refusal(feed(receiver({ obsDim: 3 }), msgs)), /E_MODEL: .*obsDim 2, actDim 1; this robot has 3, 1/);
});
