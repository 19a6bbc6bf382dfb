// Freshness and integrity of model updates: replayed and equal versions are refused, the staged
// copy on disk cannot change what is loaded, chunk and update sizes are bounded before buffering.
import t from 'tap';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSigningKeys, parsePrivateKey, parsePublicKey } from '../../../src/models/signing.js';
import { readModelDir, type ModelBundle } from '../../../src/models/model-dir.js';
import { ModelReceiver, buildModelMessages, type ModelReceiverOptions } from '../../../src/transport/mqtt/model-transfer.js';
import type { ModelMessage } from '../../../src/config/mqtt-payloads.js';
import { handleModel } from '../../../src/transport/mqtt/handlers/model.js';
import { Shield } from '../../../src/inference/shield.js';
import { writeModelDir } from '../../inference/helpers/models.js';
import type { Teardown } from './harness.js';
import { feed, refusal } from './model-feed.js';

const keys = generateSigningKeys();
const signer = parsePrivateKey(keys.privateKeyPem);
const trusted = [parsePublicKey(keys.publicKeyPem)];

interface Setup {
  readonly dir: string;
  readonly bundle: ModelBundle;
  readonly receiver: (o?: Partial<ModelReceiverOptions>) => ModelReceiver;
}

async function setup(t: Teardown): Promise<Setup> {
  const dir = await mkdtemp(join(tmpdir(), 'rshield-fresh-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const bundle = await readModelDir(await writeModelDir(join(dir, 'src'), { card: { robot: 'test-bot', version: 'v1', epsRisk: 0.3 } }));
  const receiver = (o: Partial<ModelReceiverOptions> = {}): ModelReceiver => {
    const r = new ModelReceiver({ robot: 'test-bot', obsDim: 3, actDim: 3, trustedKeys: trusted, allowUnsigned: false, stagingDir: join(dir, 'staging'), ...o });
    t.teardown(() => r.close());
    return r;
  };
  return { dir, bundle, receiver };
}

function version(bundle: ModelBundle, v: string, sequence: number): ModelMessage[] {
  return buildModelMessages({ card: { ...bundle.card, version: v }, files: bundle.files }, { robot: 'test-bot', sequence, signer, transfer: 'inline', chunkBytes: 4096 });
}

void t.test('a replayed older version, validly signed, is refused and counted; so is an equal one', async (t) => {
  const { bundle, receiver } = await setup(t);
  const r = receiver();
  const old = version(bundle, 'v1', 1);
  t.equal((await feed(r, old))?.version, 'v1', 'sequence 1 accepted by a fresh receiver');
  t.equal((await feed(r, version(bundle, 'v2', 2)))?.version, 'v2');
  t.equal(r.newestSequence, 2);
  t.match(await refusal(feed(r, old)), /^E_MODEL: model v1 has sequence 1, below 2 of v2: an older or replayed version is refused/);
  t.match(await refusal(feed(r, version(bundle, 'v2-again', 2))), /^E_MODEL: model v2-again has sequence 2, equal to 2 of v2/);
  t.equal(r.refusedStale, 2, 'both refusals counted');
  t.equal((await feed(r, version(bundle, 'v3', 3)))?.version, 'v3', 'a newer version still goes through');
  t.match(await refusal(feed(receiver({ startSequence: 5 }), version(bundle, 'v4', 4))), /sequence 4, below 5 of the start model/);
});

void t.test('the sequence is inside the signed text: raising it breaks the signature', async (t) => {
  const { bundle, receiver } = await setup(t);
  const [announce, ...chunks] = version(bundle, 'v1', 1);
  if (announce?.kind !== 'announce') throw new Error('first message is the announcement');
  t.match(await refusal(feed(receiver(), [{ ...announce, sequence: 99 }, ...chunks])), /^E_SIGNATURE: .*does not verify/);
});

void t.test('a version overtaken while it was still arriving is refused when it completes', async (t) => {
  const { bundle, receiver } = await setup(t);
  const r = receiver();
  const [a5, ...c5] = version(bundle, 'v5', 5);
  if (a5 === undefined) throw new Error('announcement');
  await r.handle(a5);
  t.equal((await feed(r, version(bundle, 'v6', 6)))?.version, 'v6');
  t.match(await refusal(feed(r, c5)), /model v5 has sequence 5, below 6 of v6/);
});

void t.test('staging is a private 0700 folder, and a card swapped on disk between check and load has no effect', async (t) => {
  const { dir, bundle, receiver } = await setup(t);
  const got = await feed(receiver(), version(bundle, 'signed-1', 1));
  if (got === undefined) throw new Error('received');
  const root = join(got.dir, '..');
  t.equal((await stat(root)).mode & 0o777, 0o700, 'only this user may enter the staging folder');
  t.not(root, join(dir, 'staging'), 'a fresh folder of its own inside the configured one');
  // Another writer replaces the card (ε_risk 1 switches the shield off) and the critic after the check.
  const card = JSON.parse(await readFile(join(got.dir, 'model.json'), 'utf8')) as Record<string, unknown>;
  await writeFile(join(got.dir, 'model.json'), JSON.stringify({ ...card, version: 'tampered', epsRisk: 1 }));
  await writeFile(join(got.dir, 'critic.onnx'), 'not onnx');

  const opts = { robot: 'test-bot' };
  const running = await Shield.load({ modelDir: join(dir, 'src'), ...opts });
  t.teardown(() => running.close());
  const port = running;
  await port.swap(await port.prepare(got.dir, got.bundle));
  t.equal(port.modelVersion, 'signed-1', 'the signed card is what runs');
  t.equal(running.epsRisk, 0.3, 'its ε_risk, not the one written on disk');
  t.match(await refusal(port.prepare(got.dir)), /critic\.onnx: not a valid ONNX model|epsRisk: must be below 1/, 'reading the folder back would have loaded the tampered files');
});

void t.test('a parent folder any user may write (no sticky bit) is refused for staging', async (t) => {
  const { dir, bundle, receiver } = await setup(t);
  const open = join(dir, 'open');
  await mkdir(open, { recursive: true });
  await chmod(open, 0o777);
  t.match(await refusal(feed(receiver({ stagingDir: open }), version(bundle, 'v1', 1))), /^E_CONFIG: .*open is writable by every user and not sticky \(mode 777\)/);
});

void t.test('chunk and update sizes are bounded by configuration', async (t) => {
  const { bundle, receiver } = await setup(t);
  const total = [...bundle.files.values()].reduce((n, b) => n + b.byteLength, 0);
  t.match(await refusal(feed(receiver({ maxUpdateBytes: total - 1 }), version(bundle, 'v1', 1))), new RegExp(`^E_MODEL: model v1 is ${total} bytes in 2 files, over this shield's limit of ${total - 1} bytes per update`));
  t.match(await refusal(feed(receiver({ maxChunkBytes: 1024 }), version(bundle, 'v1', 1))), /^E_MODEL: model v1 is sent in chunks of 4096 bytes, over this shield's limit of 1024/);
  const r = receiver();
  const [announce, first] = version(bundle, 'v1', 1);
  if (announce === undefined || first?.kind !== 'chunk') throw new Error('announcement and chunk');
  await r.handle(announce);
  const padded = { ...first, data: Buffer.alloc(4097, 1).toString('base64') };
  t.match(await refusal(r.handle(padded)), /^E_DATA: chunk 0\/\d+ of critic\.onnx of model v1 is 4097 bytes, over the announced 4096/);
});

void t.test('an oversize model message is refused unread, counted, without buffering it again', async (t) => {
  const { receiver } = await setup(t);
  const r = receiver();
  const invalid: string[] = [];
  const target = { receiver: r, invalid: (_topic: string, why: string) => invalid.push(why), received: () => invalid.push('received'), refused: (_v: string, why: string) => invalid.push(why) };
  // A 96 MiB chunk message: parsing it as JSON and decoding its base64 would take > 150 MB.
  const payload = Buffer.alloc(96 * 1024 * 1024, 0x41);
  payload.write('{"v":1,"kind":"chunk","version":"v1","file":"critic.onnx","index":0,"total":1,"data":"', 0);
  payload.write('"}', payload.byteLength - 2);
  const peakKb = process.resourceUsage().maxRSS;
  await handleModel(target, 'rshield/v1/test-bot/model', payload);
  const grownMb = (process.resourceUsage().maxRSS - peakKb) / 1024;
  t.match(invalid, [/^model message of 100663296 bytes refused unread: over 1463640 bytes \(chunks of at most 1048576 bytes\)$/]);
  t.equal(r.refusedOversize, 1, 'counted');
  t.ok(grownMb < 24, `peak RSS grew ${grownMb.toFixed(1)} MB handling a 96 MiB message`);
});
