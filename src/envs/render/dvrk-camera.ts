/**
 * The overhead camera of dvrk-reacher-image: 64×48 rgb8 (the dVRK image-reacher experiment
 * subsamples its overhead camera to 48×64, reference §1.7) looking down on the PSM's
 * workspace, the post (stay-out zone) in the middle. The view is isotropic (600 px/m) and
 * holds the whole workspace box. Height shows as size: the tip is drawn larger the closer
 * it is to the camera, and the post hides it when the tip is below the post's top.
 */
import { dvrkReacherGeometry as G } from '../dvrk/geometry.js';
import type { Camera } from './camera.js';
import { Raster, View, type Rgb } from './raster.js';

export const DVRK_CAMERA_WIDTH = 64;
export const DVRK_CAMERA_HEIGHT = 48;

const OUTSIDE: Rgb = [30, 30, 36];
const FLOOR: Rgb = [196, 188, 172];
const POST: Rgb = [40, 80, 200];
const TARGET: Rgb = [60, 170, 80];
const TIP: Rgb = [230, 200, 40];

const wy = G.workspace.y;
const span = wy[1] - wy[0];
const cx = (G.workspace.x[0] + G.workspace.x[1]) / 2;
const halfX = (span * DVRK_CAMERA_WIDTH) / DVRK_CAMERA_HEIGHT / 2;
const view = new View(DVRK_CAMERA_WIDTH, DVRK_CAMERA_HEIGHT, [cx - halfX, cx + halfX], [wy[0], wy[1]]);

/** Drawn tip radius (m): 1.5 mm at the workspace floor to 4 mm at its ceiling. */
export function dvrkTipRadius(z: number): number {
  const [z0, z1] = G.workspace.z;
  const f = Math.min(1, Math.max(0, (z - z0) / (z1 - z0)));
  return 0.0015 + 0.0025 * f;
}

export const dvrkCamera: Camera = {
  width: DVRK_CAMERA_WIDTH,
  height: DVRK_CAMERA_HEIGHT,
  encoding: 'rgb8',
  description: 'overhead view of the PSM workspace (600 px/m): floor, post blue, target green, tip yellow (larger when higher)',
  render(obs, out) {
    const r = new Raster(DVRK_CAMERA_WIDTH, DVRK_CAMERA_HEIGHT, out).clear(OUTSIDE);
    r.fillRect(view, G.workspace.x, G.workspace.y, FLOOR);
    r.fillCircle(view, G.target[0], G.target[1], G.successRadius * 1.5, TARGET);
    const [x, y, z] = [obs[0] ?? 0, obs[1] ?? 0, obs[2] ?? 0];
    const post = (): void => void r.fillCircle(view, G.zone.center[0], G.zone.center[1], G.zone.radius, POST);
    const tip = (): void => void r.fillCircle(view, x, y, dvrkTipRadius(z), TIP);
    if (z > G.zone.z[1]) {
      post();
      tip();
    } else {
      tip();
      post();
    }
  },
};
