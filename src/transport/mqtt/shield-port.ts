/**
 * What the MQTT shield node needs of a shield: decide, stats, prepare a model directory beside
 * the running one, swap between ticks. The CLI adapts the ONNX Runtime Shield to it; tests use
 * small fakes. Kept structural so the node does not depend on ONNX Runtime.
 */
import type { ActionSource } from '../../core/shield-core.js';
import type { ModelBundle } from '../../models/model-dir.js';

export interface ShieldDecisionView {
  readonly action: Float32Array;
  readonly source: ActionSource;
  readonly qRisk: number;
}

export interface ShieldStatsView {
  readonly ticks: number;
  readonly interventions: number;
  readonly failsafes: number;
  readonly tickUs: { readonly p50: number; readonly p99: number };
}

export interface ShieldPort<Prepared = unknown> {
  decide(obs: Float32Array, proposed: Float32Array): Promise<ShieldDecisionView>;
  stats(): ShieldStatsView;
  readonly provider: string;
  readonly modelVersion: string;
  /**
   * Loads and checks a model beside the running model; throws E_MODEL with the reason. With
   * `verified`, card and files come from those bytes and `modelDir` only names the model.
   */
  prepare(modelDir: string, verified?: ModelBundle): Promise<Prepared>;
  /** Makes a prepared model the running one. Called only between ticks; throws (E_MODEL) to refuse. */
  swap(prepared: Prepared): Promise<unknown> | void;
  /** Back to task mode at an episode start (clears hysteresis). */
  resetEpisode?(): void;
  /** Frees a prepared model that will not be swapped in (overtaken by a newer one). */
  release?(prepared: Prepared): void;
  close(): Promise<void>;
}
