// `npm run bench -- swap [N]`: RSS over N model hot-swaps (default 200) of the ONNX Runtime shield,
// each version verified like an MQTT update (signature check, staged files, prepare, swap between
// ticks). ONNX Runtime for Node is known to leak on repeated session creation
// (microsoft/onnxruntime#25325); the budget is ≤ 30 MB growth over 200 swaps (DESIGN.md).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Shield } from '../src/inference/shield.js';
import { generateSigningKeys, parsePrivateKey, parsePublicKey } from '../src/inference/model-signing.js';
import { ModelReceiver, buildModelMessages, readModelDir } from '../src/inference/model-transfer.js';
import { writeModelDir } from '../test/inference/helpers/models.js';

const swaps = Number(process.argv[2] ?? 200);
const dir = await mkdtemp(join(tmpdir(), 'rshield-bench-swap-'));
const keys = generateSigningKeys();
const signer = parsePrivateKey(keys.privateKeyPem);
const receiver = new ModelReceiver({ robot: 'test-bot', obsDim: 3, actDim: 3, trustedKeys: [parsePublicKey(keys.publicKeyPem)], allowUnsigned: false, stagingDir: join(dir, 'staging') });
const version = async (i: number): Promise<string> => {
  const src = await writeModelDir(join(dir, 'src'), { recC: [0.1 + (i % 7) / 10, 0, 0], card: { version: `v${i}` } });
  const bundle = await readModelDir(src);
  let staged: string | undefined;
  for (const m of buildModelMessages(bundle, { robot: 'test-bot', signer, transfer: 'inline', chunkBytes: 4096 })) staged = (await receiver.handle(m))?.dir ?? staged;
  if (staged === undefined) throw new Error('version not assembled');
  return staged;
};

const shield = await Shield.load({ modelDir: await version(0), robot: 'test-bot' });
const obs = new Float32Array([0.1, 0.2, 0.3]);
const act = new Float32Array([0.5, 0.5, 0.5]);
const mb = (): number => process.memoryUsage().rss / 2 ** 20;
const samples: { swap: number; rssMb: number }[] = [];
const gc = (globalThis as { gc?: () => void }).gc;
const swapMs: number[] = [];
let baseline = 0;
for (let i = 1; i <= swaps; i++) {
  const staged = await version(i);
  const prepared = await Shield.prepare({ modelDir: staged, robot: 'test-bot' });
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
  }
  if (i % 20 === 0) {
    gc?.();
    samples.push({ swap: i, rssMb: Number(mb().toFixed(1)) });
  }
}
gc?.();
const end = mb();
swapMs.sort((a, b) => a - b);
await shield.close();
await rm(dir, { recursive: true, force: true });
console.log(
  JSON.stringify({
    scenario: 'swap',
    swaps,
    rssAfter10Mb: Number(baseline.toFixed(1)),
    rssEndMb: Number(end.toFixed(1)),
    growthMb: Number((end - baseline).toFixed(1)),
    budgetMb: 30,
    withinBudget: end - baseline <= 30,
    swapP50Ms: Number((swapMs[Math.floor(swapMs.length / 2)] ?? 0).toFixed(3)),
    swapMaxMs: Number((swapMs[swapMs.length - 1] ?? 0).toFixed(3)),
    gcExposed: gc !== undefined,
    samples,
  }),
);
