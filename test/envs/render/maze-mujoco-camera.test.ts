import t from 'tap';
import { cameraOf, createEnv, hasCamera, mazeGeometry, prepareRobot } from '../../../src/envs/index.js';
import { MAZE_MUJOCO_COLOURS as C } from '../../../src/envs/render/maze-mujoco-camera.js';
import { drawGeomsTopDown } from '../../../src/envs/render/geom-raster.js';
import { Raster, View } from '../../../src/envs/render/raster.js';
import type { GeomView } from '../../../src/envs/mujoco/mujoco-sim.js';

await prepareRobot('image-maze-mujoco');

const hex = (d: Uint8Array): string => Buffer.from(d).toString('hex');
const pixel = (d: Uint8Array, col: number, row: number): number[] => Array.from(d.subarray((row * 64 + col) * 3, (row * 64 + col) * 3 + 3));
/** Pixels of colour `rgb`, and their mean column and row. */
function blob(d: Uint8Array, rgb: readonly number[]): { n: number; col: number; row: number } {
  let n = 0;
  let cs = 0;
  let rs = 0;
  for (let i = 0; i < d.length; i += 3) {
    if (d[i] === rgb[0] && d[i + 1] === rgb[1] && d[i + 2] === rgb[2]) {
      n++;
      cs += (i / 3) % 64;
      rs += Math.floor(i / 3 / 64);
    }
  }
  return { n, col: cs / n + 0.5, row: rs / n + 0.5 };
}
const colOf = (x: number): number => ((x + 0.3) / 0.6) * 64;
const rowOf = (y: number): number => ((0.3 - y) / 0.6) * 64;

function frames(seed: number, steps: number): string[] {
  const env = createEnv('image-maze-mujoco', { seed });
  if (!hasCamera(env)) throw new Error('image-maze-mujoco has no camera');
  env.reset();
  const out = [hex(env.frame().data)];
  for (let i = 0; i < steps; i++) {
    const r = env.step([0.1, i % 2 === 0 ? 0.05 : -0.05]);
    out.push(hex(env.frame().data));
    if (r.done) break;
  }
  env.close();
  return out;
}

void t.test('image-maze-mujoco: the same seed gives the same frames, bit for bit; another seed others', (t) => {
  const a = frames(4, 6);
  t.same(frames(4, 6), a);
  t.not(frames(5, 0)[0], a[0], 'another start, another picture');
  t.end();
});

void t.test('image-maze-mujoco: the tool is drawn where the simulation has it, and moves with it; walls where the MJCF puts them', (t) => {
  const env = createEnv('image-maze-mujoco', { seed: 3 });
  if (!hasCamera(env)) throw new Error('image-maze-mujoco has no camera');
  const obs = Float32Array.from(env.reset());
  t.equal(obs.length, 2, 'obs is the low-dimensional state');
  const f = env.frame(7);
  t.match(f, { width: 64, height: 64, encoding: 'rgb8', step: 192, stampMs: 7 });
  const tool = blob(f.data, C.tool);
  // Tool radius 0.025 m = 2.67 px: about π·2.67² ≈ 22 px.
  t.ok(tool.n >= 16 && tool.n <= 28, `tool covers ${tool.n} px`);
  t.ok(Math.abs(tool.col - colOf(obs[0]!)) < 0.6 && Math.abs(tool.row - rowOf(obs[1]!)) < 0.6, `tool at (${tool.col}, ${tool.row}) px, state at (${colOf(obs[0]!)}, ${rowOf(obs[1]!)})`);
  const r = env.step([0.1, 0]);
  t.notOk(r.violation);
  const moved = blob(env.frame().data, C.tool);
  t.ok(moved.col > tool.col + 1, `the tool moved right on the picture: ${tool.col} → ${moved.col}`);
  t.ok(Math.abs(moved.col - colOf(r.obs[0]!)) < 0.6 && Math.abs(moved.row - rowOf(r.obs[1]!)) < 0.6, 'and is where the simulation put it');
  // Each wall of the MJCF (written from mazeGeometry) is dark along its length, one pixel wide at least.
  for (const w of mazeGeometry.walls) {
    const col = Math.floor(colOf((w.x[0] + w.x[1]) / 2));
    const y = Math.max(Math.min((w.y[0] + w.y[1]) / 2, 0.29), -0.29);
    t.same(pixel(f.data, col, Math.floor(rowOf(y))), [...C.wall], `${w.name} at column ${col}`);
  }
  t.same(pixel(f.data, 32, 32), [...C.floor], 'the centre of the arena is floor');
  t.equal(cameraOf('image-maze-mujoco'), env.camera, 'the registry names the env\'s camera');
  env.close();
  t.end();
});

void t.test('drawGeomsTopDown: a rotated box, an upright and a lying cylinder, higher geoms on top', (t) => {
  const view = new View(20, 20, [-1, 1], [-1, 1]);
  const I = [1, 0, 0, 0, 1, 0, 0, 0, 1];
  const c45 = Math.SQRT1_2;
  const g = (over: Partial<GeomView>): GeomView => ({ name: 'g', type: 'box', size: [0.1, 0.1, 0.1], pos: [0, 0, 0], mat: I, rgba: [1, 0, 0, 1], ...over });
  const r = new Raster(20, 20).clear([0, 0, 0]);
  drawGeomsTopDown(r, view, [
    // A box turned 45° about z: its corner points along +x, reaching x = 0.5·√2 ≈ 0.71.
    g({ size: [0.5, 0.5, 0.1], mat: [c45, -c45, 0, c45, c45, 0, 0, 0, 1], rgba: [0, 0, 1, 1] }),
    // A cylinder lying along x (local z = world x) above it, at y = 0.6: a band from x −0.5 to 0.5.
    g({ type: 'cylinder', size: [0.1, 0.5, 0], pos: [0, 0.6, 0.5], mat: [0, 0, 1, 0, 1, 0, -1, 0, 0], rgba: [0, 1, 0, 1] }),
    // A sphere lower than the box at its centre: hidden.
    g({ type: 'sphere', size: [0.2, 0, 0], pos: [0, 0, -1] }),
  ]);
  t.same(r.pixel(16, 10), [0, 0, 255], 'the turned box reaches x = 0.65 on its diagonal');
  t.same(r.pixel(15, 5), [0, 0, 0], 'but not where its unturned corner would be (0.55, 0.45)');
  t.same(r.pixel(10, 10), [0, 0, 255], 'the box covers the lower sphere');
  t.same(r.pixel(5, 3), [0, 255, 0], 'the lying cylinder is a band along x');
  t.same(r.pixel(10, 1), [0, 0, 0], 'one radius wide');
  t.end();
});
