// The image shield behind the inference watchdog (DESIGN.md decisions 8 and 10): its heads and its
// encoder run in workers; a late tick gives the fail-safe at the deadline, a stuck worker is
// replaced, and the thread that calls decide() keeps turning its event loop meanwhile.
import t from 'tap';
import { dvrkCamera, renderFrame } from '../../src/envs/index.js';
import type { ImageFrame } from '../../src/core/image-frame.js';
import { ImageShield } from '../../src/inference/image-shield.js';
import { obsLoopingFor } from './helpers/looping-critic.js';
import { writeLoopingImageModel } from './helpers/looping-image-model.js';

const SAFE_OBS = Float32Array.of(0.06, 0.07, -0.13);
const PROPOSED = Float32Array.of(0.001, 0, 0);
const loopingObs = (seconds: number): Float32Array => Float32Array.from(obsLoopingFor(seconds));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const frame = (): ImageFrame => renderFrame(dvrkCamera, SAFE_OBS, Date.now());
const white = (): ImageFrame => ({ ...frame(), data: new Uint8Array(dvrkCamera.width * dvrkCamera.height * 3).fill(255) });

async function timed<T>(f: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await f();
  return { value, ms: performance.now() - t0 };
}

/** Polls a tick every 20 ms until it is not a fail-safe (at most 15 s). */
async function untilDecides(shield: ImageShield, beforeEach?: () => Promise<void>): Promise<string> {
  const until = performance.now() + 15_000;
  for (;;) {
    await beforeEach?.();
    const d = await shield.decide(SAFE_OBS, PROPOSED);
    if (d.source !== 'failsafe' || performance.now() > until) return d.source;
    await sleep(20);
  }
}

void t.test('heads that loop: fail-safe within one tick of the deadline, at once while stuck, the worker replaced, normal after', async (t) => {
  const m = await writeLoopingImageModel('heads');
  t.teardown(m.cleanup);
  // A 25 Hz robot: 40 ms ticks, deadline half a tick.
  const deadlineUs = 20_000;
  const tickMs = 40;
  const shield = await ImageShield.load({ modelDir: m.dir, robot: 'dvrk-reacher-image', imageStaleAfterMs: 10_000, deadlineUs, stuckAfterMs: 200 });
  t.teardown(() => shield.close());
  await shield.pushFrame(frame());
  t.not((await shield.decide(SAFE_OBS, PROPOSED)).source, 'failsafe', 'outside the looping region the heads decide');

  // One heads run would take ~3 s: the tick gives up at the deadline instead.
  const first = await timed(() => shield.decide(loopingObs(3), PROPOSED));
  t.equal(first.value.source, 'failsafe');
  t.equal(first.value.failsafeReason, 'deadline');
  t.same(Array.from(first.value.action), [0, 0, 0], 'the robot gets the fail-safe action');
  t.ok(first.ms < deadlineUs / 1000 + tickMs, `returned after ${first.ms.toFixed(1)} ms: within one ${tickMs} ms tick of the 20 ms deadline, not after the 3 s run`);

  let timerFired = false;
  setTimeout(() => (timerFired = true), 0);
  const during: number[] = [];
  for (let i = 0; i < 5; i++) {
    const d = await timed(() => shield.decide(SAFE_OBS, PROPOSED));
    t.equal(d.value.failsafeReason, 'deadline', `tick ${i} while stuck`);
    during.push(d.ms);
    await sleep(5);
  }
  t.ok(Math.max(...during) < 5, `stuck ticks answer without waiting for the deadline again (max ${Math.max(...during).toFixed(2)} ms)`);
  t.ok(timerFired, 'the event loop is not blocked while inference is stuck');

  t.not(await untilDecides(shield), 'failsafe', 'a fresh heads worker decides normally again');
  const wd = shield.watchdogStats();
  t.equal(wd.replacements, 1, 'one replacement');
  t.equal(wd.late, 1, 'one late hand-off');
  t.ok(wd.busy >= 5, `ticks refused while stuck are counted (${wd.busy})`);
  const s = shield.stats();
  t.equal(s.failsafesByReason.deadline, s.failsafes, 'every fail-safe was a deadline one');
  t.same(shield.frameStats().encoderReplacements, 0, 'the encoder was not touched');
});

void t.test('slow heads: the fail-safe comes at the deadline, not when the graph returns; the worker is kept', async (t) => {
  const m = await writeLoopingImageModel('heads');
  t.teardown(m.cleanup);
  const shield = await ImageShield.load({ modelDir: m.dir, robot: 'dvrk-reacher-image', imageStaleAfterMs: 10_000, deadlineUs: 20_000, stuckAfterMs: 5_000 });
  t.teardown(() => shield.close());
  await shield.pushFrame(frame());
  const slow = await timed(() => shield.decide(loopingObs(0.3), PROPOSED));
  t.equal(slow.value.failsafeReason, 'deadline');
  t.ok(slow.ms < 60, `fail-safe after ${slow.ms.toFixed(1)} ms, not after the ~300 ms run`);
  t.not(await untilDecides(shield), 'failsafe', 'once the late run returned, the same worker decides');
  t.equal(shield.watchdogStats().replacements, 0);
});

void t.test('an encoder that loops on a frame: ticks keep deciding on the previous latent, then stale-image; the encoder worker is replaced', async (t) => {
  const m = await writeLoopingImageModel('encoder', { whiteSeconds: 3 });
  t.teardown(m.cleanup);
  const shield = await ImageShield.load({ modelDir: m.dir, robot: 'dvrk-reacher-image', imageStaleAfterMs: 150, deadlineUs: 200_000, stuckAfterMs: 200 });
  // A loose deadline: this test is about the encoder; no tick should be late even on a loaded machine.
  t.teardown(() => shield.close());
  await shield.pushFrame(frame());
  t.not((await shield.decide(SAFE_OBS, PROPOSED)).source, 'failsafe');

  // The white frame takes the encoder ~3 s: pushFrame does not wait for it, ticks do not either.
  const pushed = shield.pushFrame(white());
  const tick = await timed(() => shield.decide(SAFE_OBS, PROPOSED));
  t.not(tick.value.source, 'failsafe', 'a tick during the stuck encode decides on the previous latent');
  t.ok(tick.ms < 100, `and takes ${tick.ms.toFixed(2)} ms, not the encoder's ~3 s (the heads run in their own worker)`);
  let timerFired = false;
  setTimeout(() => (timerFired = true), 0);
  await sleep(5);
  t.ok(timerFired, 'the event loop turns while the encoder is stuck');
  await pushed;
  t.match(shield.frameStats(), { encoderStuck: 1, encoderErrors: 1 }, 'the encode was given up after stuckAfterMs');
  await sleep(160);
  t.equal((await shield.decide(SAFE_OBS, PROPOSED)).failsafeReason, 'stale-image', 'no newer latent: the frame ages out');

  // Once replaced, a readable frame is encoded and ticks decide again.
  t.not(await untilDecides(shield, () => shield.pushFrame(frame())), 'failsafe', 'a fresh encoder worker serves frames again');
  t.equal(shield.frameStats().encoderReplacements, 1, 'one encoder replacement');
  t.equal(shield.watchdogStats().replacements, 0, 'the heads worker was not replaced');
  t.equal(shield.stats().failsafesByReason.deadline, 0, 'no tick was late');
});
