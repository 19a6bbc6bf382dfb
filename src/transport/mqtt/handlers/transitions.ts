import { decodeTransitions, type TransitionBatch } from '../transition-codec.js';

export interface TransitionsTarget {
  readonly obsDim: number;
  readonly actDim: number;
  invalid(topic: string, reason: string): void;
  batch(batch: TransitionBatch): void;
}

/** `transitions` topic: header, version, length and value checks; a bad batch is dropped whole. */
export function handleTransitions(target: TransitionsTarget, topic: string, payload: Uint8Array): void {
  let batch: TransitionBatch;
  try {
    batch = decodeTransitions(payload, { obsDim: target.obsDim, actDim: target.actDim });
  } catch (err) {
    target.invalid(topic, err instanceof Error ? err.message : String(err));
    return;
  }
  target.batch(batch);
}
