/**
 * What the shield core needs from a learned model: Q_risk(s, a) and π_rec(s). ONNX Runtime
 * implements it in src/inference; tests use fakes. Implementations own and reuse their output
 * arrays, so a tick allocates nothing.
 */
import type { FailsafeReason } from './failsafe.js';

export interface RiskModel {
  readonly obsDim: number;
  readonly actDim: number;
  /**
   * For a model with inputs besides obs (an image model's camera frame): why they cannot be
   * used at `nowMs` ('stale-image', 'bad-frame'), else null. Checked before `risk` each tick.
   */
  inputFault?(nowMs: number): FailsafeReason | null;
  /**
   * Q_risk(obs, act) ∈ [0, 1]: the discounted probability of a future constraint violation
   * (thesis ch. 3). A fused model also computes π_rec(obs) in the same pass.
   */
  risk(obs: ArrayLike<number>, act: ArrayLike<number>): number | Promise<number>;
  /**
   * π_rec(obs) for the obs last passed to `risk`. Returns a model-owned array that is
   * overwritten by the next call; synchronous when the value was computed by `risk` already.
   */
  recovery(obs: ArrayLike<number>): Float32Array | Promise<Float32Array>;
  /**
   * Nearest-safe recovery (optional; src/core/recovery-mode.ts): among a fixed candidate set
   * around `proposed`, the action closest to it with Q_risk(obs, a) ≤ threshold, else
   * `fallback`. Both actions arrive clamped to the bounds. Returns a model-owned array that is
   * overwritten by the next call.
   */
  nearestSafe?(obs: ArrayLike<number>, proposed: Float32Array, fallback: Float32Array, threshold: number): Float32Array | Promise<Float32Array>;
  /**
   * Model-based recovery (optional; src/core/recovery-mode.ts): the first action of a plan from
   * the obs last passed to `risk` that keeps Q_risk low along it; `proposed` (clamped) is what
   * the controller wants, for planners that stay close to it. NaN values mean no usable plan.
   * Returns a model-owned array that is overwritten by the next call.
   */
  plan?(obs: ArrayLike<number>, proposed: Float32Array): Float32Array | Promise<Float32Array>;
  /**
   * A new episode (optional): forget what carries from tick to tick, such as a planner's warm
   * start (an old episode's last plan must not seed the first plan of the next).
   */
  resetEpisode?(): void;
  /** Releases native resources. The model is unusable afterwards. */
  close(): Promise<void>;
}

/**
 * Thrown by a RiskModel that gave up waiting for its inference (a watchdog hand-off past the
 * tick's deadline, or inference known to be stuck): the core answers with the 'deadline'
 * fail-safe, not 'inference-error'.
 */
export class LateInference extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LateInference';
  }
}
