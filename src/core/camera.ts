/**
 * A camera that draws the image of a robot's state (a simulated robot's; src/envs/render/).
 * Rendering is a pure function of the state, so a frame can be drawn again from a recorded
 * state and the bytes match.
 */
export interface Camera {
  readonly width: number;
  readonly height: number;
  readonly encoding: 'rgb8';
  /** What the camera shows, for docs and cards. */
  readonly description: string;
  /** Draws the image of `obs` into `out` (width × height × 3 bytes, rgb8, packed rows). */
  render(obs: ArrayLike<number>, out: Uint8Array): void;
}
