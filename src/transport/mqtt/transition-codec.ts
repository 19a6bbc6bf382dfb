/**
 * Compact, versioned binary format of a transition batch (the `transitions` topic). JSON would
 * triple the size and cost a parse per float; this is one header and contiguous float32 blocks.
 *
 * Layout, little-endian, 32-byte header then blocks (each 4-byte aligned):
 *   0 magic 'RSTB' | 4 u16 version (1) | 6 u16 header bytes (32) | 8 u32 session | 12 u32 seq
 *  16 u32 count    | 20 u16 obsDim     | 22 u16 actDim           | 24 u32 flags  | 28 u32 reserved (0)
 *   f32 obs[count·obsDim] | f32 act[count·actDim] | f32 cost[count] | f32 nextObs[count·obsDim]
 *   f32 done[count] | u32 episode[count] | u32 step[count] | (flags bit 0) f32 nextAct[count·actDim]
 * A nextAct row whose first value is NaN means "no next action" (end of episode).
 * `session` + `seq` identify a batch so the trainer drops the duplicates at-least-once delivery makes.
 */
import { RShieldError } from '../../core/errors.js';
import type { Transition } from '../../core/types.js';

export const BATCH_MAGIC = 0x42545352; // 'RSTB' read as little-endian u32
export const BATCH_VERSION = 1;
export const BATCH_HEADER_BYTES = 32;
/** Upper bounds that keep a hostile header from making the decoder allocate gigabytes. */
export const MAX_BATCH_COUNT = 65_536;
export const MAX_BATCH_DIM = 4_096;
const FLAG_NEXT_ACT = 1;

export interface TransitionBatch {
  readonly session: number;
  readonly seq: number;
  readonly obsDim: number;
  readonly actDim: number;
  readonly transitions: Transition[];
}

/** Bytes a batch of `count` transitions occupies. */
export function batchByteLength(count: number, obsDim: number, actDim: number, withNextAct: boolean): number {
  const floats = count * (2 * obsDim + actDim + 2) + (withNextAct ? count * actDim : 0);
  return BATCH_HEADER_BYTES + 4 * (floats + 2 * count);
}

/** Encodes a batch. Every transition must have the batch's dimensions (E_DATA names the first that does not). */
export function encodeTransitions(batch: TransitionBatch): Uint8Array {
  const { obsDim, actDim, transitions: ts } = batch;
  const count = ts.length;
  const withNextAct = ts.some((t) => t.nextAct !== undefined);
  checkShape(count, obsDim, actDim);
  const out = new Uint8Array(batchByteLength(count, obsDim, actDim, withNextAct));
  const view = new DataView(out.buffer);
  writeHeader(view, batch.session, batch.seq, count, obsDim, actDim, withNextAct ? FLAG_NEXT_ACT : 0);
  let off = BATCH_HEADER_BYTES;
  const f32 = (v: number): void => {
    view.setFloat32(off, v, true);
    off += 4;
  };
  const rows = (pick: (t: Transition) => Float32Array | undefined, dim: number, field: string): void => {
    ts.forEach((t, i) => {
      const row = pick(t);
      if (row === undefined) {
        f32(Number.NaN);
        for (let j = 1; j < dim; j++) f32(0);
        return;
      }
      if (row.length !== dim) {
        throw new RShieldError('E_DATA', `transition ${i}: ${field} has ${row.length} values, batch expects ${dim}`, { field, index: i });
      }
      for (let j = 0; j < dim; j++) f32(row[j] ?? 0);
    });
  };
  rows((t) => t.obs, obsDim, 'obs');
  rows((t) => t.act, actDim, 'act');
  for (const t of ts) f32(t.cost);
  rows((t) => t.nextObs, obsDim, 'nextObs');
  for (const t of ts) f32(t.done ? 1 : 0);
  for (const t of ts) {
    view.setUint32(off, t.episode, true);
    off += 4;
  }
  for (const t of ts) {
    view.setUint32(off, t.step, true);
    off += 4;
  }
  if (withNextAct) rows((t) => t.nextAct, actDim, 'nextAct');
  return out;
}

/**
 * Decodes and validates a batch: magic, version, header size, dimensions, exact length, finite
 * values, cost and done in {0, 1}. Any failure throws E_DATA and nothing is returned, so a
 * receiver never applies half a batch.
 */
export function decodeTransitions(bytes: Uint8Array, expect?: { obsDim: number; actDim: number }): TransitionBatch {
  if (bytes.byteLength < BATCH_HEADER_BYTES) {
    throw new RShieldError('E_DATA', `transition batch has ${bytes.byteLength} bytes, the header alone needs ${BATCH_HEADER_BYTES}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, true);
  if (magic !== BATCH_MAGIC) throw new RShieldError('E_DATA', `transition batch magic is 0x${magic.toString(16)}, expected 0x${BATCH_MAGIC.toString(16)} ('RSTB')`);
  const version = view.getUint16(4, true);
  if (version !== BATCH_VERSION) throw new RShieldError('E_DATA', `transition batch version ${version} is not supported (this build reads ${BATCH_VERSION})`, { version });
  const headerBytes = view.getUint16(6, true);
  if (headerBytes !== BATCH_HEADER_BYTES) throw new RShieldError('E_DATA', `transition batch header is ${headerBytes} bytes, expected ${BATCH_HEADER_BYTES}`);
  const session = view.getUint32(8, true);
  const seq = view.getUint32(12, true);
  const count = view.getUint32(16, true);
  const obsDim = view.getUint16(20, true);
  const actDim = view.getUint16(22, true);
  const flags = view.getUint32(24, true);
  if ((flags & ~FLAG_NEXT_ACT) !== 0 || view.getUint32(28, true) !== 0) throw new RShieldError('E_DATA', `transition batch has unknown flags 0x${flags.toString(16)}`);
  checkShape(count, obsDim, actDim);
  if (expect !== undefined && (obsDim !== expect.obsDim || actDim !== expect.actDim)) {
    throw new RShieldError('E_DATA', `transition batch has obsDim ${obsDim}, actDim ${actDim}; this robot has ${expect.obsDim}, ${expect.actDim}`);
  }
  const withNextAct = (flags & FLAG_NEXT_ACT) !== 0;
  const expected = batchByteLength(count, obsDim, actDim, withNextAct);
  if (bytes.byteLength !== expected) {
    throw new RShieldError('E_DATA', `transition batch of ${count} is ${bytes.byteLength} bytes, expected ${expected}`);
  }
  let off = BATCH_HEADER_BYTES;
  const block = (dim: number, field: string, finite: boolean): Float32Array[] => {
    const out: Float32Array[] = [];
    for (let i = 0; i < count; i++) {
      const row = new Float32Array(dim);
      for (let j = 0; j < dim; j++) {
        const v = view.getFloat32(off, true);
        off += 4;
        if (finite && !Number.isFinite(v)) throw new RShieldError('E_DATA', `transition ${i}: ${field}[${j}] is ${v}`, { field, index: i });
        row[j] = v;
      }
      out.push(row);
    }
    return out;
  };
  const flagsBlock = (field: string): number[] => {
    const out: number[] = [];
    for (let i = 0; i < count; i++) {
      const v = view.getFloat32(off, true);
      off += 4;
      if (v !== 0 && v !== 1) throw new RShieldError('E_DATA', `transition ${i}: ${field} is ${v}, expected 0 or 1`, { field, index: i });
      out.push(v);
    }
    return out;
  };
  const u32Block = (): number[] => {
    const out: number[] = [];
    for (let i = 0; i < count; i++, off += 4) out.push(view.getUint32(off, true));
    return out;
  };
  const obs = block(obsDim, 'obs', true);
  const act = block(actDim, 'act', true);
  const cost = flagsBlock('cost');
  const nextObs = block(obsDim, 'nextObs', true);
  const done = flagsBlock('done');
  const episode = u32Block();
  const step = u32Block();
  const nextAct = withNextAct ? block(actDim, 'nextAct', false) : undefined;
  const transitions: Transition[] = [];
  for (let i = 0; i < count; i++) {
    const na = nextAct?.[i];
    const hasNext = na !== undefined && !Number.isNaN(na[0]);
    if (hasNext && !na.every(Number.isFinite)) throw new RShieldError('E_DATA', `transition ${i}: nextAct has a non-finite value`, { index: i });
    const t: Transition = {
      obs: obs[i] as Float32Array,
      act: act[i] as Float32Array,
      cost: cost[i] as number,
      nextObs: nextObs[i] as Float32Array,
      done: done[i] === 1,
      episode: episode[i] as number,
      step: step[i] as number,
      ...(hasNext ? { nextAct: na } : {}),
    };
    transitions.push(t);
  }
  return { session, seq, obsDim, actDim, transitions };
}

function checkShape(count: number, obsDim: number, actDim: number): void {
  if (count < 1 || count > MAX_BATCH_COUNT) throw new RShieldError('E_DATA', `transition batch count ${count} is outside 1..${MAX_BATCH_COUNT}`, { count });
  if (obsDim < 1 || obsDim > MAX_BATCH_DIM || actDim < 1 || actDim > MAX_BATCH_DIM) {
    throw new RShieldError('E_DATA', `transition batch dims obsDim ${obsDim}, actDim ${actDim} are outside 1..${MAX_BATCH_DIM}`, { obsDim, actDim });
  }
}

/** Writes the 32-byte batch header (layout above). */
export function writeHeader(view: DataView, session: number, seq: number, count: number, obsDim: number, actDim: number, flags: number): void {
  view.setUint32(0, BATCH_MAGIC, true);
  view.setUint16(4, BATCH_VERSION, true);
  view.setUint16(6, BATCH_HEADER_BYTES, true);
  view.setUint32(8, session >>> 0, true);
  view.setUint32(12, seq >>> 0, true);
  view.setUint32(16, count, true);
  view.setUint16(20, obsDim, true);
  view.setUint16(22, actDim, true);
  view.setUint32(24, flags, true);
  view.setUint32(28, 0, true);
}
