import type { RobotProfile, StayOutZone } from '../../config/profile.js';
import type { Box3 } from './limits.js';

/**
 * The constraint function C(s) of a robot profile (thesis ch. 3: C(s) ∈ {0,1}) over the tip
 * position: outside the constraint workspace, or inside any stay-out zone.
 */
export class ConstraintLabeler {
  readonly #workspace: Box3;
  readonly #zones: readonly StayOutZone[];

  constructor(constraints: RobotProfile['constraints']) {
    this.#workspace = constraints.workspace;
    this.#zones = constraints.stayOut;
  }

  /** Name of the violated constraint at (x, y, z), or null. */
  violated(x: number, y: number, z: number): string | null {
    const w = this.#workspace;
    if (x < w.min[0] || x > w.max[0] || y < w.min[1] || y > w.max[1] || z < w.min[2] || z > w.max[2]) return 'workspace';
    for (const zone of this.#zones) {
      if (inside(zone, x, y, z)) return zone.name;
    }
    return null;
  }
}

function inside(zone: StayOutZone, x: number, y: number, z: number): boolean {
  switch (zone.shape) {
    case 'box':
      return x >= zone.min[0] && x <= zone.max[0] && y >= zone.min[1] && y <= zone.max[1] && z >= zone.min[2] && z <= zone.max[2];
    case 'sphere':
      return Math.hypot(x - zone.center[0], y - zone.center[1], z - zone.center[2]) <= zone.radius;
    case 'cylinder':
      return z >= zone.zMin && z <= zone.zMax && Math.hypot(x - zone.center[0], y - zone.center[1]) <= zone.radius;
  }
}
