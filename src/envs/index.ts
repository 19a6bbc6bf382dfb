// Simulated robots, their scripted controllers and their offline-data generators.
export {
  robotNames,
  createEnv,
  createController,
  generateOfflineData,
  generatorInfo,
  failsafeAction,
  simulatedRobot,
  knownRobot,
  goalOf,
  cameraOf,
  prepareRobot,
  isMujocoRobot,
  type RobotGoal,
  type OfflineDataOptions,
  type ControllerOptions,
} from './registry.js';
export type { EnvOptions } from './options.js';
export {
  dvrkReacherGeometry,
  dvrkReacherViolation,
  dvrkInZone,
  dvrkOutsideWorkspace,
  dvrkTargetDistance,
} from './dvrk/geometry.js';
export { mazeGeometry, mazeContact } from './maze/geometry.js';
export { nav1Geometry, nav2Geometry, inObstacle as navInObstacle, type NavGeometry } from './nav/geometry.js';
export { cartpoleConstants, cartpoleViolation } from './cartpole/dynamics.js';
export { Raster, View, type Rgb } from './render/raster.js';
export { renderFrame, type Camera } from './render/camera.js';
export { CameraEnv, hasCamera } from './render/camera-env.js';
export { mazeCamera, MAZE_CAMERA_SIZE } from './render/maze-camera.js';
export { dvrkCamera, DVRK_CAMERA_WIDTH, DVRK_CAMERA_HEIGHT } from './render/dvrk-camera.js';
export { halfCheetahTasks, antTasks } from './mujoco/locomotion/locomotion-env.js';
export { loadMujoco } from './mujoco/runtime.js';
export { isMujocoBacked, type GeomView, type MujocoBacked, type MujocoSim } from './mujoco/mujoco-sim.js';
export { registerTaskFamily, taskFamily, taskFamilyNames, type TaskFamily } from './task-family.js';
