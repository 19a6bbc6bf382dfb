// The contract between `rshield experiment` (which schedules runs, records episodes and
// summarises them) and the learning algorithms it compares (Recovery RL and its baselines).
import type { SimulatedRobot } from '../core/types.js';

/** One episode of a run, one line of the run's JSONL. */
export interface EpisodeResult {
  /** 0-based index of the episode within its run. */
  readonly episode: number;
  readonly success: boolean;
  /** A constraint was violated at some step of the episode. */
  readonly violation: boolean;
  readonly steps: number;
  /** Steps whose executed action came from the recovery policy. */
  readonly recoverySteps: number;
  /** The (first) violation happened while the recovery policy was acting. */
  readonly recoveryViolation: boolean;
  /** Undiscounted task reward over the episode. */
  readonly return: number;
}

/** What one run is: an algorithm on a robot with a seed. */
export interface RunSpec {
  /** Simulated robot (environment) name, as `rshield collect --robot` takes it. */
  readonly robot: string;
  readonly algo: string;
  readonly seed: number;
  readonly episodes: number;
  /** Ablations as typed on the command line, e.g. `no-pretraining`, `offline-size=1000`. */
  readonly ablations: readonly string[];
  /** ONNX Runtime intra-op threads this run may use. */
  readonly threads: number;
}

/** A run in progress. */
export interface AlgorithmRun {
  /** Runs the next episode (learning as the algorithm does) and reports it. */
  episode(): Promise<EpisodeResult>;
  close(): Promise<void>;
}

export interface Algorithm {
  readonly name: string;
  /** One line for `rshield experiment --help`. */
  readonly summary: string;
  /** Ablation names (before any `=`) it understands; the runner refuses others by name. */
  readonly ablations: readonly string[];
  /** `robot` is the simulated `spec.robot` (src/envs simulatedRobot), handed in by the runner. */
  start(spec: RunSpec, robot: SimulatedRobot): Promise<AlgorithmRun>;
}
