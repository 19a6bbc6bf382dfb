import t from 'tap';
import type { Test } from 'tap';
import { FakeClock } from '../core/fakes.js';
import { dvrkCamera, renderFrame } from '../../src/envs/index.js';
import type { ImageFrame } from '../../src/core/image-frame.js';
import { ImageShield } from '../../src/inference/image-shield.js';
import { Shield } from '../../src/inference/shield.js';
import { writeImageModelDir } from './helpers/image-model.js';

const obs = Float32Array.of(0.06, 0.07, -0.13);
const act = Float32Array.of(0.001, 0, 0);

async function setup(t: Test): Promise<{ shield: ImageShield; clock: FakeClock; frame: (over?: Partial<ImageFrame>) => ImageFrame }> {
  const m = await writeImageModelDir();
  t.teardown(m.cleanup);
  const clock = new FakeClock();
  const shield = await ImageShield.load({ modelDir: m.dir, robot: 'dvrk-reacher-image', imageStaleAfterMs: 100, clock });
  t.teardown(() => shield.close());
  const frame = (over: Partial<ImageFrame> = {}): ImageFrame => ({ ...renderFrame(dvrkCamera, obs, clock.ms), ...over });
  return { shield, clock, frame };
}

void t.test('no frame yet, then a frame: stale-image until the encoder has run, then the heads decide', async (t) => {
  const { shield, clock, frame } = await setup(t);
  let d = await shield.decide(obs, act);
  t.equal(d.source, 'failsafe');
  t.equal(d.failsafeReason, 'stale-image', 'no frame encoded yet');
  t.same(Array.from(d.action), [0, 0, 0], 'the fail-safe (hold)');
  await shield.pushFrame(frame());
  d = await shield.decide(obs, act);
  t.not(d.source, 'failsafe');
  t.ok(d.qRisk >= 0 && d.qRisk <= 1, `Q_risk ${d.qRisk}`);
  // Many ticks on one frame: the encoder ran once.
  for (let i = 0; i < 20; i++) await shield.decide(obs, act);
  t.match(shield.frameStats(), { received: 1, encoded: 1, dropped: 0 });
  // The frame ages past imageStaleAfterMs (100 ms): fail-safe, counted under its own reason.
  clock.ms += 101;
  d = await shield.decide(obs, act);
  t.equal(d.failsafeReason, 'stale-image');
  await shield.pushFrame(frame());
  t.not((await shield.decide(obs, act)).source, 'failsafe', 'a fresh frame recovers');
  t.equal(shield.stats().failsafesByReason['stale-image'], 2);
  t.equal(shield.stats().failsafesByReason.stale, 0, 'state staleness is a different reason');
});

void t.test('bad frames are counted, give the bad-frame fail-safe until a readable frame, and never throw', async (t) => {
  const { shield, frame } = await setup(t);
  await shield.pushFrame(frame());
  const good = frame();
  const bad: [string, Partial<ImageFrame>, RegExp][] = [
    ['encoding', { encoding: 'yuv422' }, /encoding 'yuv422' is not one of rgb8, bgr8, mono8/],
    ['size', { data: new Uint8Array(good.data.length + 3) }, /more than the 9216 of 64×48 rgb8/],
    ['size', { width: 0 }, /frame is 0×48/],
    ['step', { step: 200 }, /step is 200 bytes, 64 px of rgb8 is 192/],
    ['truncated', { data: good.data.subarray(0, 1000) }, /data has 1000 bytes, 64×48 rgb8 needs 9216/],
    ['truncated', { encoding: 'mono8', step: 64, data: new Uint8Array(64 * 47) }, /needs 3072/],
  ];
  for (const [kind, over, message] of bad) {
    await shield.pushFrame(frame(over));
    const d = await shield.decide(obs, act);
    t.equal(d.failsafeReason, 'bad-frame', `${kind}: fail-safe`);
    t.match(shield.frameStats().lastFault, message, `${kind}: the reason names the numbers`);
    await shield.pushFrame(frame());
    t.not((await shield.decide(obs, act)).source, 'failsafe', `${kind}: the next readable frame recovers`);
  }
  t.same(shield.frameStats().bad, { encoding: 1, size: 2, step: 1, truncated: 2 });
  t.equal(shield.stats().failsafesByReason['bad-frame'], 6);
});

void t.test('bgr8 and mono8 frames are read; bgr8 of the same picture decides as rgb8 does', async (t) => {
  const { shield, frame } = await setup(t);
  const rgb = frame();
  await shield.pushFrame(rgb);
  const qRgb = (await shield.decide(obs, act)).qRisk;
  const bgr = new Uint8Array(rgb.data.length);
  for (let i = 0; i < bgr.length; i += 3) [bgr[i], bgr[i + 1], bgr[i + 2]] = [rgb.data[i + 2]!, rgb.data[i + 1]!, rgb.data[i]!];
  await shield.pushFrame(frame({ encoding: 'bgr8', data: bgr }));
  t.equal((await shield.decide(obs, act)).qRisk, qRgb, 'same Q_risk');
  await shield.pushFrame(frame({ encoding: 'mono8', step: 64, data: new Uint8Array(64 * 48).fill(128) }));
  const d = await shield.decide(obs, act);
  t.not(d.source, 'failsafe');
  t.match(shield.frameStats(), { received: 3, encoded: 3 });
});

void t.test('frames that arrive while one is being encoded: only the newest is encoded next', async (t) => {
  const { shield, frame } = await setup(t);
  const all = [shield.pushFrame(frame()), shield.pushFrame(frame()), shield.pushFrame(frame()), shield.pushFrame(frame())];
  await Promise.all(all);
  t.match(shield.frameStats(), { received: 4, encoded: 2, dropped: 2 }, 'first encoded, second and third replaced, fourth encoded');
});

void t.test('the low-dimensional Shield refuses an image model with a line that says so', async (t) => {
  const m = await writeImageModelDir();
  t.teardown(m.cleanup);
  await t.rejects(Shield.load({ modelDir: m.dir }), { code: 'E_MODEL', message: /an image model .* load it with ImageShield/ });
  await t.rejects(ImageShield.load({ modelDir: m.dir, robot: 'dvrk-reacher', imageStaleAfterMs: 100 }), { code: 'E_MODEL', message: /for robot 'dvrk-reacher-image', not 'dvrk-reacher'/ });
});
