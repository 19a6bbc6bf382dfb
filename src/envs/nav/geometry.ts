/**
 * Geometry of the two navigation tasks, as in the Recovery RL reference
 * (reference/recovery-rl-and-mesa.md §1.1, §1.2): a point robot in the plane, obstacles are
 * unions of axis-aligned boxes with INCLUSIVE bounds, start (-50, 0) + N(0, I), goal (0, 0).
 */

/** An axis-aligned box [[xmin, xmax], [ymin, ymax]], bounds inclusive. */
export type Box2 = readonly [readonly [number, number], readonly [number, number]];

export interface NavGeometry {
  readonly obstacles: readonly Box2[];
  readonly start: readonly [number, number];
  readonly goal: readonly [number, number];
}

/** Navigation 1: a corridor |y| < 5 closed at the back (x ≤ -80). */
export const nav1Geometry: NavGeometry = {
  obstacles: [
    [
      [-100, 150],
      [5, 10],
    ],
    [
      [-100, -80],
      [-10, 10],
    ],
    [
      [-100, 150],
      [-10, -5],
    ],
  ],
  start: [-50, 0],
  goal: [0, 0],
};

/** Navigation 2: one block on the straight line from start to goal. */
export const nav2Geometry: NavGeometry = {
  obstacles: [
    [
      [-30, -20],
      [-7.5, 7.5],
    ],
  ],
  start: [-50, 0],
  goal: [0, 0],
};

/** C(s): the point lies in (or on the boundary of) any obstacle box. */
export function inObstacle(g: NavGeometry, x: number, y: number): boolean {
  for (const [[x0, x1], [y0, y1]] of g.obstacles) {
    if (x >= x0 && x <= x1 && y >= y0 && y <= y1) return true;
  }
  return false;
}
