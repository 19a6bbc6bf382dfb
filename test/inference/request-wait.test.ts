// The inference worker's wait between requests (src/inference/request-wait.ts): the tick period
// it learns, and how it counts the requests it meets.
import t from 'tap';
import { Worker } from 'node:worker_threads';
import { Rng } from '../../src/core/rng.js';
import { ASLEEP, REQ, WAKE_PREDICTED, WAKE_SLEPT, WAKE_SPUN, handoff } from '../../src/inference/handoff.js';
import { TickPredictor, waitForRequest } from '../../src/inference/request-wait.js';
import { workerEntry } from '../../src/nn/worker-entry.js';

void t.test('learns a jittery 1 kHz period and predicts the next tick', (t) => {
  const p = new TickPredictor();
  t.ok(Number.isNaN(p.nextUs()), 'nothing predicted before two arrivals');
  const rng = new Rng(3);
  let at = 0;
  for (let i = 0; i < 200; i++) {
    at += 1000 + rng.uniform(-50, 50);
    p.observe(at);
  }
  t.ok(Math.abs(p.periodUs - 1000) < 20, `period ${p.periodUs.toFixed(1)} µs ≈ 1000`);
  t.ok(p.jitterUs > 10 && p.jitterUs < 50, `jitter ${p.jitterUs.toFixed(1)} µs: the ±50 µs uniform noise's mean deviation is 25`);
  t.ok(Math.abs(p.nextUs() - (at + p.periodUs)) < 1e-9, 'next = last arrival + period');
  t.end();
});

void t.test('a pause or a burst leaves the period alone; a rate change is learnt after three gaps', (t) => {
  const p = new TickPredictor();
  let at = 0;
  for (let i = 0; i < 50; i++) p.observe((at += 1000));
  p.observe((at += 30_000)); // the controller paused
  t.equal(p.periodUs, 1000, 'one long gap: still 1 kHz');
  p.observe((at += 100)); // a burst
  t.equal(p.periodUs, 1000, 'one short gap: still 1 kHz');
  p.observe((at += 1000));
  for (let i = 0; i < 2; i++) p.observe((at += 5000));
  t.equal(p.periodUs, 1000, 'two 200 Hz gaps: not yet');
  p.observe((at += 5000));
  t.equal(p.periodUs, 5000, 'the third: 200 Hz');
  p.observe((at += 2_000_000));
  t.equal(p.periodUs, 5000, 'a gap over a second is not a period');
  t.end();
});

void t.test('waitForRequest returns the new request and counts how it was met', async (t) => {
  const h = handoff(1, 1);
  const { ctrl } = h;
  const p = new TickPredictor();
  Atomics.store(ctrl, REQ, 1);
  t.equal(waitForRequest(ctrl, 0, { spinUs: 50, leadUs: 200 }, p), 1, 'a request already there');
  t.equal(ctrl[WAKE_SPUN], 1, 'met while spinning');
  // Another thread sends the next request 30 ms later: past any spin, so it wakes a sleeper.
  // It also reports what it saw in ASLEEP just before sending: the waiting side was asleep.
  const w = new Worker(
    `const { workerData: b, parentPort } = require('node:worker_threads'); const c = new Int32Array(b, 0, ${ASLEEP + 1});
     setTimeout(() => { parentPort.postMessage(Atomics.load(c, ${ASLEEP})); Atomics.store(c, 0, 2); Atomics.notify(c, 0); }, 30);`,
    { eval: true, workerData: h.buffer },
  );
  const seen = new Promise((r) => w.once('message', r));
  const exited = new Promise((r) => w.once('exit', r));
  t.equal(ctrl[ASLEEP], 0, 'awake before it waits');
  const t0 = performance.now();
  t.equal(waitForRequest(ctrl, 1, { spinUs: 50, leadUs: 200 }, p), 2, 'the request sent later');
  t.ok(performance.now() - t0 >= 25, 'it waited for it');
  t.equal(await seen, 1, 'ASLEEP was 1 while it slept (the I/O side then sleeps on the answer too)');
  t.equal(ctrl[ASLEEP], 0, 'and 0 once woken');
  t.equal(ctrl[WAKE_SLEPT], 1, 'woken from a sleep (no period known yet)');
  t.equal(ctrl[WAKE_PREDICTED], 0);
  await exited;
  t.end();
});

void t.test('spinning between requests allocates nearly nothing in a worker (no scavenge every few hundred ticks)', async (t) => {
  // The clock is read every SPIN_CHECK polls: read on every poll, each reading boxed a double
  // in a worker, and this stream cost ~84 minor GCs in the worker (each a pause of its tick).
  const h = handoff(1, 1);
  const requests = 1000;
  const { entry, eval: isEval } = workerEntry(import.meta.url, 'helpers/spin-worker');
  const w = new Worker(entry, { eval: isEval, workerData: { buffer: h.buffer, requests, spinUs: 2000 } });
  const exited = new Promise((r) => w.once('exit', r));
  const report = new Promise<{ gcs: number; ms: number; last: number }>((resolve) => w.on('message', (m: { gcs?: number }) => m.gcs !== undefined && resolve(m as { gcs: number; ms: number; last: number })));
  await new Promise((r) => w.once('message', r)); // ready
  // A request every ~1 ms: each is met during the worker's 2 ms spin after the previous one.
  for (let i = 1; i <= requests; i++) {
    Atomics.store(h.ctrl, REQ, i);
    Atomics.notify(h.ctrl, REQ);
    await new Promise((r) => setTimeout(r, 1));
  }
  const r = await report;
  t.equal(r.last, requests, 'every request met');
  t.ok(r.gcs < 20, `${r.gcs} garbage collections in the worker over ${requests} requests (${r.ms.toFixed(0)} ms of waiting)`);
  t.ok((h.ctrl[WAKE_SPUN] as number) > requests / 2, `most requests met while spinning (${h.ctrl[WAKE_SPUN]} of ${requests})`);
  await exited;
  t.end();
});
