/**
 * The one "what a loop needs from a shield" of the project: the episode runner, the MQTT and
 * ROS 2 nodes, the benches and experiments all drive a ShieldPort. The ONNX Runtime `Shield`
 * (src/inference) implements it; so does the pass-through used to record demos. Kept
 * structural so no caller depends on ONNX Runtime.
 */
import type { ActionSource, DecideOptions, Decision } from './shield-core.js';
import type { ShieldStats } from './shield-stats.js';
import { StatsCounter } from './shield-stats.js';

export interface ShieldPort {
  /** One tick. Returns a reused object: copy `action` to keep it. */
  decide(obs: Float32Array, proposed: Float32Array, options?: DecideOptions): Promise<Decision> | Decision;
  /** Back to task mode at an episode start (clears hysteresis). */
  resetEpisode(): void;
  stats(): ShieldStats;
}

/**
 * A shield that can take a new model while running (hot-swap). `prepare` loads and checks a
 * model directory beside the running one and throws E_MODEL with the reason; `swap` installs
 * a prepared model between ticks (never during a decide); `release` frees one that will not
 * be swapped in.
 */
export interface SwappableShieldPort<Prepared = unknown, Verified = unknown> extends ShieldPort {
  readonly provider: string;
  readonly modelVersion: string;
  /** `verified`: the version's bytes as checked against its signature; used instead of re-reading `modelDir`. */
  prepare(modelDir: string, verified?: Verified): Promise<Prepared>;
  swap(prepared: Prepared): Promise<unknown> | void;
  release(prepared: Prepared): void;
  close(): Promise<void>;
  /** The running model's inference watchdog (late, busy, replacements, stuck); null or absent without one. */
  watchdogStats?(): { readonly late: number; readonly busy: number; readonly replacements: number; readonly stuck: boolean } | null;
}

/** Executes the controller's action unchanged (recording demos; hard limits come after). */
export class PassThroughShield implements ShieldPort {
  readonly #decision: { action: Float32Array; source: ActionSource; qRisk: number; failsafeReason: null };
  readonly #stats = new StatsCounter();

  constructor(actDim: number) {
    this.#decision = { action: new Float32Array(actDim), source: 'task', qRisk: Number.NaN, failsafeReason: null };
  }

  decide(_obs: Float32Array, proposed: Float32Array): Decision {
    this.#decision.action.set(proposed);
    this.#stats.ticks++;
    return this.#decision;
  }

  resetEpisode(): void {}

  stats(): ShieldStats {
    return this.#stats.snapshot();
  }
}
