// Hot-swap of an image model (docs/shield.md "Hot-swap"), through the path a received update
// takes: signed messages → ModelReceiver (sequence, signature over every file the card names) →
// ImageShield.prepare from the verified bytes (both workers checked in quarantine) → swap between
// ticks. Versions differ in their heads' constant recovery action c = n/1000, so each tick's
// action tells which version decided it.
import t from 'tap';
import type { Test } from 'tap';
import { join } from 'node:path';
import { dvrkCamera, renderFrame } from '../../src/envs/index.js';
import type { ImageFrame } from '../../src/core/image-frame.js';
import { isRShieldError } from '../../src/core/errors.js';
import { ImageShield } from '../../src/inference/image-shield.js';
import { readModelDir, writeModelDir, type ModelBundle } from '../../src/models/model-dir.js';
import { generateSigningKeys, parsePrivateKey, parsePublicKey } from '../../src/models/signing.js';
import { ModelReceiver, buildModelMessages } from '../../src/transport/mqtt/model-transfer.js';
import { feed } from '../transport/mqtt/model-feed.js';
import { writeModelDir as writeStateModelDir } from './helpers/models.js';
import { constantHeadsBytes, imageVersions, nanEncoderBytes, type ImageVersions } from './helpers/image-versions.js';

const ROBOT = 'dvrk-reacher-image';
const OBS = Float32Array.of(0.06, 0.07, -0.13);
const PROPOSED = Float32Array.of(0.001, 0, 0);
const keys = generateSigningKeys();
const signer = parsePrivateKey(keys.privateKeyPem);
const frame = (): ImageFrame => renderFrame(dvrkCamera, OBS, Date.now());
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The version (n of c = n/1000) a tick's action names. */
const versionOf = (action: Float32Array): number => Math.round((action[0] as number) * 1000);

interface Setup {
  readonly versions: ImageVersions;
  readonly shield: ImageShield;
  readonly receiver: ModelReceiver;
  /** Sends a version as the trainer would (signed, sequence `seq`, inline chunks); resolves with what the receiver verified. */
  readonly receive: (bundle: ModelBundle, seq: number, tamper?: (msgs: ReturnType<typeof buildModelMessages>) => void) => Promise<{ dir: string; bundle: ModelBundle }>;
  /** receive, prepare, swap: 'swapped', or the refusal as `CODE: message`. */
  readonly offer: (bundle: ModelBundle, seq: number, tamper?: (msgs: ReturnType<typeof buildModelMessages>) => void) => Promise<string>;
}

async function setup(t: Test, o: { deadlineUs?: number } = {}): Promise<Setup> {
  const versions = await imageVersions();
  t.teardown(versions.cleanup);
  const root = t.testdir();
  const start = join(root, 'start');
  await writeModelDir(start, versions.version('img-1', 0.001));
  // A generous deadline: this test is about swaps, not about a loaded machine's scheduling.
  const shield = await ImageShield.load({ modelDir: start, robot: ROBOT, imageStaleAfterMs: 10_000, deadlineUs: o.deadlineUs ?? 1_000_000 });
  t.teardown(() => shield.close());
  const receiver = new ModelReceiver({ robot: ROBOT, obsDim: 3, actDim: 3, trustedKeys: [parsePublicKey(keys.publicKeyPem)], allowUnsigned: false, stagingDir: join(root, 'staging') });
  t.teardown(() => receiver.close());
  const receive: Setup['receive'] = async (bundle, seq, tamper) => {
    const msgs = buildModelMessages(bundle, { robot: ROBOT, sequence: seq, signer, transfer: 'inline', chunkBytes: 64 * 1024 });
    tamper?.(msgs);
    const got = await feed(receiver, msgs);
    if (got === undefined) throw new Error(`version ${bundle.card.version} did not complete`);
    return got;
  };
  const offer: Setup['offer'] = async (bundle, seq, tamper) => {
    try {
      const got = await receive(bundle, seq, tamper);
      const prepared = await shield.prepare(got.dir, got.bundle);
      await shield.swap(prepared);
      return 'swapped';
    } catch (err) {
      return isRShieldError(err) ? `${err.code}: ${err.message}` : `untyped: ${String(err)}`;
    }
  };
  return { versions, shield, receiver, receive, offer };
}

void t.test('image versions swapped in while ticks run: no tick lost, failed or thrown; each new version decides from its first tick', async (t) => {
  const { versions, shield, receive } = await setup(t);
  await shield.pushFrame(frame());
  const first = shield.model;

  let stop = false;
  let ticks = 0;
  const seen: number[] = [];
  const loop = (async () => {
    while (!stop) {
      // Frames arrive as a camera's would: not awaited by the tick.
      if (ticks % 4 === 0) void shield.pushFrame(frame());
      const d = await shield.decide(OBS, PROPOSED);
      ticks++;
      if (d.source !== 'recovery') throw new Error(`tick ${ticks}: ${d.source} ${d.failsafeReason ?? ''} on version ${shield.modelVersion}`);
      const v = versionOf(d.action);
      if (seen[seen.length - 1] !== v) seen.push(v);
      // Paced like a fast robot, so preparing the next version has the CPU between ticks.
      await sleep(1);
    }
  })();

  const previous: string[] = [];
  for (const n of [2, 3, 4]) {
    const got = await receive(versions.version(`img-${n}`, n / 1000), n);
    t.same([...got.bundle.files.keys()].sort(), ['critic.onnx', 'encoder.onnx', 'heads.onnx', 'recovery.onnx'], `version ${n}: signed and verified over every file the card names`);
    const prepared = await shield.prepare(got.dir, got.bundle);
    previous.push(await shield.swap(prepared));
    t.equal(shield.modelVersion, `img-${n}`);
    await sleep(30);
  }
  stop = true;
  await loop;

  t.same(previous, ['img-1', 'img-2', 'img-3'], 'swap resolves with the version it replaced');
  t.same(seen, [1, 2, 3, 4], 'every version decided in turn, none skipped, never back');
  const s = shield.stats();
  t.equal(s.ticks, ticks, 'every loop iteration is one counted tick');
  t.equal(s.failsafes, 0, 'no fail-safe: the new encoder had the running frame before its first tick (no stale-image)');
  t.equal(s.interventions, ticks);
  t.ok(shield.frameStats().encoded >= 4, `frame counts carry over the swaps (${shield.frameStats().encoded} encoded)`);
  t.equal(first.heads.stats().stuck, true, 'the first version\'s workers were stopped once it was swapped out');
  t.equal(shield.watchdogStats().stuck, false, 'the running version has its worker');
});

void t.test('bad image versions are refused with their reason and the running version keeps deciding', async (t) => {
  const { versions, shield, receiver, offer } = await setup(t);
  await shield.pushFrame(frame());
  t.equal(await offer(versions.version('img-2', 0.002), 2), 'swapped', 'a good version first (sequence 2)');
  const L = versions.latentDim;

  const refusals: [string, string, RegExp][] = [
    ['encoder output the card names is not in the graph', await offer(versions.version('img-3a', 0.003, (card) => {
      (card.encoder as { output: string }).output = 'z';
    }), 3), /^E_MODEL: .*encoder\.onnx: the card names output 'z', the graph has latent/],
    ['card latentDim other than the graphs\'', await offer(versions.version('img-4', 0.004, (card) => {
      (card.image as { latentDim: number }).latentDim = L / 2;
    }), 4), /^E_MODEL: .*(heads|encoder)\.onnx: (input|output) 'latent' has 64 values per row, the card's image\.latentDim is 32/],
    ['heads give NaN', await offer(versions.version('img-5', 0.005, (_card, files) => {
      files.set('heads.onnx', constantHeadsBytes(L, 0.005, Number.NaN));
    }), 5), /^E_MODEL: .*heads\.onnx: on a zero latent and state the heads give Q_risk NaN, outside \[0, 1\]/],
    ['encoder gives NaN on a black frame', await offer(versions.version('img-6', 0.004, (_card, files) => {
      files.set('encoder.onnx', nanEncoderBytes(L, -1));
    }), 6), /^E_MODEL: .*encoder\.onnx: a black 64×48 frame gives latent\[0\] = NaN, not a finite number/],
    ['encoder gives NaN on the running camera frame', await offer(versions.version('img-7', 0.004, (_card, files) => {
      files.set('encoder.onnx', nanEncoderBytes(L, 1));
    }), 7), /^E_MODEL: dvrk-reacher-image model img-7 .*refused: on the running camera frame \(64×48\) its encoder gives latent\[0\] = NaN/],
    ['older sequence (a validly signed replay)', await offer(versions.version('img-old', 0.004), 1), /^E_MODEL: model img-old has sequence 1, below 7 of img-7: an older or replayed version is refused/],
    ['equal sequence', await offer(versions.version('img-again', 0.004), 7), /^E_MODEL: model img-again has sequence 7, equal to 7 of img-7/],
    ['heads changed after signing', await offer(versions.version('img-8', 0.004), 8, (msgs) => {
      const chunk = msgs.find((m) => m.kind === 'chunk' && m.file === 'heads.onnx');
      if (chunk?.kind !== 'chunk') throw new Error('a heads chunk');
      (chunk as { data: string }).data = Buffer.from(constantHeadsBytes(L, 0.005)).toString('base64');
    }), /^E_SIGNATURE: model img-8: heads\.onnx is \d+ bytes with sha256/],
    ['a state model (no image parts)', await offerState(t, shield, receiver, 9), /^E_MODEL: .*not an image model .*load it with Shield/],
  ];
  for (const [what, got, want] of refusals) t.match(got, want, what);
  t.equal(receiver.refusedStale, 2, 'the two stale sequences are counted by the receiver');

  t.equal(shield.modelVersion, 'img-2', 'the last good version still runs');
  await shield.pushFrame(frame());
  const d = await shield.decide(OBS, PROPOSED);
  t.equal(d.source, 'recovery');
  t.equal(versionOf(d.action), 2, 'and decides with its own heads');
  t.equal(shield.stats().failsafes, 0, 'no refusal cost a tick');
  t.equal(await offer(versions.version('img-10', 0.003), 10), 'swapped', 'a good newer version still goes in after the refusals');
  await shield.pushFrame(frame());
  t.equal(versionOf((await shield.decide(OBS, PROPOSED)).action), 3);
});

/** Sends a low-dimensional model for the same robot and dims through the same path. */
async function offerState(t: Test, shield: ImageShield, receiver: ModelReceiver, seq: number): Promise<string> {
  const dir = await writeStateModelDir(join(t.testdir(), 'state'), { card: { robot: ROBOT, version: 'state-1' } });
  const got = await feed(receiver, buildModelMessages(await readModelDir(dir), { robot: ROBOT, sequence: seq, signer, transfer: 'inline' }));
  if (got === undefined) throw new Error('state model did not complete');
  try {
    await shield.prepare(got.dir, got.bundle);
    return 'prepared';
  } catch (err) {
    return isRShieldError(err) ? `${err.code}: ${err.message}` : `untyped: ${String(err)}`;
  }
}
