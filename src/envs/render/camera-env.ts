/**
 * A simulated robot with a camera: the low-dimensional env unchanged (obs is its state), and
 * `frame()` the camera's image of the current state. Observations carry both: the state in
 * obs, the image in the frame of the same instant.
 */
import type { ImageFrame } from '../../core/image-frame.js';
import type { Env, EnvSpec, StepResult } from '../../core/types.js';
import { readAction } from '../action.js';
import { renderFrame, type Camera } from './camera.js';

export class CameraEnv implements Env {
  readonly spec: EnvSpec;
  #obs: Float32Array;
  readonly #act: Float64Array;

  constructor(
    name: string,
    readonly base: Env,
    readonly camera: Camera,
  ) {
    this.spec = { ...base.spec, name };
    this.#obs = new Float32Array(base.spec.obsDim);
    this.#act = new Float64Array(base.spec.actDim);
  }

  reset(seed?: number): Float32Array {
    this.#obs = this.base.reset(seed);
    return this.#obs;
  }

  step(action: ArrayLike<number>): StepResult {
    readAction(this.spec, action, this.#act); // errors name this robot, not its base
    const r = this.base.step(this.#act);
    this.#obs = r.obs;
    return r;
  }

  /** Closes the base (a MuJoCo robot gives its simulation back). */
  close(): void {
    this.base.close?.();
  }

  /** The camera image of the current state, in a new buffer. */
  frame(stampMs = 0): ImageFrame {
    return renderFrame(this.camera, this.#obs, stampMs);
  }
}

/** Whether an env has a camera. */
export function hasCamera(env: Env): env is CameraEnv {
  return env instanceof CameraEnv;
}
