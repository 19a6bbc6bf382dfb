/**
 * A simulated camera: renders the image of a robot's state (its low-dimensional observation)
 * with the rasterizer. Rendering is a pure function of the state, so a frame can be drawn again
 * from a recorded state and the bytes match.
 */
import type { ImageFrame } from '../../core/image-frame.js';
import { Raster } from './raster.js';

export interface Camera {
  readonly width: number;
  readonly height: number;
  readonly encoding: 'rgb8';
  /** What the camera shows, for docs and cards. */
  readonly description: string;
  /** Draws the image of `obs` into `out` (width × height × 3 bytes, rgb8, packed rows). */
  render(obs: ArrayLike<number>, out: Uint8Array): void;
}

/** A frame of `obs` in a new buffer, stamped `stampMs`. */
export function renderFrame(camera: Camera, obs: ArrayLike<number>, stampMs = 0): ImageFrame {
  const r = new Raster(camera.width, camera.height);
  camera.render(obs, r.data);
  return { width: camera.width, height: camera.height, encoding: camera.encoding, step: r.step, data: r.data, stampMs };
}
