import { parseJsonPayload, telemetryPayload, type TelemetryPayload } from '../../../config/mqtt-payloads.js';

export interface TelemetryTarget {
  readonly robot: string;
  invalid(topic: string, reason: string): void;
  /** A valid telemetry message of the trainer's own robot that carries a drift report. */
  drift(modelVersion: string, drift: NonNullable<TelemetryPayload['drift']>): void;
}

/** `telemetry` topic, as the trainer reads it: only the critic-drift report matters there. */
export function handleTelemetry(target: TelemetryTarget, topic: string, payload: Uint8Array): void {
  const r = parseJsonPayload(telemetryPayload, payload);
  if (!r.ok) {
    target.invalid(topic, r.reason);
    return;
  }
  if (r.value.robot !== target.robot) {
    target.invalid(topic, `telemetry names robot '${r.value.robot}', this trainer is for '${target.robot}'`);
    return;
  }
  if (r.value.drift !== undefined) target.drift(r.value.modelVersion, r.value.drift);
}
