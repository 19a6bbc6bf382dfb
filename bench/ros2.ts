// `npm run bench -- ros2 [--seconds S] [--rates 200,1000] [--cpu-prof DIR] [--broker URL] [--shield-param NAME:=VALUE …]`:
// a controller node streaming servo_cp
// through the ROS 2 shield (`rshield run --transport ros2`, its own process, the shipped
// dvrk-reacher model on ONNX Runtime, tick per command) to a subscriber, over real rclnodejs and
// DDS (loopback). This process is the controller, the simulated state (measured_cp at 100 Hz,
// a fixed safe tip) and the subscriber, on one clock. Per rate: delivered rate, drops, and the
// added latency per message = receive time of the shield's /PSM1/servo_cp − receive time of
// the controller's own /rshield/PSM1/servo_cp (same stamp: the shield passes it through), so
// the one DDS hop both share cancels and what remains is the shield's receive → decide →
// publish plus one hop. Also the controller publish → shield-output latency from the header
// stamp. The controller is its own process (helpers/ros2-controller.ts) pacing each goal at its
// due time on a high-resolution clock, as a fixed-rate controller does (none back to back).
// --broker URL: the shield joins the online loop there (docs/ros2.md "Online"): every tick is
// labelled and streamed (spooled while the URL does not answer), so compare runs with and
// without it, interleaved. --shield-param (repeatable) passes `-p NAME:=VALUE` to the shield, e.g.
// worker_spin_us:=1200.0 (docs/ros2.md "Parameters").
// Prints one JSON object; without ROS 2 sourced prints {"skipped": …} and exits 0.
import { fork, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { packageRoot } from '../src/config/profile.js';
import { loadRclnodejs } from '../src/transport/ros2/load-rclnodejs.js';
import type { RclModule } from '../src/transport/ros2/rclnodejs-api.js';
import type { ControllerReport, ControllerRun } from './helpers/ros2-controller.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '5' }, rates: { type: 'string', default: '200,1000' }, 'cpu-prof': { type: 'string' }, 'command-depth': { type: 'string' }, broker: { type: 'string' }, 'shield-param': { type: 'string', multiple: true } } });
const SECONDS = Number(values.seconds);
const RATES = values.rates.split(',').map(Number);
const root = packageRoot();

if (process.env['ROS_DISTRO'] === undefined) {
  console.error('bench ros2: skipped: no ROS 2 sourced (source ../shared/ros2/activate.sh, or your ROS 2 setup.bash, and npm ci for real rclnodejs)');
  console.log(JSON.stringify({ scenario: 'ros2', skipped: 'no ROS 2 sourced' }));
  process.exit(0);
}
if (!existsSync(join(root, 'dist/cli/main.js'))) {
  console.error('bench ros2: dist/ is missing: npm run build first');
  process.exit(2);
}
// Loopback only, a domain of its own: nothing else on the machine is discovered.
process.env['CYCLONEDDS_URI'] ??= pathToFileURL(join(root, 'test/helpers/cyclonedds-loopback.xml')).href;
process.env['ROS_DOMAIN_ID'] ??= String(150 + (process.pid % 80));

/** Wall clock in ms with µs resolution; stamps and receive times share it. */
const nowMs = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
async function until(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > end) throw new Error(`bench ros2: timed out waiting for ${what}`);
    await sleep(5);
  }
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}
const round = (v: number, d = 3): number => Number(v.toFixed(d));
const stats = (xs: number[]): { p50: number; p99: number; max: number } => {
  const s = xs.slice().sort((a, b) => a - b);
  return { p50: round(quantile(s, 0.5)), p99: round(quantile(s, 0.99)), max: round(s.at(-1) ?? Number.NaN) };
};

// --command-depth N: the shield's servo_cp input queue (the shipped profile keeps 1: the newest
// goal wins, as the dVRK's own subscriber does); a deeper queue decides every goal of a burst.
const tmp = mkdtempSync(join(tmpdir(), 'rshield-bench-ros2-'));
let profilePath = join(root, 'hardware/sim/dvrk-reacher.yaml');
const commandDepth = values['command-depth'];
if (commandDepth !== undefined) {
  const doc = parseYaml(readFileSync(profilePath, 'utf8')) as { topics: { commandIn: { qos: { depth: number } } } };
  doc.topics.commandIn.qos.depth = Number(commandDepth);
  profilePath = join(tmp, 'dvrk-reacher.yaml');
  writeFileSync(profilePath, stringifyYaml(doc));
}
// --cpu-prof DIR: V8 CPU profile of the shield process (open in Chrome DevTools) to see where its time goes.
const profArgs = values['cpu-prof'] !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${values['cpu-prof']}`] : [];
const broker = values.broker;
const shieldParams = values['shield-param'] ?? [];
for (const p of shieldParams) {
  if (!/^[a-z_]+:=\S+$/.test(p)) {
    console.error(`bench ros2: --shield-param ${p}: expected NAME:=VALUE`);
    process.exit(2);
  }
}
const shieldParamArgs = shieldParams.flatMap((p) => ['-p', p]);
const onlineArgs = broker === undefined ? [] : ['-p', `broker:=${broker}`, '-p', `spool_dir:=${join(tmp, 'spool')}`, '-p', `state_dir:=${join(tmp, 'state')}`];
const shield = spawn(process.execPath, [...profArgs, join(root, 'bin/rshield.js'), 'run', '--transport', 'ros2', '--ros-args', '-p', `profile:=${profilePath}`, '-p', `model_dir:=${join(root, 'models/dvrk-reacher')}`, ...onlineArgs, ...shieldParamArgs], { stdio: ['ignore', 'ignore', 'pipe'] });
let shieldLog = '';
shield.stderr.on('data', (b: Buffer) => (shieldLog += b.toString()));
const shieldExited = new Promise<number | null>((r) => shield.on('exit', (code) => r(code)));

const rcl: RclModule = await loadRclnodejs();
await rcl.init();
const node = new rcl.Node('bench_controller');
const qos = (depth: number): unknown => new rcl.QoS(1, depth, 1, 2); // keep_last, reliable, volatile
const statePub = node.createPublisher('geometry_msgs/msg/PoseStamped', '/PSM1/measured_cp', { qos: qos(1) } as never);
// The controller: its own process, started once the shield is up (below).
const controller = fork(join(import.meta.dirname, `helpers/ros2-controller.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`));
const replies: unknown[] = [];
controller.on('message', (m) => replies.push(m));
async function ask<T>(m: ControllerRun | { matched: true }, timeoutMs: number): Promise<T> {
  const n = replies.length;
  controller.send(m);
  await until(() => replies.length > n, timeoutMs, 'the controller process');
  return replies[n] as T;
}

const key = (s: { sec: number; nanosec: number }): number => s.sec * 1e9 + s.nanosec;
/** Receive times by stamp: the controller's own topic (one hop) and the shield's output. */
let inAt = new Map<number, number>();
let outAt = new Map<number, number>();
let stampLatency: number[] = [];
const inSub = node.createSubscription('geometry_msgs/msg/PoseStamped', '/rshield/PSM1/servo_cp', { qos: qos(1000) } as never, (m: { header: { stamp: { sec: number; nanosec: number } } }) => {
  inAt.set(key(m.header.stamp), nowMs());
});
const outSub = node.createSubscription('geometry_msgs/msg/PoseStamped', '/PSM1/servo_cp', { qos: qos(1000) } as never, (m: { header: { stamp: { sec: number; nanosec: number } } }) => {
  const t = nowMs();
  const k = key(m.header.stamp);
  outAt.set(k, t);
  stampLatency.push(t - k / 1e6);
});
let diagnostics = 0;
/** The shield's counters from its latest /diagnostics (1 Hz), and its text values (the online link's). */
let counters = new Map<string, number>();
let texts = new Map<string, string>();
node.createSubscription('diagnostic_msgs/msg/DiagnosticArray', '/diagnostics', {}, (m: { status: { values: { key: string; value: string }[] }[] }) => {
  diagnostics++;
  counters = new Map((m.status[0]?.values ?? []).map((v) => [v.key, Number(v.value)]));
  texts = new Map((m.status[0]?.values ?? []).map((v) => [v.key, v.value]));
});
/** Waits for a /diagnostics sent after now and returns its counters. */
async function freshCounters(): Promise<Map<string, number>> {
  const seen = diagnostics;
  await until(() => diagnostics > seen, 3000, '/diagnostics');
  return counters;
}
const SHIELD_COUNTERS = ['commands', 'ticks', 'task', 'recovery', 'failsafe', 'staleState'] as const;
node.spin();

// A fixed tip inside the workspace, away from the stay-out post; goals 1 mm from it (safe).
const tip = { x: 0.05, y: 0.05, z: -0.1 };
const state = { header: { stamp: { sec: 0, nanosec: 0 }, frame_id: 'PSM1_base' }, pose: { position: tip, orientation: { x: 0, y: 0, z: 0, w: 1 } } };
const stamp = (h: { stamp: { sec: number; nanosec: number } }, ms: number): void => {
  h.stamp.sec = Math.floor(ms / 1000);
  h.stamp.nanosec = Math.round((ms - h.stamp.sec * 1000) * 1e6);
};
const stateTimer = setInterval(() => {
  stamp(state.header, nowMs());
  statePub.publish(state);
}, 10);

interface RateResult {
  rateHz: number;
  seconds: number;
  sent: number;
  sendRateHz: number;
  /** Goals sent < 0.25 ms after the previous one: a depth-1 input keeps only the newer. */
  sentBackToBack: number;
  /** How late the controller sent each goal after its due time. */
  sendLateMs: ControllerReport['lateMs'];
  /** Goals the controller sent more than half a period late (descheduled); it did not catch up with a burst. */
  sendSlipped: number;
  receivedDirect: number;
  delivered: number;
  deliveredRateHz: number;
  dropped: number;
  addedLatencyMs: { p50: number; p99: number; max: number };
  stampToOutputMs: { p50: number; p99: number; max: number };
  /** The shield's own counts over the run (from /diagnostics): commands received, ticks decided, published task/recovery steps, fail-safes. */
  shield: Record<(typeof SHIELD_COUNTERS)[number], number>;
}

async function run(rateHz: number, seconds: number): Promise<RateResult> {
  inAt = new Map();
  outAt = new Map();
  stampLatency = [];
  const before = await freshCounters();
  const c = await ask<ControllerReport>({ rateHz, seconds }, seconds * 1000 + 30_000);
  const after = await freshCounters(); // also lets the last goals in flight land
  const shieldCounts = Object.fromEntries(SHIELD_COUNTERS.map((k) => [k, (after.get(k) ?? 0) - (before.get(k) ?? 0)])) as RateResult['shield'];
  const added: number[] = [];
  for (const [k, out] of outAt) {
    const direct = inAt.get(k);
    if (direct !== undefined) added.push(out - direct);
  }
  return {
    rateHz,
    seconds: c.seconds,
    sent: c.sent,
    sendRateHz: round(c.sent / c.seconds, 1),
    sentBackToBack: c.sentBackToBack,
    sendLateMs: c.lateMs,
    sendSlipped: c.slipped,
    receivedDirect: inAt.size,
    delivered: outAt.size,
    deliveredRateHz: round(outAt.size / c.seconds, 1),
    dropped: c.sent - outAt.size,
    addedLatencyMs: stats(added),
    stampToOutputMs: stats(stampLatency),
    shield: shieldCounts,
  };
}

try {
  await until(() => replies.length > 0, 60_000, 'the controller process');
  await until(() => diagnostics > 0 && outSub.publisherCount > 0 && inSub.publisherCount > 0 && statePub.subscriptionCount > 0, 60_000, 'the shield (diagnostics, matched topics)');
  // The controller's goals reach both the shield and this process's direct subscription.
  for (let i = 0; (await ask<{ subscribers: number }>({ matched: true }, 5000)).subscribers < 2; i++) {
    if (i > 600) throw new Error('bench ros2: the controller never matched the shield and the bench');
    await sleep(100);
  }
  await run(200, 1); // warm-up: JIT, ONNX Runtime, DDS buffers
  const results: RateResult[] = [];
  for (const rate of RATES) results.push(await run(rate, SECONDS));
  const at1k = results.find((r) => r.rateHz === 1000);
  console.log(JSON.stringify({
    scenario: 'ros2',
    rmw: process.env['RMW_IMPLEMENTATION'] ?? 'default (rmw_cyclonedds_cpp on Humble here)',
    rosDistro: process.env['ROS_DISTRO'],
    shield: 'rshield run --transport ros2, dvrk-reacher model, tick per command, its own process',
    controller: 'its own process, each goal at its due time (sleep, then spin the last 0.3 ms)',
    loadAverage: loadavg().map((x) => round(x, 2)),
    commandInDepth: commandDepth === undefined ? 1 : Number(commandDepth),
    shieldParams,
    online: broker === undefined ? null : {
      broker,
      ...Object.fromEntries(['broker', 'transitions_collected', 'transition_batches_sent', 'transition_batches_spooled', 'transition_batches_dropped'].map((k) => [k, texts.get(k) ?? null])),
    },
    results,
    targets: at1k === undefined ? undefined : {
      '1kHz no drops': at1k.dropped === 0,
      'p99 added latency <= 1 ms': at1k.addedLatencyMs.p99 <= 1,
    },
  }, null, 1));
} finally {
  clearInterval(stateTimer);
  controller.disconnect();
  shield.kill('SIGINT');
  const code = await shieldExited;
  node.destroy();
  if (!rcl.isShutdown()) rcl.shutdown();
  rmSync(tmp, { recursive: true, force: true });
  console.error(`bench ros2: shield exited ${code}${code === 0 ? '' : `:\n${shieldLog}`}`);
}
