// `node --import tsx scripts/render-frames.ts`: the camera frames shown in docs/robots.md, from
// the robots' start states (4× upscaled PNG).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cameraOf, createEnv, hasCamera, prepareRobot } from '../src/envs/index.js';
import { encodePng } from '../src/envs/render/png.js';

for (const robot of ['image-maze', 'image-maze-mujoco', 'dvrk-reacher-image']) {
  await prepareRobot(robot);
  const env = createEnv(robot, { seed: 1 });
  const camera = cameraOf(robot);
  if (!hasCamera(env) || camera === null) throw new Error(`${robot} has no camera`);
  env.reset(1);
  const f = env.frame();
  const file = join(import.meta.dirname, '..', 'docs', `frame-${robot}.png`);
  writeFileSync(file, encodePng(f.data, f.width, f.height, 4));
  console.log(`${file}: ${f.width}×${f.height} ${f.encoding}`);
}
