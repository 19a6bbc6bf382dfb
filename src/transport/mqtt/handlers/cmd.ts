import type { CmdPayload } from '../../../config/mqtt-payloads.js';
import type { CommandGuard, CommandRefusal } from '../../../models/command-guard.js';

/** What a command changes on the shield node. */
export interface CmdTarget {
  readonly guard: CommandGuard;
  armed: boolean;
  recording: boolean;
  /** `pin`: updates are refused until `unpin`. */
  pin(): void;
  unpin(): void;
  /** Swap back to the version that ran before this one, and pin it. */
  rollback(): void;
  /** A payload that is not a command at all (schema). */
  invalid(topic: string, reason: string): void;
  /** A command refused by the guard (retained, unsigned, stale, replayed, ...). */
  refused(why: CommandRefusal, reason: string): void;
  /** `by`: the key id that signed it. */
  applied(cmd: CmdPayload, by: string): void;
}

/** `cmd` topic: the guard decides (src/models/command-guard.ts), then all of it is applied or nothing. */
export function handleCmd(target: CmdTarget, topic: string, payload: Uint8Array, retained: boolean): void {
  const r = target.guard.check(payload, retained);
  if (!r.ok) {
    if (r.why === 'invalid') target.invalid(topic, r.reason);
    else target.refused(r.why, r.reason);
    return;
  }
  switch (r.cmd.cmd) {
    case 'arm':
      target.armed = true;
      break;
    case 'disarm':
      target.armed = false;
      break;
    case 'record-start':
      target.recording = true;
      break;
    case 'record-stop':
      target.recording = false;
      break;
    case 'pin':
      target.pin();
      break;
    case 'unpin':
      target.unpin();
      break;
    case 'rollback':
      target.rollback();
      break;
  }
  target.applied(r.cmd, r.keyId);
}
