/**
 * Geometry of the simulated dVRK reacher, in metres in the PSM's base frame (what a CRTK
 * controller reads from measured_cp). The layout follows the Recovery RL dVRK experiments
 * (reference §1.7: reach within 2 mm of a target from two start locations, a stay-out
 * obstacle in between) with the workspace of the dev-history env scaled from cm to m.
 * hardware/sim/README.md draws it.
 */
export const dvrkReacherGeometry = {
  /** Workspace box; leaving it is a violation. */
  workspace: { x: [0.03, 0.13], y: [0.03, 0.11], z: [-0.17, -0.09] },
  target: [0.105, 0.07, -0.13],
  /** The two nominal start locations, either side of the line through the zone. */
  starts: [
    [0.045, 0.054, -0.13],
    [0.045, 0.086, -0.13],
  ],
  /** Uniform jitter of the start, per axis (± m). */
  startJitter: 0.002,
  /** Stay-out zone: a vertical cylinder (a post standing on the workspace floor). */
  zone: { center: [0.075, 0.07], radius: 0.008, z: [-0.17, -0.11] },
  /** Success: tip within this distance of the target. */
  successRadius: 0.002,
  /** Largest commanded displacement per axis per step. */
  maxStep: 0.005,
} as const;

/** The tip is inside the stay-out cylinder (boundary included). */
export function dvrkInZone(x: number, y: number, z: number): boolean {
  const { center, radius, z: zr } = dvrkReacherGeometry.zone;
  return z >= zr[0] && z <= zr[1] && Math.hypot(x - center[0], y - center[1]) <= radius;
}

/** The tip is outside the workspace box. */
export function dvrkOutsideWorkspace(x: number, y: number, z: number): boolean {
  const w = dvrkReacherGeometry.workspace;
  return x < w.x[0] || x > w.x[1] || y < w.y[0] || y > w.y[1] || z < w.z[0] || z > w.z[1];
}

/** C(s) of dvrk-reacher from a measured tip position (a recorder can label demos with it). */
export function dvrkReacherViolation(p: ArrayLike<number>): boolean {
  const x = p[0] as number;
  const y = p[1] as number;
  const z = p[2] as number;
  return dvrkInZone(x, y, z) || dvrkOutsideWorkspace(x, y, z);
}

/** Distance from the tip to the target. */
export function dvrkTargetDistance(p: ArrayLike<number>): number {
  const t = dvrkReacherGeometry.target;
  return Math.hypot((p[0] as number) - t[0], (p[1] as number) - t[1], (p[2] as number) - t[2]);
}
