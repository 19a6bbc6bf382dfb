// `npm run bench -- command-flood [N]`: the tick rate of a real shield (shipped dvrk-reacher
// model, ONNX Runtime, real broker) while another client floods its `cmd` topic with N
// (default 10 000) commands, against the same shield's rate just before. Ticks run back to back
// (one event-loop turn between them), so the rate shows what handling the flood takes from the
// loop. Also counts the retained status messages the flood made the shield publish.
import { setTimeout as sleep } from 'node:timers/promises';
import { startBroker } from '../test/helpers/broker.js';
import { robotTopics } from '../src/transport/mqtt/topics.js';
import { MqttTransport } from '../src/transport/mqtt/mqtt-transport.js';
import { ROBOT, flooder, shieldRig } from './helpers/shield-rig.js';

const n = Number(process.argv.slice(2).find((a) => !a.startsWith('--')) ?? 10_000);
const WINDOW_MS = 3000;
const broker = await startBroker();
const topics = robotTopics(ROBOT);
const rig = await shieldRig(broker.url);
const watcher = MqttTransport.connect({ url: broker.url, reconnectPeriodMs: 100 });
await watcher.waitConnected();
let statuses = 0;
await watcher.subscribe(topics.status, () => statuses++);
const f = flooder();

let ticks = 0;
let ticking = true;
const loop = (async () => {
  while (ticking) {
    await rig.node.tick();
    ticks++;
    await new Promise<void>((r) => setImmediate(r));
  }
})();

async function window(ms: number): Promise<{ ticksPerS: number; statuses: number }> {
  const t0 = ticks;
  const s0 = statuses;
  const w0 = performance.now();
  await sleep(ms);
  const dt = (performance.now() - w0) / 1000;
  return { ticksPerS: Number(((ticks - t0) / dt).toFixed(1)), statuses: statuses - s0 };
}

await sleep(2000); // warm-up (JIT, first spool writes)
const baseline = await window(WINDOW_MS);
const payloads = Array.from({ length: n }, (_, i) => JSON.stringify({ v: 1, cmd: 'arm', id: `flood-${i}` }));
const sent = f.flood(broker.url, topics.cmd, payloads);
const flood = await window(WINDOW_MS);
const published = await sent;
const after = await window(WINDOW_MS);
ticking = false;
await loop;
f.child.disconnect();
await watcher.close();
await rig.close();
await broker.stop();
console.log(JSON.stringify({
  scenario: 'command-flood', broker: broker.kind, commands: n, windowMs: WINDOW_MS,
  baseline, flood, afterFlood: after, floodPublishMs: Number(published.ms.toFixed(0)),
  floodRatio: Number((flood.ticksPerS / baseline.ticksPerS).toFixed(3)),
}, null, 2));
process.exit(0);
