/**
 * The Recovery RL maze (reference §1.3, env/assets/simple_maze.xml after reset()) as plain
 * 2-D geometry, in metres. The tool is a disc of radius 0.025 whose centre is the observation.
 */

/** An axis-aligned rectangle [xmin, xmax] × [ymin, ymax]. */
export interface Rect {
  readonly name: string;
  readonly x: readonly [number, number];
  readonly y: readonly [number, number];
}

export const mazeGeometry = {
  toolRadius: 0.025,
  /** The arena's boundary planes at x = ±0.3 and y = ±0.3. */
  arenaHalfWidth: 0.3,
  /**
   * Interior walls after reset(): 0.01 thick in x (half-extent 0.005), 0.4 long in y. The gaps
   * are y ∈ (-0.13, 0.22) at x = -0.1 and y ∈ (0.03, 0.28) at x = +0.1.
   */
  walls: [
    { name: 'wall1A', x: [-0.105, -0.095], y: [0.22, 0.62] },
    { name: 'wall1B', x: [-0.105, -0.095], y: [-0.53, -0.13] },
    { name: 'wall2A', x: [0.095, 0.105], y: [0.28, 0.68] },
    { name: 'wall2B', x: [0.095, 0.105], y: [-0.37, 0.03] },
  ] as readonly Rect[],
  goal: [0.25, 0] as const,
  /** Success and termination: RMS distance to the goal below 0.03 (the reference's GOAL_THRESH). */
  goalThreshold: 0.03,
  /** Start x ranges per difficulty; y ~ U(-0.22, 0.22) in every mode. */
  startX: { e: [0.14, 0.22], m: [-0.04, 0.04], h: [-0.22, -0.13] } as const,
  startY: [-0.22, 0.22] as const,
} as const;

export type MazeMode = keyof typeof mazeGeometry.startX;
export const mazeModes: readonly MazeMode[] = ['e', 'm', 'h'];

const EPS = 1e-9;

/** Distance from a point to a rectangle (0 inside). */
function rectDistance(r: Rect, x: number, y: number): number {
  const dx = Math.max(r.x[0] - x, 0, x - r.x[1]);
  const dy = Math.max(r.y[0] - y, 0, y - r.y[1]);
  return Math.hypot(dx, dy);
}

/** C(s) for a tool centred at (x, y): the disc touches a wall or a boundary plane. */
export function mazeContact(x: number, y: number): boolean {
  const g = mazeGeometry;
  const lim = g.arenaHalfWidth - g.toolRadius;
  if (x <= -lim + EPS || x >= lim - EPS || y <= -lim + EPS || y >= lim - EPS) return true;
  for (const w of g.walls) if (rectDistance(w, x, y) <= g.toolRadius + EPS) return true;
  return false;
}

/** Entry parameter t ∈ [0, 1] of the segment p + t·d into a rectangle, or Infinity. */
function segmentRect(px: number, py: number, dx: number, dy: number, x0: number, x1: number, y0: number, y1: number): number {
  let t0 = 0;
  let t1 = 1;
  for (const [p, d, lo, hi] of [
    [px, dx, x0, x1],
    [py, dy, y0, y1],
  ] as const) {
    if (Math.abs(d) < 1e-15) {
      if (p < lo || p > hi) return Infinity;
      continue;
    }
    let a = (lo - p) / d;
    let b = (hi - p) / d;
    if (a > b) [a, b] = [b, a];
    t0 = Math.max(t0, a);
    t1 = Math.min(t1, b);
    if (t0 > t1) return Infinity;
  }
  return t0;
}

/** First t ∈ [0, 1] where the segment p + t·d comes within r of the point c, or Infinity. */
function segmentCircle(px: number, py: number, dx: number, dy: number, cx: number, cy: number, r: number): number {
  const fx = px - cx;
  const fy = py - cy;
  const c = fx * fx + fy * fy - r * r;
  if (c <= 0) return 0;
  const a = dx * dx + dy * dy;
  if (a < 1e-30) return Infinity;
  const b = fx * dx + fy * dy;
  const disc = b * b - a * c;
  if (disc < 0) return Infinity;
  const t = (-b - Math.sqrt(disc)) / a;
  return t >= 0 && t <= 1 ? t : Infinity;
}

/**
 * What replaces MuJoCo's contacts: the tool centre sweeps the straight segment p → p + d, and
 * the first point where the disc touches a wall (the wall inflated by the tool radius, corners
 * rounded) or a boundary plane is where the tool stops, in contact. Returns that fraction
 * t ∈ [0, 1] of the move, or Infinity when the whole move is free.
 */
export function mazeSweep(px: number, py: number, dx: number, dy: number): number {
  const g = mazeGeometry;
  const r = g.toolRadius;
  const lim = g.arenaHalfWidth - r;
  let t = Infinity;
  // Boundary planes: the disc reaches x = ±0.3 when its centre reaches ±(0.3 - r).
  for (const [p, d] of [
    [px, dx],
    [py, dy],
  ] as const) {
    if (d > 0) t = Math.min(t, (lim - p) / d);
    else if (d < 0) t = Math.min(t, (-lim - p) / d);
  }
  if (!(t <= 1)) t = Infinity;
  for (const w of g.walls) {
    const [x0, x1] = w.x;
    const [y0, y1] = w.y;
    t = Math.min(
      t,
      segmentRect(px, py, dx, dy, x0 - r, x1 + r, y0, y1),
      segmentRect(px, py, dx, dy, x0, x1, y0 - r, y1 + r),
      segmentCircle(px, py, dx, dy, x0, y0, r),
      segmentCircle(px, py, dx, dy, x0, y1, r),
      segmentCircle(px, py, dx, dy, x1, y0, r),
      segmentCircle(px, py, dx, dy, x1, y1, r),
    );
  }
  return Math.max(t, 0);
}
