/**
 * A robot profile as a top-down scene for the live view and the plots: its constraint
 * workspace (leaving it is a violation) and its stay-out zones, seen from above in the base
 * frame, so a real arm's view shows what its profile says (not the simulator's geometry).
 */
import type { RobotProfile } from '../config/profile.js';
import type { Scene, SceneShape } from '../envs/scene.js';

export function profileScene(p: RobotProfile): Scene {
  const { min, max } = p.constraints.workspace;
  const z = (min[2] + max[2]) / 2;
  const shapes: SceneShape[] = p.constraints.stayOut.map((zone) => {
    switch (zone.shape) {
      case 'box':
        return { kind: 'rect', x: [zone.min[0], zone.max[0]], y: [zone.min[1], zone.max[1]] };
      case 'sphere':
        return { kind: 'circle', cx: zone.center[0], cy: zone.center[1], r: zone.radius };
      case 'cylinder':
        return { kind: 'circle', cx: zone.center[0], cy: zone.center[1], r: zone.radius };
    }
  });
  const [x0, y0] = [min[0], min[1]];
  const [x1, y1] = [max[0], max[1]];
  return {
    robot: p.name, x: [x0, x1], y: [y0, y1], axes: ['x', 'y'], unit: p.units.length, boundaryIsConstraint: true,
    constraints: shapes,
    // A profile names no goal: a point of no size at the centre.
    goal: [(x0 + x1) / 2, (y0 + y1) / 2], goalRadius: 0,
    note: `top-down view of ${p.frames.base} from profile ${p.name}`,
    point: (obs) => [obs[0] ?? 0, obs[1] ?? 0],
    observationAt: (px, py) => Float32Array.of(px, py, z),
  };
}
