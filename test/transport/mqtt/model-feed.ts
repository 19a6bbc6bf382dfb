// Feeding model messages to a receiver in tests: the version it completes, or the refusal as
// `CODE: message` (an untyped error shows as such, so a test sees it was not an RShieldError).
import { isRShieldError } from '../../../src/core/errors.js';
import type { ModelMessage } from '../../../src/config/mqtt-payloads.js';
import type { ModelReceiver, ReceivedModel } from '../../../src/transport/mqtt/model-transfer.js';

export async function feed(r: ModelReceiver, msgs: readonly ModelMessage[]): Promise<ReceivedModel | undefined> {
  let out: ReceivedModel | undefined;
  for (const m of msgs) out = (await r.handle(m)) ?? out;
  return out;
}

export async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return isRShieldError(err) ? `${err.code}: ${err.message}` : `untyped: ${String(err)}`;
  }
  return 'accepted';
}
