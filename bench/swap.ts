// `npm run bench -- swap [N] [--shipped]`: RSS over N model hot-swaps (default 200) of the ONNX Runtime shield,
// each version verified like an MQTT update (signature check, staged files, prepare, swap between
// ticks). ONNX Runtime for Node is known to leak on repeated session creation
// (microsoft/onnxruntime#25325); the budget is ≤ 30 MB growth over 200 swaps (DESIGN.md).
// --shipped swaps full-size networks: versions of the shipped dvrk-reacher model (2×256 twin
// critic + 2×256 recovery, ≈0.8 MB of ONNX) instead of the small test models.
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Shield } from '../src/inference/shield.js';
import { generateSigningKeys, parsePrivateKey, parsePublicKey } from '../src/inference/model-signing.js';
import { ModelReceiver, buildModelMessages, readModelDir } from '../src/inference/model-transfer.js';
import { writeModelDir } from '../test/inference/helpers/models.js';

const args = process.argv.slice(2);
const shipped = args.includes('--shipped');
const swaps = Number(args.find((a) => !a.startsWith('--')) ?? 200);
const robot = shipped ? 'dvrk-reacher' : 'test-bot';
const shippedDir = join(import.meta.dirname, '..', 'models', 'dvrk-reacher');
const dir = await mkdtemp(join(tmpdir(), 'rshield-bench-swap-'));
const keys = generateSigningKeys();
const signer = parsePrivateKey(keys.privateKeyPem);
const receiver = new ModelReceiver({ robot, obsDim: 3, actDim: 3, trustedKeys: [parsePublicKey(keys.publicKeyPem)], allowUnsigned: false, stagingDir: join(dir, 'staging') });
const version = async (i: number): Promise<string> => {
  const src = shipped ? await shippedVersion(i) : await writeModelDir(join(dir, 'src'), { recC: [0.1 + (i % 7) / 10, 0, 0], card: { version: `v${i}` } });
  const bundle = await readModelDir(src);
  let staged: string | undefined;
  for (const m of buildModelMessages(bundle, { robot, signer, transfer: 'inline', chunkBytes: 4096 })) staged = (await receiver.handle(m))?.dir ?? staged;
  if (staged === undefined) throw new Error('version not assembled');
  return staged;
};

async function shippedVersion(i: number): Promise<string> {
  const out = join(dir, 'src');
  await mkdir(out, { recursive: true });
  for (const f of ['critic.onnx', 'recovery.onnx']) await copyFile(join(shippedDir, f), join(out, f));
  const card = JSON.parse(await readFile(join(shippedDir, 'model.json'), 'utf8')) as Record<string, unknown>;
  await writeFile(join(out, 'model.json'), JSON.stringify({ ...card, version: `v${i}` }));
  return out;
}

const shield = await Shield.load({ modelDir: await version(0), robot });
const obs = new Float32Array([0.1, 0.2, 0.3]);
const act = new Float32Array([0.5, 0.5, 0.5]);
const mb = (): number => process.memoryUsage().rss / 2 ** 20;
/** Where RSS sits: V8 keeps heap pages it has grown into (heapTotal) even when they are free. */
const mem = (): Record<string, number> => Object.fromEntries(Object.entries(process.memoryUsage()).map(([k, v]) => [k, Number((v / 2 ** 20).toFixed(1))]));
let memAfter10: Record<string, number> = {};
const samples: { swap: number; rssMb: number }[] = [];
const gc = (globalThis as { gc?: () => void }).gc;
const swapMs: number[] = [];
let baseline = 0;
for (let i = 1; i <= swaps; i++) {
  const staged = await version(i);
  const prepared = await Shield.prepare({ modelDir: staged, robot });
  for (let k = 0; k < 5; k++) await shield.decide(obs, act);
  const t0 = performance.now();
  await shield.swap(prepared);
  swapMs.push(performance.now() - t0);
  await shield.decide(obs, act);
  if (shield.modelVersion !== `v${i}`) throw new Error(`swap ${i}: running ${shield.modelVersion}`);
  await receiver.prune([staged]);
  if (i === 10) {
    gc?.();
    baseline = mb();
    memAfter10 = mem();
  }
  if (i % 20 === 0) {
    gc?.();
    samples.push({ swap: i, rssMb: Number(mb().toFixed(1)) });
  }
}
gc?.();
const end = mb();
const memEnd = mem();
swapMs.sort((a, b) => a - b);
await shield.close();
await rm(dir, { recursive: true, force: true });
console.log(
  JSON.stringify({
    scenario: 'swap',
    models: shipped ? 'shipped dvrk-reacher (2×256)' : 'small test models',
    swaps,
    rssAfter10Mb: Number(baseline.toFixed(1)),
    rssEndMb: Number(end.toFixed(1)),
    growthMb: Number((end - baseline).toFixed(1)),
    budgetMb: 30,
    withinBudget: end - baseline <= 30,
    swapP50Ms: Number((swapMs[Math.floor(swapMs.length / 2)] ?? 0).toFixed(3)),
    swapMaxMs: Number((swapMs[swapMs.length - 1] ?? 0).toFixed(3)),
    gcExposed: gc !== undefined,
    memoryAfter10Mb: memAfter10,
    memoryEndMb: memEnd,
    samples,
  }),
);
