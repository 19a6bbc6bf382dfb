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
 * Each block is one column of data/transition-columns.ts, so encoding and decoding copy columns
 * whole (done is u8 in the columns, f32 on the wire).
 */
import { RShieldError } from '../../core/errors.js';
import { TransitionColumns, type TransitionColumnsView } from '../../data/transition-columns.js';

export const BATCH_MAGIC = 0x42545352; // 'RSTB' read as little-endian u32
export const BATCH_VERSION = 1;
export const BATCH_HEADER_BYTES = 32;
/** Upper bounds that keep a hostile header from making the decoder allocate gigabytes. */
export const MAX_BATCH_COUNT = 65_536;
export const MAX_BATCH_DIM = 4_096;
const FLAG_NEXT_ACT = 1;
/** Typed arrays are in the host's byte order; on a little-endian host a block is copied as bytes. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export interface TransitionBatch {
  readonly session: number;
  readonly seq: number;
  /** The batch's transitions, `columns.size` of them. */
  readonly columns: TransitionColumnsView;
}

/** Bytes a batch of `count` transitions occupies. */
export function batchByteLength(count: number, obsDim: number, actDim: number, withNextAct: boolean): number {
  const floats = count * (2 * obsDim + actDim + 2) + (withNextAct ? count * actDim : 0);
  return BATCH_HEADER_BYTES + 4 * (floats + 2 * count);
}

/** Writes `n` values of `src` at byte `off` as little-endian 32-bit words; returns the offset after them. */
function writeBlock(out: Uint8Array, view: DataView, off: number, src: Float32Array | Uint32Array, n: number): number {
  if (LITTLE_ENDIAN) {
    out.set(new Uint8Array(src.buffer, src.byteOffset, n * 4), off);
    return off + n * 4;
  }
  const float = src instanceof Float32Array;
  for (let k = 0; k < n; k++, off += 4) {
    if (float) view.setFloat32(off, src[k]!, true);
    else view.setUint32(off, src[k]!, true);
  }
  return off;
}

/** Reads `n` little-endian 32-bit words at byte `off` into `dst`; returns the offset after them. */
function readBlock(bytes: Uint8Array, view: DataView, off: number, dst: Float32Array | Uint32Array, n: number): number {
  if (LITTLE_ENDIAN) {
    new Uint8Array(dst.buffer, dst.byteOffset, n * 4).set(bytes.subarray(off, off + n * 4));
    return off + n * 4;
  }
  const float = dst instanceof Float32Array;
  for (let k = 0; k < n; k++, off += 4) dst[k] = float ? view.getFloat32(off, true) : view.getUint32(off, true);
  return off;
}

/** Encodes the rows of `batch.columns` (1..MAX_BATCH_COUNT of them); nextAct goes out when any row has one. */
export function encodeTransitions(batch: TransitionBatch): Uint8Array {
  const c = batch.columns;
  const { size: count, obsDim, actDim } = c;
  checkShape(count, obsDim, actDim);
  const withNextAct = c.hasNextAct.subarray(0, count).includes(1);
  const out = new Uint8Array(batchByteLength(count, obsDim, actDim, withNextAct));
  const view = new DataView(out.buffer);
  writeHeader(view, batch.session, batch.seq, count, obsDim, actDim, withNextAct ? FLAG_NEXT_ACT : 0);
  let off = BATCH_HEADER_BYTES;
  off = writeBlock(out, view, off, c.obs, count * obsDim);
  off = writeBlock(out, view, off, c.act, count * actDim);
  off = writeBlock(out, view, off, c.cost, count);
  off = writeBlock(out, view, off, c.nextObs, count * obsDim);
  for (let i = 0; i < count; i++, off += 4) view.setFloat32(off, c.done[i]!, true);
  off = writeBlock(out, view, off, c.episode, count);
  off = writeBlock(out, view, off, c.step, count);
  if (withNextAct) {
    const start = off;
    off = writeBlock(out, view, off, c.nextAct, count * actDim);
    // A row without a next action is NaN then zeros on the wire.
    for (let i = 0; i < count; i++) {
      if (c.hasNextAct[i] === 1) continue;
      view.setFloat32(start + i * actDim * 4, Number.NaN, true);
      for (let j = 1; j < actDim; j++) view.setFloat32(start + (i * actDim + j) * 4, 0, true);
    }
  }
  return out;
}

/**
 * Decodes and validates a batch into fixed columns: magic, version, header size, dimensions,
 * exact length, finite values, cost and done in {0, 1}. Any failure throws E_DATA and nothing is
 * returned, so a receiver never applies half a batch.
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
  const c = TransitionColumns.fixed(obsDim, actDim, count);
  const done = new Float32Array(count);
  let off = BATCH_HEADER_BYTES;
  off = readBlock(bytes, view, off, c.obs, count * obsDim);
  off = readBlock(bytes, view, off, c.act, count * actDim);
  off = readBlock(bytes, view, off, c.cost, count);
  off = readBlock(bytes, view, off, c.nextObs, count * obsDim);
  off = readBlock(bytes, view, off, done, count);
  off = readBlock(bytes, view, off, c.episode, count);
  off = readBlock(bytes, view, off, c.step, count);
  if (withNextAct) readBlock(bytes, view, off, c.nextAct, count * actDim);
  // Checked in wire order, so the first bad value named is the first one on the wire.
  finiteRows(c.obs, count, obsDim, 'obs');
  finiteRows(c.act, count, actDim, 'act');
  zeroOrOne(c.cost, count, 'cost');
  finiteRows(c.nextObs, count, obsDim, 'nextObs');
  zeroOrOne(done, count, 'done');
  for (let i = 0; i < count; i++) c.done[i] = done[i]!;
  if (withNextAct) {
    for (let i = 0; i < count; i++) {
      const base = i * actDim;
      if (Number.isNaN(c.nextAct[base])) {
        c.nextAct.fill(0, base, base + actDim);
        continue;
      }
      for (let j = 0; j < actDim; j++) {
        if (!Number.isFinite(c.nextAct[base + j])) throw new RShieldError('E_DATA', `transition ${i}: nextAct has a non-finite value`, { index: i });
      }
      c.hasNextAct[i] = 1;
    }
  }
  c.markFilled(count);
  return { session, seq, columns: c };
}

function finiteRows(a: Float32Array, count: number, dim: number, field: string): void {
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < dim; j++) {
      const v = a[i * dim + j]!;
      if (!Number.isFinite(v)) throw new RShieldError('E_DATA', `transition ${i}: ${field}[${j}] is ${v}`, { field, index: i });
    }
  }
}

function zeroOrOne(a: Float32Array, count: number, field: string): void {
  for (let i = 0; i < count; i++) {
    const v = a[i]!;
    if (v !== 0 && v !== 1) throw new RShieldError('E_DATA', `transition ${i}: ${field} is ${v}, expected 0 or 1`, { field, index: i });
  }
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
