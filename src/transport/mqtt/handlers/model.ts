import { modelMessage, parseJsonPayload } from '../../../config/mqtt-payloads.js';
import type { ModelReceiver, ReceivedModel } from '../model-transfer.js';

export interface ModelTarget {
  readonly receiver: ModelReceiver;
  invalid(topic: string, reason: string): void;
  /** A complete, verified version is on disk. */
  received(model: ReceivedModel): void;
  /** A version was refused (signature, robot, dims, hash): the running model stays. */
  refused(version: string, reason: string): void;
}

/** `model` topic: size bound (before any parsing), schema check, then the receiver assembles and verifies. */
export async function handleModel(target: ModelTarget, topic: string, payload: Uint8Array): Promise<void> {
  const oversize = target.receiver.admit(payload.byteLength);
  if (oversize !== undefined) {
    target.invalid(topic, oversize);
    return;
  }
  const r = parseJsonPayload(modelMessage, payload);
  if (!r.ok) {
    target.invalid(topic, r.reason);
    return;
  }
  try {
    const model = await target.receiver.handle(r.value);
    if (model !== undefined) target.received(model);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    if (r.value.kind === 'chunk') target.invalid(topic, reason);
    else target.refused(r.value.version, reason);
  }
}
