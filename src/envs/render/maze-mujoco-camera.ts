/**
 * The top-down camera of image-maze-mujoco: 64×64 rgb8 over the whole arena, drawn from the
 * MuJoCo geoms of the maze-mujoco MJCF (walls where the model puts them, the tool cylinder
 * where the simulation has it). A camera renders any state, so it keeps its own simulation
 * of the same MJCF: it sets the tool's slide joints to the state, runs forward kinematics and
 * draws the geoms' world poses (the env's own simulation is never touched).
 */
import { mazeGeometry as G } from '../maze/geometry.js';
import { MAZE_MUJOCO } from '../mujoco/maze/maze-mujoco-env.js';
import { MAZE_MUJOCO_FRAME_SKIP, mazeMjcf } from '../mujoco/maze/maze-mjcf.js';
import { MujocoSim } from '../mujoco/mujoco-sim.js';
import { mujocoRuntime } from '../mujoco/runtime.js';
import type { Camera } from './camera.js';
import { drawGeomsTopDown } from './geom-raster.js';
import { Raster, View, type Rgb } from './raster.js';

export const MAZE_MUJOCO_CAMERA_SIZE = 64;

/** Colours by role, as image-maze's camera (the MJCF's own rgba are greyer). */
export const MAZE_MUJOCO_COLOURS: Readonly<Record<'floor' | 'wall' | 'tool', Rgb>> = {
  floor: [222, 222, 214],
  wall: [40, 40, 48],
  tool: [210, 40, 40],
};

const h = G.arenaHalfWidth;
const view = new View(MAZE_MUJOCO_CAMERA_SIZE, MAZE_MUJOCO_CAMERA_SIZE, [-h, h], [-h, h]);
const walls = new Set(G.walls.map((w) => w.name));

let sim: MujocoSim | undefined;

export const mazeMujocoCamera: Camera = {
  width: MAZE_MUJOCO_CAMERA_SIZE,
  height: MAZE_MUJOCO_CAMERA_SIZE,
  encoding: 'rgb8',
  description: 'top-down view of the maze-mujoco arena (±0.3 m) drawn from its MuJoCo geoms: walls dark, tool red',
  render(obs, out) {
    // Created on the first frame: the MuJoCo runtime is loaded by then (prepareRobot).
    sim ??= new MujocoSim(mujocoRuntime(MAZE_MUJOCO), MAZE_MUJOCO, mazeMjcf(), MAZE_MUJOCO_FRAME_SKIP);
    sim.qpos[0] = obs[0] ?? 0;
    sim.qpos[1] = obs[1] ?? 0;
    sim.forward();
    const r = new Raster(MAZE_MUJOCO_CAMERA_SIZE, MAZE_MUJOCO_CAMERA_SIZE, out);
    drawGeomsTopDown(r, view, sim.geoms(), {
      colour: (g) => (g.name === 'floor' ? MAZE_MUJOCO_COLOURS.floor : g.name === 'tool' ? MAZE_MUJOCO_COLOURS.tool : walls.has(g.name) ? MAZE_MUJOCO_COLOURS.wall : null),
    });
  },
};
