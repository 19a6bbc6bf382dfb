/**
 * MuJoCo geoms seen from straight above (orthographic, looking down −z), drawn with the
 * rasterizer: boxes as their rotated footprints, spheres as discs, cylinders and capsules as
 * discs when upright and as their swept footprints when tilted. Geoms are drawn lowest top
 * first, so the higher one covers a lower one where they overlap. MuJoCo's WebAssembly build
 * has no OpenGL context in Node, and this is deterministic on every machine.
 */
import type { GeomView } from '../mujoco/mujoco-sim.js';
import type { Raster, Rgb, View } from './raster.js';

export interface TopDownOptions {
  /** A geom's colour; the default is its MJCF rgba (alpha ignored). `null` leaves the geom out. */
  colour?: (g: GeomView) => Rgb | null;
  /** Footprints thinner than this many pixels are widened to it, so thin walls stay visible (default 1). */
  minWidthPx?: number;
}

type Point = readonly [number, number];

/** The MJCF rgba of a geom as 8-bit rgb. */
export function geomRgb(g: GeomView): Rgb {
  const c = (v: number): number => Math.round(Math.min(1, Math.max(0, v)) * 255);
  return [c(g.rgba[0]), c(g.rgba[1]), c(g.rgba[2])];
}

/** Draws `geoms` onto `r` through `view` (world x right, y up). Horizontal planes fill the whole image. */
export function drawGeomsTopDown(r: Raster, view: View, geoms: readonly GeomView[], opts: TopDownOptions = {}): void {
  const colour = opts.colour ?? geomRgb;
  const minHalf = (opts.minWidthPx ?? 1) / 2 / view.length(1);
  const order = geoms.map((g, i) => ({ g, i, top: topOf(g) })).sort((a, b) => a.top - b.top || a.i - b.i);
  for (const { g } of order) {
    const c = colour(g);
    if (c === null) continue;
    const m = g.mat;
    // Columns of the rotation: the geom's local axes in world coordinates.
    const ax: Point = [m[0] ?? 1, m[3] ?? 0];
    const ay: Point = [m[1] ?? 0, m[4] ?? 1];
    const az = [m[2] ?? 0, m[5] ?? 0, m[8] ?? 1] as const;
    const [px, py] = g.pos;
    switch (g.type) {
      case 'plane':
        // Seen from above only a horizontal plane shows (a vertical one is a line).
        if (Math.abs(az[2]) > 0.999) r.clear(c);
        break;
      case 'box': {
        // The footprint of a box is the hull of its 8 corners projected onto the plane; for
        // boxes with a vertical or horizontal z axis (all ours) that is the rectangle of x, y
        // or z half-extents pointing most nearly along the plane.
        const axes = [ax, ay, [az[0], az[1]] as Point].map((a, k) => ({ a, h: g.size[k] ?? 0, n: Math.hypot(a[0], a[1]) }));
        axes.sort((p, q) => q.n - p.n);
        const [u, v] = [axes[0]!, axes[1]!];
        const hu = Math.max(u.h, minHalf);
        const hv = Math.max(v.h, minHalf);
        const ua = unit(u.a);
        const va = unit(v.a);
        r.fillPolygon(view, [
          [px + ua[0] * hu + va[0] * hv, py + ua[1] * hu + va[1] * hv],
          [px - ua[0] * hu + va[0] * hv, py - ua[1] * hu + va[1] * hv],
          [px - ua[0] * hu - va[0] * hv, py - ua[1] * hu - va[1] * hv],
          [px + ua[0] * hu - va[0] * hv, py + ua[1] * hu - va[1] * hv],
        ], c);
        break;
      }
      case 'sphere':
      case 'ellipsoid':
        r.fillCircle(view, px, py, Math.max(g.size[0], minHalf), c);
        break;
      case 'cylinder':
      case 'capsule': {
        const rad = Math.max(g.size[0], minHalf);
        // The axis projected: an upright one is a disc, a tilted one sweeps a band.
        const hx = az[0] * g.size[1];
        const hy = az[1] * g.size[1];
        const len = Math.hypot(hx, hy);
        r.fillCircle(view, px + hx, py + hy, rad, c).fillCircle(view, px - hx, py - hy, rad, c);
        if (len > 0) {
          const n: Point = [(-hy / len) * rad, (hx / len) * rad];
          r.fillPolygon(view, [[px + hx + n[0], py + hy + n[1]], [px - hx + n[0], py - hy + n[1]], [px - hx - n[0], py - hy - n[1]], [px + hx - n[0], py + hy - n[1]]], c);
        }
        break;
      }
      case 'other':
        break;
    }
  }
}

function unit(a: Point): Point {
  const n = Math.hypot(a[0], a[1]);
  return n === 0 ? [1, 0] : [a[0] / n, a[1] / n];
}

/** Height of a geom's highest point (a bound: the largest size times the vertical reach). */
function topOf(g: GeomView): number {
  if (g.type === 'plane') return -Infinity; // the floor is the background
  const m = g.mat;
  const s = g.size;
  if (g.type === 'box') return g.pos[2] + Math.abs(m[6] ?? 0) * s[0] + Math.abs(m[7] ?? 0) * s[1] + Math.abs(m[8] ?? 1) * s[2];
  if (g.type === 'cylinder' || g.type === 'capsule') return g.pos[2] + Math.abs(m[8] ?? 1) * s[1] + s[0];
  return g.pos[2] + s[0];
}
