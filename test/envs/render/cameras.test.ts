import t from 'tap';
import { cameraOf, createController, createEnv, hasCamera, mazeGeometry, dvrkReacherGeometry } from '../../../src/envs/index.js';
import { dvrkTipRadius } from '../../../src/envs/render/dvrk-camera.js';
import { Raster } from '../../../src/envs/render/raster.js';

const colourAt = (f: { data: Uint8Array; width: number }, col: number, row: number): number[] => Array.from(f.data.subarray((row * f.width + col) * 3, (row * f.width + col) * 3 + 3));
const count = (f: { data: Uint8Array }, rgb: readonly number[]): number => {
  let n = 0;
  for (let i = 0; i < f.data.length; i += 3) if (f.data[i] === rgb[0] && f.data[i + 1] === rgb[1] && f.data[i + 2] === rgb[2]) n++;
  return n;
};

void t.test('image-maze: a 64×64 rgb8 frame of the maze follows the tool, obs stays the state', (t) => {
  const env = createEnv('image-maze', { seed: 3 });
  t.ok(hasCamera(env));
  if (!hasCamera(env)) {
    t.end();
    return;
  }
  const obs = env.reset();
  t.equal(obs.length, 2);
  const f = env.frame(123);
  t.match(f, { width: 64, height: 64, encoding: 'rgb8', step: 192, stampMs: 123 });
  t.equal(f.data.length, 64 * 64 * 3);
  const red = [210, 40, 40];
  // The tool disc (r 0.025 m = 2.7 px) is drawn where the state says.
  const col = Math.floor(((obs[0]! + 0.3) / 0.6) * 64);
  const row = Math.floor(((0.3 - obs[1]!) / 0.6) * 64);
  t.same(colourAt(f, col, row), red);
  const before = count(f, red);
  t.ok(before >= 16 && before <= 28, `tool covers ${before} px`);
  // Walls at x = ±0.1 (columns 21 and 42) are dark; wall1A spans y 0.22..0.3 at the top.
  t.same(colourAt(f, 21, 1), [40, 40, 48]);
  env.step([0.1, 0]);
  t.not(Buffer.from(env.frame().data).toString('hex'), Buffer.from(f.data).toString('hex'), 'the picture moves with the tool');
  t.equal(mazeGeometry.goal[0], 0.25);
  t.equal(createController('image-maze').act(obs).length, 2);
  t.end();
});

void t.test('dvrk-reacher-image: 64×48 overhead frame with the post visible; height shows as size', (t) => {
  const cam = cameraOf('dvrk-reacher-image');
  t.ok(cam);
  if (cam === null) {
    t.end();
    return;
  }
  t.match(cam, { width: 64, height: 48, encoding: 'rgb8' });
  const r = new Raster(64, 48);
  const z = dvrkReacherGeometry.target[2];
  cam.render([0.045, 0.054, z], r.data);
  const post = count(r, [40, 80, 200]);
  // r 8 mm at 600 px/m = 4.8 px: about π·4.8² ≈ 72 px.
  t.ok(post > 60 && post < 85, `post covers ${post} px`);
  const low = count(r, [230, 200, 40]);
  cam.render([0.045, 0.054, -0.095], r.data);
  const high = count(r, [230, 200, 40]);
  t.ok(high > low, `tip near the camera covers more pixels (${high}) than low (${low})`);
  t.ok(dvrkTipRadius(-0.09) > dvrkTipRadius(-0.17));
  // Below the post's top the post hides the tip; above, the tip is drawn over the post.
  cam.render([0.075, 0.07, -0.13], r.data);
  t.equal(count(r, [230, 200, 40]), 0, 'tip inside the post, below its top: hidden');
  cam.render([0.075, 0.07, -0.1], r.data);
  t.ok(count(r, [230, 200, 40]) > 0, 'tip above the post: visible');
  t.equal(cameraOf('dvrk-reacher'), null);
  t.end();
});
