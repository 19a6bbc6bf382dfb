/** A simulated camera's frames (the Camera interface is core's; the cameras draw with the rasterizer). */
import type { Camera } from '../../core/camera.js';
import type { ImageFrame } from '../../core/image-frame.js';
import { Raster } from './raster.js';

/** A frame of `obs` in a new buffer, stamped `stampMs`. */
export function renderFrame(camera: Camera, obs: ArrayLike<number>, stampMs = 0): ImageFrame {
  const r = new Raster(camera.width, camera.height);
  camera.render(obs, r.data);
  return { width: camera.width, height: camera.height, encoding: camera.encoding, step: r.step, data: r.data, stampMs };
}

export type { Camera };
