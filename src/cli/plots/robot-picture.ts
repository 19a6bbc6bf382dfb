import { createController, createEnv, hasCamera, isMujocoBacked, prepareRobot } from '../../envs/index.js';
import { RShieldError } from '../../core/errors.js';
import { geomPicture } from './geom-picture.js';

/** How far into an episode each MuJoCo robot is drawn: where its picture says the most. */
const SHOWN_AT: Readonly<Record<string, { steps: number; top?: { x: [number, number]; y: [number, number] } }>> = {
  'maze-mujoco': { steps: 0, top: { x: [-0.32, 0.32], y: [-0.32, 0.32] } },
  'image-maze-mujoco': { steps: 0, top: { x: [-0.32, 0.32], y: [-0.32, 0.32] } },
  'object-extraction': { steps: 10 },
  'object-extraction-dynamic': { steps: 6 },
  'halfcheetah-disabled': { steps: 120 },
  'ant-disabled': { steps: 40 },
};

/** A picture of a MuJoCo robot (seed 1, after its controller's first steps), drawn from its geoms. */
export async function robotPicture(robot: string): Promise<string> {
  await prepareRobot(robot);
  const made = createEnv(robot, { seed: 1 });
  // A camera robot is drawn from the geoms of its base.
  const env = hasCamera(made) ? made.base : made;
  try {
    if (!isMujocoBacked(env)) throw new RShieldError('E_USAGE', `${robot} is not a MuJoCo robot: it has no geoms to draw`, { robot });
    const at = SHOWN_AT[robot] ?? { steps: 0 };
    const ctrl = createController(robot, { seed: 1 });
    let obs = env.reset();
    for (let k = 0; k < at.steps; k++) obs = env.step(ctrl.act(obs)).obs;
    return geomPicture(`${robot} (MuJoCo, seed 1, step ${at.steps})`, env.simulation.geoms(), at.top);
  } finally {
    env.close?.();
  }
}
