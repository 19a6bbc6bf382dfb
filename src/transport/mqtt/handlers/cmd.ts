import { cmdPayload, parseJsonPayload, type CmdPayload } from '../../../config/mqtt-payloads.js';

/** What a command changes on the shield node. */
export interface CmdTarget {
  armed: boolean;
  recording: boolean;
  invalid(topic: string, reason: string): void;
  applied(cmd: CmdPayload): void;
}

/** `cmd` topic: validate, then apply all of it or nothing. */
export function handleCmd(target: CmdTarget, topic: string, payload: Uint8Array): void {
  const r = parseJsonPayload(cmdPayload, payload);
  if (!r.ok) {
    target.invalid(topic, r.reason);
    return;
  }
  switch (r.value.cmd) {
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
  }
  target.applied(r.value);
}
