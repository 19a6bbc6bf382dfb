/**
 * Domain types shared by every layer. Observations and actions are Float32Array: that is what
 * the ONNX models consume, so the shield copies nothing on the way in.
 */

/** Static description of a robot's observation and action spaces. */
export interface EnvSpec {
  readonly name: string;
  readonly obsDim: number;
  readonly actDim: number;
  readonly actLow: Float32Array;
  readonly actHigh: Float32Array;
  /** Episode length limit, in steps. */
  readonly horizon: number;
  /** Human-readable unit of observations and actions, e.g. 'm' for dvrk-reacher. */
  readonly units: string;
  /** Names of the observation components, e.g. ['x', 'y', 'z']. */
  readonly obsNames: readonly string[];
}

export interface StepResult {
  readonly obs: Float32Array;
  readonly reward: number;
  /** The constraint C(s') was violated by this step. */
  readonly violation: boolean;
  readonly success: boolean;
  readonly done: boolean;
}

/** A simulated robot. Deterministic under its seed. */
export interface Env {
  readonly spec: EnvSpec;
  /** Starts an episode; a seed re-seeds the episode's randomness. Returns the first observation. */
  reset(seed?: number): Float32Array;
  /** Applies an action (clipped to the action bounds). Throws RShieldError E_BAD_ACTION on a wrong length or a non-finite value. */
  step(action: ArrayLike<number>): StepResult;
  /** Releases what the robot holds outside the JavaScript heap (a MuJoCo model); later calls throw. */
  close?(): void;
}

/** A scripted "existing controller" that proposes actions. */
export interface Controller {
  /**
   * For a controller that needs async inference (an ONNX policy): computes the action for
   * `obs`, which the next act(obs) returns. Loops that drive such a controller await it first.
   */
  prepare?(obs: Float32Array): Promise<void>;
  act(obs: Float32Array): Float32Array;
  /** Starts a new episode (controllers may carry per-episode state). */
  reset(seed?: number): void;
}

/** One recorded transition (s, a, c, s', done) with its place in the data. */
export interface Transition {
  readonly obs: Float32Array;
  readonly act: Float32Array;
  /** Constraint cost c ∈ {0, 1}: s' violates a constraint. */
  readonly cost: number;
  readonly nextObs: Float32Array;
  /** The episode ended at s' (violation, success or horizon). */
  readonly done: boolean;
  readonly episode: number;
  readonly step: number;
  /** The action taken at s' in the same episode, when there is one. */
  readonly nextAct?: Float32Array;
}

/**
 * A simulated robot as learners that train in simulation get it (the online Recovery RL loop):
 * handed in by whoever starts the run, so learn/ builds no simulator itself.
 */
export interface SimulatedRobot {
  readonly name: string;
  /** A fresh environment, seeded. */
  env(seed: number): Env;
  /** Its demo-data generator (D_offline: controlled violations), seeded. */
  offlineData(seed: number, transitions: number): Iterable<Transition>;
  /** The robot's fail-safe action. */
  readonly failsafe: Float32Array;
}
