import { NoisyController } from './noisy-controller.js';
import { RShieldError } from '../core/errors.js';
import type { Controller, Env, SimulatedRobot, Transition } from '../core/types.js';
import { CartpoleLqrController } from './cartpole/cartpole-controller.js';
import { CartpoleEnv } from './cartpole/cartpole-env.js';
import { cartpoleOffline } from './cartpole/cartpole-offline.js';
import { DvrkStraightLineController } from './dvrk/dvrk-controller.js';
import { DvrkReacherEnv } from './dvrk/dvrk-env.js';
import { dvrkOffline } from './dvrk/dvrk-offline.js';
import { MazeEnv } from './maze/maze-env.js';
import { mazeGeometry } from './maze/geometry.js';
import { dvrkReacherGeometry } from './dvrk/geometry.js';
import { MazeExpertController } from './maze/maze-expert.js';
import { mazeOffline } from './maze/maze-offline.js';
import { NavGoalController } from './nav/nav-controller.js';
import { NavEnv, navParams } from './nav/nav-env.js';
import { nav1Offline, nav2Offline } from './nav/nav-offline.js';
import { nav1Geometry, nav2Geometry } from './nav/geometry.js';
import type { EnvOptions } from './options.js';
import { withNextAction, type RawTransition } from './raw-transition.js';
import type { Camera } from './render/camera.js';
import { CameraEnv } from './render/camera-env.js';
import { mazeCamera } from './render/maze-camera.js';
import { dvrkCamera } from './render/dvrk-camera.js';
import { mazeMujocoCamera } from './render/maze-mujoco-camera.js';
import { MazeMujocoEnv } from './mujoco/maze/maze-mujoco-env.js';
import { loadMujoco } from './mujoco/runtime.js';
import { ExtractionEnv, extraction, extractionDynamic } from './mujoco/extraction/extraction-env.js';
import { ExtractionExpertController } from './mujoco/extraction/extraction-expert.js';
import { extractionOffline } from './mujoco/extraction/extraction-offline.js';
import { createAnt, createHalfCheetah } from './mujoco/locomotion/locomotion-env.js';
import { GaitController, antGait, cheetahGait } from './mujoco/locomotion/gait-controller.js';
import { locomotionOffline } from './mujoco/locomotion/locomotion-offline.js';

export interface OfflineDataOptions {
  seed: number;
  /** The reference generator's N (for nav, the number of rollouts is N/10: fewer come out). */
  transitions: number;
  /** Robot parameters for the generator's env (e.g. nav `B`, cartpole `length`). */
  params?: EnvOptions;
}

export interface ControllerOptions {
  seed?: number;
  /** cartpole-length: the pole length the LQR gains are designed for. */
  length?: number;
  /** Exploration noise: Gaussian σ as a share of each action axis' half-range (default 0). */
  noise?: number;
}

interface Robot {
  env(opts: EnvOptions): Env;
  controller(opts: ControllerOptions): Controller;
  offline(n: number, seed: number, params: EnvOptions): Iterable<RawTransition>;
  generator: { name: string; description: string };
  actDim: number;
  /** A fixed point of the state the task drives to (observation coordinates), where there is one. */
  goal?: RobotGoal;
  /** The robot's simulated camera; its env is a CameraEnv. */
  camera?: Camera;
  /** Runs on MuJoCo (mujoco-js): prepareRobot loads the runtime before createEnv. */
  mujoco?: true;
}

/** Where a robot's task ends: observation coordinates `dims` at `target`. */
export interface RobotGoal {
  readonly dims: readonly number[];
  readonly target: readonly number[];
}

function mazeOfflineData(n: number, seed: number, p: EnvOptions): Iterable<RawTransition> {
  if (Object.keys(p).length > 0) new MazeEnv(p); // validates the options, which the generator does not use
  return mazeOffline(n, seed);
}

const robots: Record<string, Robot> = {
  nav1: {
    env: (o) => new NavEnv('nav1', nav1Geometry, o),
    controller: () => new NavGoalController(nav1Geometry),
    offline: (n, seed, p) => nav1Offline(n, seed, navParams('nav1', p).B),
    goal: { dims: [0, 1], target: nav1Geometry.goal },
    generator: {
      name: 'nav1-wall-rollouts',
      description:
        'Recovery RL Navigation 1 offline data: N/10 rollouts of <=10 steps from x~U(-80,50), |y|~U(2,5), a=clip(N(0,I),-1,1), stopping at the first violation',
    },
    actDim: 2,
  },
  nav2: {
    env: (o) => new NavEnv('nav2', nav2Geometry, o),
    controller: () => new NavGoalController(nav2Geometry),
    offline: (n, seed, p) => nav2Offline(n, seed, navParams('nav2', p).B),
    goal: { dims: [0, 1], target: nav2Geometry.goal },
    generator: {
      name: 'nav2-aimed-rollouts',
      description:
        'Recovery RL Navigation 2 offline data: N/30 rollouts from uniform starts plus N/40 aimed at each face of the block, <=10 steps, stopping at the first violation',
    },
    actDim: 2,
  },
  maze: {
    env: (o) => new MazeEnv(o),
    controller: () => new MazeExpertController(),
    offline: mazeOfflineData,
    goal: { dims: [0, 1], target: mazeGeometry.goal },
    generator: {
      name: 'maze-random-expert',
      description:
        'Recovery RL maze offline data: N/2 uniform random then N/2 expert steps in 20-step segments from e/m/h starts (0.3/0.3/0.4), continuing after contact',
    },
    actDim: 2,
  },
  'maze-mujoco': {
    env: (o) => new MazeMujocoEnv(o),
    controller: () => new MazeExpertController(),
    offline: (n, seed, p) => mazeOffline(n, seed, (s) => new MazeMujocoEnv({ ...p, seed: s })),
    goal: { dims: [0, 1], target: mazeGeometry.goal },
    generator: {
      name: 'maze-mujoco-random-expert',
      description:
        'Recovery RL maze offline data on MuJoCo contacts: N/2 uniform random then N/2 expert steps in 20-step segments from e/m/h starts (0.3/0.3/0.4), continuing after contact',
    },
    actDim: 2,
    mujoco: true,
  },
  'object-extraction': {
    env: (o) => new ExtractionEnv(extraction, o),
    controller: () => new ExtractionExpertController(extraction.maxMove),
    offline: (n, seed, p) => {
      if (Object.keys(p).length > 0) new ExtractionEnv(extraction, p).close(); // validates the options
      return extractionOffline(extraction, n, seed);
    },
    generator: {
      name: 'extraction-noisy-expert',
      description:
        'Recovery RL Object Extraction constraint demos: the scripted expert with Gaussian action noise (σ 0.1 of the range for 4 steps, then 0.25), <=25-step episodes ending at a topple or a lift',
    },
    actDim: 4,
    mujoco: true,
  },
  'object-extraction-dynamic': {
    env: (o) => new ExtractionEnv(extractionDynamic, o),
    controller: () => new ExtractionExpertController(extractionDynamic.maxMove),
    offline: (n, seed, p) => {
      if (Object.keys(p).length > 0) new ExtractionEnv(extractionDynamic, p).close();
      return extractionOffline(extractionDynamic, n, seed);
    },
    generator: {
      name: 'extraction-dynamic-noisy-expert',
      description:
        'Recovery RL Object Extraction with a dynamic obstacle: the noisy expert (σ 0.1 then 0.25) while a second gripper sweeps across the row for 15 steps; a topple or any contact with it violates',
    },
    actDim: 4,
    mujoco: true,
  },
  'halfcheetah-disabled': {
    env: (o) => createHalfCheetah(o),
    controller: () => new GaitController(cheetahGait),
    offline: (n, seed, p) => locomotionOffline(createHalfCheetah, cheetahGait, n, seed, p),
    generator: {
      name: 'halfcheetah-gait-and-wild',
      description:
        'MESA HalfCheetah-Disabled stand-in data (the SAC replays are not public): <=200-step rollouts of a randomised noisy bounding gait (70%) or held random ±1 actions (30%), ending at the first head-floor contact',
    },
    actDim: 6,
    mujoco: true,
  },
  'ant-disabled': {
    env: (o) => createAnt(o),
    controller: () => new GaitController(antGait),
    offline: (n, seed, p) => locomotionOffline(createAnt, antGait, n, seed, p),
    generator: {
      name: 'ant-gait-and-wild',
      description:
        'MESA Ant-Disabled stand-in data (the SAC replays are not public): <=200-step rollouts of a randomised noisy trot (70%) or held random ±1 actions (30%), ending at the first torso-floor contact',
    },
    actDim: 8,
    mujoco: true,
  },
  'cartpole-length': {
    env: (o) => new CartpoleEnv(o),
    controller: (o) => new CartpoleLqrController(o.length),
    offline: (n, seed, p) => cartpoleOffline(n, seed, p),
    generator: {
      name: 'cartpole-random-segments',
      description: 'MESA cartpole offline data: uniform random actions in 30-step segments that continue after a violation',
    },
    actDim: 1,
  },
  'dvrk-reacher': {
    env: (o) => new DvrkReacherEnv(o),
    controller: () => new DvrkStraightLineController(),
    offline: (n, seed, p) => dvrkOffline(n, seed, p),
    generator: {
      name: 'dvrk-noisy-operator',
      description:
        'A noisy operator probing the stay-out zone and the workspace faces slowly from many directions, <=8 steps per rollout, ending at the first violation',
    },
    actDim: 3,
    goal: { dims: [0, 1, 2], target: dvrkReacherGeometry.target },
  },
  'image-maze': {
    env: (o) => new CameraEnv('image-maze', new MazeEnv(o), mazeCamera),
    controller: () => new MazeExpertController(),
    offline: mazeOfflineData,
    goal: { dims: [0, 1], target: mazeGeometry.goal },
    generator: {
      name: 'maze-random-expert',
      description: 'the maze generator (random then expert 20-step segments); frames are the 64x64 top-down camera of each state',
    },
    actDim: 2,
    camera: mazeCamera,
  },
  'image-maze-mujoco': {
    env: (o) => new CameraEnv('image-maze-mujoco', new MazeMujocoEnv(o), mazeMujocoCamera),
    controller: () => new MazeExpertController(),
    offline: (n, seed, p) => mazeOffline(n, seed, (s) => new MazeMujocoEnv({ ...p, seed: s })),
    goal: { dims: [0, 1], target: mazeGeometry.goal },
    generator: {
      name: 'maze-mujoco-random-expert',
      description: 'the maze-mujoco generator (random then expert 20-step segments on MuJoCo contacts); frames are the 64x64 top-down camera drawn from the MuJoCo geoms',
    },
    actDim: 2,
    camera: mazeMujocoCamera,
    mujoco: true,
  },
  'dvrk-reacher-image': {
    env: (o) => new CameraEnv('dvrk-reacher-image', new DvrkReacherEnv(o), dvrkCamera),
    controller: () => new DvrkStraightLineController(),
    offline: (n, seed, p) => dvrkOffline(n, seed, p),
    generator: {
      name: 'dvrk-noisy-operator',
      description: 'the dvrk-reacher noisy operator; frames are the 64x48 overhead camera of each state',
    },
    actDim: 3,
    goal: { dims: [0, 1, 2], target: dvrkReacherGeometry.target },
    camera: dvrkCamera,
  },
};

/** The simulated robots, in a stable order. */
export const robotNames: readonly string[] = Object.freeze(Object.keys(robots));

function robot(name: string): Robot {
  const r = Object.hasOwn(robots, name) ? robots[name] : undefined;
  if (r === undefined) {
    throw new RShieldError('E_UNKNOWN_ROBOT', `unknown robot '${name}' (known: ${robotNames.join(', ')})`, {
      robot: name,
      known: robotNames,
    });
  }
  return r;
}

/**
 * Loads what the robot needs before createEnv can build it synchronously: the MuJoCo runtime for
 * a MuJoCo robot (E_UNAVAILABLE when mujoco-js cannot load), nothing for the others.
 */
export async function prepareRobot(name: string): Promise<void> {
  if (robot(name).mujoco === true) await loadMujoco();
}

/** Whether the robot runs on MuJoCo (and so needs prepareRobot before createEnv). */
export function isMujocoRobot(name: string): boolean {
  return robot(name).mujoco === true;
}

/** A simulated robot, deterministic under `seed`; other keys are the robot's parameters (docs/robots.md). */
/** `name` when it is a simulated robot; else E_UNKNOWN_ROBOT listing the known ones. */
export function knownRobot(name: string): string {
  robot(name);
  return name;
}

export function createEnv(name: string, opts: EnvOptions = {}): Env {
  return robot(name).env(opts);
}

/** The robot's scripted "existing controller". */
export function createController(name: string, opts: ControllerOptions = {}): Controller {
  const { noise = 0, ...rest } = opts;
  if (!(Number.isFinite(noise) && noise >= 0)) {
    throw new RShieldError('E_CONFIG', `controller noise must be a number ≥ 0, got ${noise}`, { robot: name, noise });
  }
  const c = robot(name).controller(rest);
  return noise > 0 ? new NoisyController(c, createEnv(name).spec, noise, opts.seed ?? 0) : c;
}

/**
 * Lazily yields the robot's reference D_offline generator, in order, with episode/step and
 * nextAct (the next action of the same rollout; absent on its last transition).
 */
export function generateOfflineData(name: string, opts: OfflineDataOptions): Iterable<Transition> {
  const r = robot(name);
  if (!Number.isInteger(opts.transitions) || opts.transitions < 0) {
    throw new RShieldError('E_USAGE', `transitions is ${opts.transitions}, expected a non-negative integer`, {
      robot: name,
      transitions: opts.transitions,
    });
  }
  if (!Number.isInteger(opts.seed)) {
    throw new RShieldError('E_USAGE', `seed is ${opts.seed}, expected an integer`, { robot: name, seed: opts.seed });
  }
  return withNextAction(r.offline(opts.transitions, opts.seed, opts.params ?? {}));
}

/** Generator name and description, for dataset metadata. */
export function generatorInfo(name: string): { name: string; description: string } {
  return { ...robot(name).generator };
}

/** The robot's goal in observation coordinates, or null when its task has no fixed goal state. */
export function goalOf(name: string): RobotGoal | null {
  return robot(name).goal ?? null;
}

/** The robot's camera, or null when it has none. */
export function cameraOf(name: string): Camera | null {
  return robot(name).camera ?? null;
}

/** The robot's fail-safe action: zero displacement / zero force (dVRK: hold position). */
export function failsafeAction(name: string): Float32Array {
  return new Float32Array(robot(name).actDim);
}

/** Robot `name` as a learner that trains in simulation takes it (core SimulatedRobot). */
export function simulatedRobot(name: string): SimulatedRobot {
  robot(name);
  return {
    name,
    env: (seed) => createEnv(name, { seed }),
    offlineData: (seed, transitions) => generateOfflineData(name, { seed, transitions }),
    failsafe: failsafeAction(name),
  };
}
