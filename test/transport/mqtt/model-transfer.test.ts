import t from 'tap';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSigningKeys, parsePrivateKey, parsePublicKey } from '../../../src/models/signing.js';
import { readModelDir, storeByHash } from '../../../src/models/model-dir.js';
import { ModelReceiver, buildModelMessages } from '../../../src/transport/mqtt/model-transfer.js';
import { modelMessage } from '../../../src/config/mqtt-payloads.js';
import { Shield } from '../../../src/inference/shield.js';
import { writeModelDir as writeTestModelDir } from '../../inference/helpers/models.js';
import { FakeTrainer } from './fakes.js';
import type { Teardown } from './harness.js';
import { feed, refusal } from './model-feed.js';

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

void t.test('a signed model sent in chunks arrives byte for byte', async (t) => {
  const { dir, receiver } = await setup(t);
  const bundle = await readModelDir(join(dir, 'src'));
  const msgs = buildModelMessages(bundle, { robot: 'line', sequence: 1, signer, transfer: 'inline', chunkBytes: 8192 });
  t.ok(msgs.length > 8, `${msgs.length} messages`);
  const got = await feed(receiver(), msgs);
  t.equal(got?.version, 'line-7');
  t.same(await readFile(join(got?.dir ?? '', 'critic.onnx')), await readFile(join(dir, 'src', 'critic.onnx')));
  t.notMatch(got?.dir ?? '', /line-7/, 'the staging folder is named by hash, not by message text');
});

void t.test('unsigned, foreign-signed and tampered models are refused with E_SIGNATURE', async (t) => {
  const { dir, receiver } = await setup(t);
  const bundle = await readModelDir(join(dir, 'src'));
  const unsigned = buildModelMessages(bundle, { robot: 'line', sequence: 1, transfer: 'inline' });
  t.match(await refusal(feed(receiver(), unsigned)), /^E_SIGNATURE: .*unsigned/);
  t.equal((await feed(receiver({ allowUnsigned: true }), unsigned))?.version, 'line-7', 'accepted only where unsigned models are allowed');
  const foreign = buildModelMessages(bundle, { robot: 'line', sequence: 1, transfer: 'inline', signer: parsePrivateKey(stranger.privateKeyPem) });
  t.match(await refusal(feed(receiver(), foreign)), /^E_SIGNATURE: .*not trusted/);
  const signed = buildModelMessages(bundle, { robot: 'line', sequence: 1, signer, transfer: 'inline' });
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
  const msgs = buildModelMessages(bundle, { robot: 'line', sequence: 1, signer, transfer: 'hash' });
  t.equal(msgs.length, 1, 'an announcement alone');
  t.match(await refusal(feed(receiver(), msgs)), /no model store/);
  t.match(await refusal(feed(receiver({ storeDir: join(dir, 'store') }), msgs)), /not in the model store/);
  await storeByHash(join(dir, 'store'), bundle);
  t.equal((await feed(receiver({ storeDir: join(dir, 'store') }), msgs))?.version, 'line-7');
});

void t.test('a model for another robot or other dims is refused before any bytes are taken', async (t) => {
  const { dir, receiver } = await setup(t);
  const bundle = await readModelDir(join(dir, 'src'));
  const msgs = buildModelMessages(bundle, { robot: 'line', sequence: 1, signer, transfer: 'inline' });
  t.match(await refusal(feed(receiver({ robot: 'other' }), msgs)), /E_MODEL: .*this shield runs 'other'/);
  t.match(await refusal(feed(receiver({ obsDim: 3 }), msgs)), /E_MODEL: .*obsDim 2, actDim 1; this robot has 3, 1/);
});

void t.test('a card that names other files (a PyTorch export: q.onnx, pi.onnx) is packed, sent, verified and loaded', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'rshield-xfer-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const spec = { files: { critic: 'q.onnx', recovery: 'pi.onnx' }, names: { obs: 'obs.1', act: 'action.1', q: 'q', recIn: 'input', recOut: 'output' }, card: { robot: 'torch-bot', version: 'torch-3' } };
  const src = await writeTestModelDir(join(dir, 'src'), spec);
  const bundle = await readModelDir(src);
  t.same([...bundle.files.keys()], ['q.onnx', 'pi.onnx'], 'packed: the files the card names, not critic.onnx/recovery.onnx');
  const receiver = new ModelReceiver({ robot: 'torch-bot', obsDim: 3, actDim: 3, trustedKeys: trusted, allowUnsigned: false, stagingDir: join(dir, 'staging'), storeDir: join(dir, 'store') });
  for (const transfer of ['inline', 'hash'] as const) {
    if (transfer === 'hash') await storeByHash(join(dir, 'store'), bundle);
    const got = await feed(receiver, buildModelMessages(bundle, { robot: 'torch-bot', sequence: transfer === 'inline' ? 1 : 2, signer, transfer, chunkBytes: 100 }));
    t.equal(got?.version, 'torch-3', `${transfer}: received and verified`);
    t.same(await readFile(join(got?.dir ?? '', 'pi.onnx')), await readFile(join(src, 'pi.onnx')), `${transfer}: pi.onnx byte for byte`);
    const shield = await Shield.load({ modelDir: got?.dir ?? '', robot: 'torch-bot' });
    const risky = await shield.decide(Float32Array.from([1, 1, 1]), Float32Array.from([1, 1, 1]));
    t.equal(risky.source, 'recovery', `${transfer}: the loaded model decides (sigmoid(6) > ε: recovery)`);
    t.same([...risky.action], [0.5, 0.5, 0.5], `${transfer}: the recovery policy's action`);
    await shield.close();
  }
});

void t.test('a file list that differs from the files the card names, or an unsafe name, is refused', async (t) => {
  const { dir, receiver } = await setup(t);
  const bundle = await readModelDir(join(dir, 'src'));
  const [announce, ...chunks] = buildModelMessages(bundle, { robot: 'line', sequence: 1, signer, transfer: 'inline' });
  if (announce?.kind !== 'announce') throw new Error('first message is the announcement');
  const renamed = { ...announce, card: { ...announce.card, recovery: { file: 'other.onnx' } } };
  t.match(await refusal(feed(receiver(), [renamed, ...chunks])), /^E_MODEL: .*sends files \[critic\.onnx, recovery\.onnx\] but its card names \[critic\.onnx, other\.onnx\]/);
  const climbing = { ...announce, card: { ...announce.card, recovery: { file: '../outside.onnx' } } };
  t.match(await refusal(feed(receiver(), [climbing, ...chunks])), /^E_MODEL: .*recovery\.file is "\.\.\/outside\.onnx"/);
  t.notOk(modelMessage.safeParse({ ...announce, files: [{ ...announce.files[0], name: '../x.onnx' }] }).success, 'the message schema refuses a climbing file name');
  t.ok(modelMessage.safeParse({ ...announce, files: [{ ...announce.files[0], name: 'onnx/q.onnx' }] }).success, 'and takes a plain relative one');
});

void t.test('a version is handed on only after its sequence is persisted (onAccepted is awaited)', async (t) => {
  const { dir, receiver } = await setup(t);
  const bundle = await readModelDir(join(dir, 'src'));
  const msgs = buildModelMessages(bundle, { robot: 'line', sequence: 42, signer, transfer: 'inline' });
  const order: string[] = [];
  let persist!: () => void;
  const r = receiver({
    onAccepted: (sequence) => new Promise<void>((resolve) => {
      order.push(`accepted ${sequence}`);
      persist = () => {
        order.push('persisted');
        resolve();
      };
    }),
  });
  const got = feed(r, msgs).then((m) => order.push(`handed on ${m?.version}`));
  for (let i = 0; i < 50 && order.length === 0; i++) await new Promise((res) => setTimeout(res, 5));
  await new Promise((res) => setTimeout(res, 20));
  t.same(order, ['accepted 42'], 'nothing handed on while the state write is pending');
  persist();
  await got;
  t.same(order, ['accepted 42', 'persisted', 'handed on line-7']);
});
