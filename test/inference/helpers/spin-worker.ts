// A worker that meets requests the way the inference worker does (waitForRequest, spinning after
// each), counts its own garbage collections meanwhile and reports them (request-wait.test.ts).
import { PerformanceObserver } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { REQ } from '../../../src/inference/handoff.js';
import { TickPredictor, waitForRequest } from '../../../src/inference/request-wait.js';

const { buffer, requests, spinUs } = workerData as { buffer: SharedArrayBuffer; requests: number; spinUs: number };
const ctrl = new Int32Array(buffer);
let gcs = 0;
const obs = new PerformanceObserver((list) => (gcs += list.getEntries().length));
obs.observe({ entryTypes: ['gc'] });
const p = new TickPredictor();
let last = 0;
parentPort!.postMessage({ ready: true });
const t0 = performance.now();
while (last < requests) last = waitForRequest(ctrl, last, { spinUs, leadUs: 0 }, p);
const ms = performance.now() - t0;
// GC entries are delivered from the event loop: give it a turn before reporting.
setTimeout(() => {
  obs.disconnect();
  parentPort!.postMessage({ gcs, ms, last: Atomics.load(ctrl, REQ) });
}, 20);
