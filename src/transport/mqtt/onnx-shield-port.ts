/** Adapts the ONNX Runtime Shield (src/inference/shield.ts) to the node's ShieldPort. */
import { Shield, type PreparedModel, type ShieldOptions } from '../../inference/shield.js';
import type { ShieldPort } from './shield-port.js';

/**
 * `prepareOptions` are the load options minus the directory (robot, provider, ε_risk, ...):
 * every received version is prepared exactly like the first one was loaded.
 */
export function onnxShieldPort(shield: Shield, prepareOptions: Omit<ShieldOptions, 'modelDir'>): ShieldPort<PreparedModel> {
  return {
    decide: (obs, proposed) => shield.decide(obs, proposed),
    stats: () => shield.stats(),
    get provider() {
      return shield.provider;
    },
    get modelVersion() {
      return shield.modelVersion;
    },
    prepare: (modelDir, verified) => Shield.prepare({ ...prepareOptions, modelDir, ...(verified === undefined ? {} : { bundle: verified }) }),
    swap: (prepared) => shield.swap(prepared),
    release: (prepared) => {
      prepared.close().catch(() => undefined);
    },
    resetEpisode: () => shield.resetEpisode(),
    close: () => shield.close(),
  };
}
