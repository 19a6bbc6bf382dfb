/**
 * What a top-down picture of a simulated robot shows: the plane the tool moves in, the
 * constraints drawn in it, the goal, and how an observation maps to a point of that plane.
 * Built from each robot's geometry module, so a plot cannot disagree with the constraint C(s).
 */
import { dvrkReacherGeometry } from './dvrk/geometry.js';
import { mazeGeometry } from './maze/geometry.js';
import { nav1Geometry, nav2Geometry, type NavGeometry } from './nav/geometry.js';

export type SceneShape =
  | { readonly kind: 'rect'; readonly x: readonly [number, number]; readonly y: readonly [number, number] }
  | { readonly kind: 'circle'; readonly cx: number; readonly cy: number; readonly r: number };

export interface Scene {
  readonly robot: string;
  /** The plotted window (a constraint boundary where the robot has one). */
  readonly x: readonly [number, number];
  readonly y: readonly [number, number];
  readonly axes: readonly [string, string];
  readonly unit: string;
  /** Where the state may not go. */
  readonly constraints: readonly SceneShape[];
  /** Leaving the window is itself a violation (the dVRK workspace, the maze arena). */
  readonly boundaryIsConstraint: boolean;
  readonly goal: readonly [number, number];
  readonly goalRadius: number;
  readonly note?: string;
  /** The point of an observation in the plane. */
  point(obs: ArrayLike<number>): [number, number];
  /** An observation at a point of the plane (the rest of the state at its nominal value). */
  observationAt(x: number, y: number): Float32Array;
}

const planar = (obs: ArrayLike<number>): [number, number] => [obs[0] ?? 0, obs[1] ?? 0];

function navScene(robot: string, g: NavGeometry, x: [number, number], y: [number, number]): Scene {
  return {
    robot, x, y, axes: ['x', 'y'], unit: '', boundaryIsConstraint: false,
    constraints: g.obstacles.map(([bx, by]) => ({ kind: 'rect', x: bx, y: by })),
    goal: g.goal, goalRadius: 1,
    point: planar,
    observationAt: (px, py) => Float32Array.of(px, py),
  };
}

/** The low-dimensional robot each camera robot sees. */
const CAMERA_BASES: Readonly<Record<string, string>> = { 'image-maze': 'maze', 'image-maze-mujoco': 'maze-mujoco', 'dvrk-reacher-image': 'dvrk-reacher' };

export function sceneOf(robot: string): Scene | null {
  switch (robot) {
    case 'nav1':
      return navScene(robot, nav1Geometry, [-85, 10], [-10, 10]);
    case 'nav2':
      return navScene(robot, nav2Geometry, [-60, 10], [-20, 20]);
    case 'maze':
    case 'maze-mujoco': {
      const g = mazeGeometry;
      const h = g.arenaHalfWidth;
      return {
        robot, x: [-h, h], y: [-h, h], axes: ['x', 'y'], unit: 'm', boundaryIsConstraint: true,
        constraints: g.walls.map((w) => ({ kind: 'rect', x: w.x, y: w.y })),
        goal: g.goal, goalRadius: g.goalThreshold,
        note: `the tool is a disc of radius ${g.toolRadius} m: it touches a wall before its centre does${robot === 'maze-mujoco' ? ' (MuJoCo contacts)' : ''}`,
        point: planar,
        observationAt: (px, py) => Float32Array.of(px, py),
      };
    }
    case 'dvrk-reacher': {
      const g = dvrkReacherGeometry;
      const z = g.target[2];
      return {
        robot, x: g.workspace.x, y: g.workspace.y, axes: ['x', 'y'], unit: 'm', boundaryIsConstraint: true,
        constraints: [{ kind: 'circle', cx: g.zone.center[0], cy: g.zone.center[1], r: g.zone.radius }],
        goal: [g.target[0], g.target[1]], goalRadius: g.successRadius,
        note: `top-down view of the PSM base frame; the post spans z ∈ [${g.zone.z[0]}, ${g.zone.z[1]}] m, maps are at z = ${z} m`,
        point: planar,
        observationAt: (px, py) => Float32Array.of(px, py, z),
      };
    }
    case 'image-maze':
    case 'image-maze-mujoco':
    case 'dvrk-reacher-image': {
      // The camera robots move exactly as their low-dimensional bases.
      const base = sceneOf(CAMERA_BASES[robot] ?? robot);
      return base === null ? null : { ...base, robot };
    }
    default:
      return null;
  }
}
