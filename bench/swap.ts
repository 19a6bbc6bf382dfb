// `npm run bench -- swap [N] [--shipped]`: RSS over N model hot-swaps (default 200) of the ONNX Runtime shield,
// each version verified like an MQTT update (signature check, staged files, prepare, swap between
// ticks). The versions are signed and chunked by a child process (bench/helpers/model-sender.ts),
// as the trainer does in its own process; this process parses the payloads and stages them. ONNX Runtime for Node is known to leak on repeated session creation
// (microsoft/onnxruntime#25325); the budget is ≤ 30 MB growth over 200 swaps (DESIGN.md).
// --shipped swaps full-size networks: versions of the shipped dvrk-reacher model (2×256 twin
// critic + 2×256 recovery, ≈0.8 MB of ONNX) instead of the small test models.
// After the swaps, a second phase ticks the shield at ~1 kHz while BG (default 20) versions are
// prepared and swapped in the background: the worst tick (decide() call to result) and the worst
// gap between tick starts show what a prepare costs the shield's event loop.
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { fork } from 'node:child_process';
import type { ModelMessage } from '../src/config/mqtt-payloads.js';
import { Shield } from '../src/inference/shield.js';
import { generateSigningKeys, parsePublicKey } from '../src/models/signing.js';
import { ModelReceiver } from '../src/transport/mqtt/model-transfer.js';
import { writeModelDir } from '../test/inference/helpers/models.js';

const args = process.argv.slice(2);
const shipped = args.includes('--shipped');
// --direct: prepare each version from its source directory, without the signed MQTT transfer
// (chunking, base64, signature check, staging), to tell the two costs apart.
const direct = args.includes('--direct');
const swaps = Number(args.find((a) => !a.startsWith('--')) ?? 200);
const bgArg = args.find((a) => a.startsWith('--bg='));
const bgPrepares = bgArg === undefined ? 20 : Number(bgArg.slice('--bg='.length));
const robot = shipped ? 'dvrk-reacher' : 'test-bot';
const shippedDir = join(import.meta.dirname, '..', 'models', 'dvrk-reacher');
const dir = await mkdtemp(join(tmpdir(), 'rshield-bench-swap-'));
const keys = generateSigningKeys();
const sender = fork(join(import.meta.dirname, 'helpers', `model-sender.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`));
/** The MQTT payloads of the version in `src`, from the sender process. */
const send = (src: string, sequence: number): Promise<string[]> =>
  new Promise((resolve) => {
    sender.once('message', (m) => resolve(m as string[]));
    sender.send({ src, robot, sequence, privateKeyPem: keys.privateKeyPem });
  });
const receiver = new ModelReceiver({ robot, obsDim: 3, actDim: 3, trustedKeys: [parsePublicKey(keys.publicKeyPem)], allowUnsigned: false, stagingDir: join(dir, 'staging') });
const version = async (i: number): Promise<string> => {
  const src = shipped ? await shippedVersion(i) : await writeModelDir(join(dir, 'src'), { recC: [0.1 + (i % 7) / 10, 0, 0], card: { version: `v${i}` } });
  if (direct) return src;
  let staged: string | undefined;
  for (const payload of await send(src, i + 1)) staged = (await receiver.handle(JSON.parse(payload) as ModelMessage))?.dir ?? staged;
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
const prepareMs: number[] = [];
let baseline = 0;
for (let i = 1; i <= swaps; i++) {
  const staged = await version(i);
  const tp = performance.now();
  const prepared = await Shield.prepare({ modelDir: staged, robot });
  prepareMs.push(performance.now() - tp);
  for (let k = 0; k < 5; k++) await shield.decide(obs, act);
  const t0 = performance.now();
  await shield.swap(prepared);
  swapMs.push(performance.now() - t0);
  await shield.decide(obs, act);
  if (shield.modelVersion !== `v${i}`) throw new Error(`swap ${i}: running ${shield.modelVersion}`);
  if (!direct) await receiver.prune([staged]);
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
prepareMs.sort((a, b) => a - b);

interface TickWindow {
  ticks: number;
  tickP99Ms: number;
  tickMaxMs: number;
  gapMaxMs: number;
  loopDelayMaxMs: number;
  /** Time the main thread was busy (event-loop utilisation × window). */
  busyMs: number;
  windowMs: number;
}

/** Ticks at ~1 kHz until `work` settles; the worst tick, the worst gap between tick starts. */
async function tickWhile(work: Promise<unknown>): Promise<TickWindow> {
  let done = false;
  const w = work.finally(() => {
    done = true;
  });
  const durations: number[] = [];
  let gapMax = 0;
  let last = performance.now();
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const elu0 = performance.eventLoopUtilization();
  const w0 = performance.now();
  while (!done) {
    const t0 = performance.now();
    gapMax = Math.max(gapMax, t0 - last);
    last = t0;
    await shield.decide(obs, act);
    durations.push(performance.now() - t0);
    await sleep(1);
  }
  h.disable();
  const elu = performance.eventLoopUtilization(elu0);
  const windowMs = performance.now() - w0;
  await w;
  durations.sort((a, b) => a - b);
  const ms = (v: number): number => Number(v.toFixed(3));
  return {
    ticks: durations.length,
    tickP99Ms: ms(durations[Math.floor(durations.length * 0.99)] ?? 0),
    tickMaxMs: ms(durations[durations.length - 1] ?? 0),
    gapMaxMs: ms(gapMax),
    loopDelayMaxMs: ms(h.max / 1e6),
    busyMs: ms(elu.active),
    windowMs: ms(windowMs),
  };
}

// The same window twice: ticking alone (the floor of this machine's timer and scheduler), then
// with versions prepared and swapped in beside the ticks. Staging (signature check, file
// writes) is done before each window so that only prepare and swap overlap the ticks.
const bgDirs: string[] = [];
for (let i = 0; i < bgPrepares; i++) bgDirs.push(await version(swaps + 1 + i));
const idle = await tickWhile(sleep(1000));
const background = await tickWhile(
  (async () => {
    for (const d of bgDirs) await shield.swap(await Shield.prepare({ modelDir: d, robot }));
  })(),
);
await shield.close();
sender.disconnect();
await rm(dir, { recursive: true, force: true });
console.log(
  JSON.stringify({
    scenario: 'swap',
    models: shipped ? 'shipped dvrk-reacher (2×256)' : 'small test models',
    swaps,
    transfer: direct ? 'none (--direct)' : 'signed inline MQTT messages from a sender process, parsed and staged',
    rssAfter10Mb: Number(baseline.toFixed(1)),
    rssEndMb: Number(end.toFixed(1)),
    growthMb: Number((end - baseline).toFixed(1)),
    budgetMb: 30,
    withinBudget: end - baseline <= 30,
    swapP50Ms: Number((swapMs[Math.floor(swapMs.length / 2)] ?? 0).toFixed(3)),
    swapMaxMs: Number((swapMs[swapMs.length - 1] ?? 0).toFixed(3)),
    prepareP50Ms: Number((prepareMs[Math.floor(prepareMs.length / 2)] ?? 0).toFixed(1)),
    prepareMaxMs: Number((prepareMs[prepareMs.length - 1] ?? 0).toFixed(1)),
    ticksAlone: idle,
    ticksWhilePreparing: { prepares: bgPrepares, ...background },
    // Main-thread time per background prepare+swap, less what ticking costs (from the window alone).
    mainBusyMsPerPrepare: Number(((background.busyMs - (background.ticks * idle.busyMs) / Math.max(1, idle.ticks)) / Math.max(1, bgPrepares)).toFixed(2)),
    gcExposed: gc !== undefined,
    memoryAfter10Mb: memAfter10,
    memoryEndMb: memEnd,
    samples,
  }),
);
