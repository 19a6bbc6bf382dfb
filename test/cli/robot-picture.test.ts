import { existsSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { packageRoot } from '../../src/config/profile.js';
import { createEnv, hasCamera, isMujocoBacked, isMujocoRobot, prepareRobot, robotNames } from '../../src/envs/index.js';
import { robotPicture } from '../../src/cli/plots/robot-picture.js';

void t.test('every MuJoCo robot is drawn from its geoms, top and side, and docs/robots.md shows it', async (t) => {
  const robots = robotNames.filter(isMujocoRobot);
  t.same(robots, ['maze-mujoco', 'object-extraction', 'object-extraction-dynamic', 'halfcheetah-disabled', 'ant-disabled', 'image-maze-mujoco']);
  for (const robot of robots) {
    const svg = await robotPicture(robot);
    t.match(svg, new RegExp(`^<svg[\\s\\S]*${robot}[\\s\\S]*top \\(x right, y up\\)[\\s\\S]*side \\(x right, z up\\)[\\s\\S]*</svg>\\n$`));
    await prepareRobot(robot);
    const made = createEnv(robot);
    const env = hasCamera(made) ? made.base : made;
    if (!isMujocoBacked(env)) throw new Error(robot);
    const geoms = env.simulation.geoms();
    const solid = geoms.filter((g) => g.type !== 'plane').length;
    // Vertical planes (the maze's arena edges) are lines in the top view.
    const walls = geoms.filter((g) => g.type === 'plane' && Math.abs(g.mat[8] ?? 1) < 0.1).length;
    env.close?.();
    const shapes = (svg.match(/<(polygon|circle|line) [^>]*(fill|stroke)="rgb\(/g) ?? []).length;
    t.equal(shapes, 2 * solid + walls, `${robot}: each of its ${solid} solid geoms drawn in both views, ${walls} wall planes on top`);
    t.ok(existsSync(join(packageRoot(), 'docs', `robot-${robot}.svg`)), `docs/robot-${robot}.svg (scripts/robot-pictures.ts writes it)`);
  }
  await t.rejects(robotPicture('maze'), { code: 'E_USAGE', message: 'maze is not a MuJoCo robot: it has no geoms to draw' });
});
