// `npm run bench -- soak [--ticks N] [--swap-every K] [--flap-every F] [--flap-ticks D] [--spin-us S] [--aedes]`:
// a real shield (shipped dvrk-reacher model on ONNX Runtime, worker inference, the simulated
// robot, spool on disk, real broker: Mosquitto, or aedes where it is absent) ticked back to back,
// compressed in time (no pacing), for N ticks (default 10⁷). Every K ticks (default N/200) a new
// signed version arrives over MQTT and is swapped in; every F ticks (default N/10) the broker goes
// down for D ticks (default 20 000) and comes back, the spool holding the transitions meanwhile.
// Reports RSS and tick latency (node.tick(), decision included) at the start (after a warm-up
// window) and at the end; budget: ≤ 30 MB RSS growth, p99 drift ≤ 10% (DESIGN.md "Budgets").
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { LatencyHistogram } from '../src/core/latency-histogram.js';
import { startBroker } from '../test/helpers/broker.js';
import { ROBOT, SHIPPED_DIR, shieldRig } from './helpers/shield-rig.js';
import { DEFAULT_SPIN_US } from '../src/inference/shield.js';

const args = process.argv.slice(2);
const opt = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`);
  const v = i >= 0 ? Number(args[i + 1]) : fallback;
  if (!(Number.isFinite(v) && v > 0)) throw new Error(`--${name} must be a positive number, got ${args[i + 1]}`);
  return Math.floor(v);
};
const ticks = opt('ticks', 1e7);
/** The I/O side's spin on the worker's answer (µs; default the shield's, DEFAULT_SPIN_US; 0: sleep at once). */
const spinAt = args.indexOf('--spin-us');
const spinUs = spinAt >= 0 ? Number(args[spinAt + 1]) : undefined;
if (spinUs !== undefined && !(spinUs >= 0)) throw new Error(`--spin-us must be a number ≥ 0, got ${args[spinAt + 1]}`);
const swapEvery = opt('swap-every', Math.max(20_000, Math.floor(ticks / 200)));
const flapEvery = opt('flap-every', Math.max(10_000, Math.floor(ticks / 10)));
const flapTicks = opt('flap-ticks', Math.min(20_000, Math.floor(flapEvery / 4)));
/** Latency windows: the first (warm-up, JIT) is skipped; "start" is the second, "end" the last. */
const windowTicks = Math.max(10_000, Math.floor(ticks / 20));

const broker = await startBroker({ forceAedes: args.includes('--aedes') });
const rig = await shieldRig(broker.url, {}, spinUs === undefined ? {} : { spinUs });
const trainer = fork(join(import.meta.dirname, 'helpers', `version-publisher.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`));
let sequence = 0;
let swapsPublished = 0;
let publishing = false;
trainer.on('message', () => {
  swapsPublished++;
  publishing = false;
});
/** Asks the trainer process for the next signed version (one at a time, as a trainer publishes). */
function publishVersion(): void {
  if (publishing) return;
  publishing = true;
  sequence++;
  trainer.send({ url: broker.url, robot: ROBOT, src: SHIPPED_DIR, sequence, version: `soak-${sequence}`, privateKeyPem: rig.keys.privateKeyPem });
}

const gc = (globalThis as { gc?: () => void }).gc;
const mb = (): number => process.memoryUsage().rss / 2 ** 20;
const hist = new LatencyHistogram();
interface Window { endTick: number; p50Us: number; p99Us: number; maxUs: number; rssMb: number; ticksPerS: number }
const windows: Window[] = [];
let brokerDown = false;
let flaps = 0;
let pendingFlap: Promise<void> = Promise.resolve();
const t0 = performance.now();
let w0 = t0;
for (let i = 1; i <= ticks; i++) {
  const s = performance.now();
  await rig.node.tick();
  hist.record((performance.now() - s) * 1000);
  if ((i & 15) === 0) await new Promise<void>((r) => setImmediate(r)); // MQTT and the spool get their turn
  if (i % swapEvery === 0 && !brokerDown) publishVersion();
  if (i % flapEvery === 0 && !brokerDown) {
    brokerDown = true;
    flaps++;
    pendingFlap = broker.down();
  } else if (brokerDown && i % flapEvery === flapTicks) {
    const down = pendingFlap;
    pendingFlap = down.then(() => broker.up()).then(() => void (brokerDown = false));
  }
  if (i % windowTicks === 0) {
    await pendingFlap;
    gc?.();
    const now = performance.now();
    windows.push({ endTick: i, p50Us: hist.quantile(0.5), p99Us: hist.quantile(0.99), maxUs: Number(hist.max.toFixed(0)), rssMb: Number(mb().toFixed(1)), ticksPerS: Math.round(windowTicks / ((now - w0) / 1000)) });
    process.stderr.write(`# soak ${i}/${ticks}: p99 ${hist.quantile(0.99)} µs, rss ${mb().toFixed(1)} MB, ${rig.node.swaps} swaps, ${flaps} flaps\n`);
    hist.reset();
    w0 = now;
  }
}
const wallS = (performance.now() - t0) / 1000;
await pendingFlap;
if (brokerDown) await broker.up();
await rig.node.modelsSettled();
const stats = rig.shield.stats();
const start = windows[1] ?? windows[0];
const end = windows.at(-1);
const result = {
  scenario: 'soak', broker: broker.kind, ticks, wallS: Number(wallS.toFixed(1)), ticksPerS: Math.round(ticks / wallS),
  swapEvery, flapEvery, flapTicks, windowTicks, spinUs: spinUs ?? DEFAULT_SPIN_US, exposeGc: gc !== undefined,
  swapsPublished, swaps: rig.node.swaps, swapFailures: rig.node.swapFailures, lastSwapError: rig.node.lastSwapError ?? null, flaps,
  batchesSent: rig.node.batchesSent, spooled: rig.spool.pending, dropped: rig.spool.dropped,
  failsafes: stats.failsafes, failsafesByReason: stats.failsafesByReason, watchdog: rig.node.watchdogStats(),
  start, end,
  rssGrowthMb: start && end ? Number((end.rssMb - start.rssMb).toFixed(1)) : null,
  p99Drift: start && end ? Number((end.p99Us / start.p99Us - 1).toFixed(3)) : null,
  budget: { rssGrowthMb: 30, p99Drift: 0.1 },
  windows,
};
trainer.disconnect();
await rig.close();
await broker.stop();
console.log(JSON.stringify(result, null, 2));
process.exit(0);
