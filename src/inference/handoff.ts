/**
 * The shared memory between the thread that owns the robot's I/O and its inference worker
 * (DESIGN.md decision 8). One SharedArrayBuffer per worker: Int32 control words and Float32
 * slots for the tick's inputs and outputs. A request is "write the inputs, set CMD, bump REQ,
 * Atomics.notify"; the worker answers by writing the outputs and setting DONE = REQ. Nothing
 * is allocated or posted per tick; the event-loop message channel is for start-up and errors.
 */

/**
 * Atomics.load polls between two readings of the time while either side spins on the other (a
 * power of 2): a reading may box a double, and a spin is thousands of polls.
 */
export const SPIN_CHECK = 512;

/** Control word indices (Int32Array). */
export const REQ = 0;
export const DONE = 1;
export const CMD = 2;
/** 0 when the request succeeded, 1 when the model threw (its message follows on the port). */
export const STATUS = 3;
/** The request whose RISK run also produced π_rec(s) (fused graph): recovery() is then free. */
export const REC_OF = 4;
/** Nearest-safe counters, kept by the worker. */
export const NS_SEARCHES = 5;
export const NS_FALLBACKS = 6;
/** Model-based counters, kept by the worker: plans run, plans with no finite cost. */
export const MB_PLANS = 7;
export const MB_INVALID = 8;
/** How the worker met each request (request-wait.ts): spinning after an answer, spinning at the predicted time, woken from a sleep. */
export const WAKE_SPUN = 9;
export const WAKE_PREDICTED = 10;
export const WAKE_SLEPT = 11;
/** Episodes started, bumped by the I/O side: the worker's planner drops its warm start when it changes. */
export const EPISODE = 12;
/** Model-based counter, kept by the worker: plans warm-started from the one before. */
export const MB_WARM = 13;
/**
 * 1 while the worker sleeps in Atomics.wait for a request (request-wait.ts). The I/O side then
 * waits for the answer asleep too instead of spinning: the woken worker may then run on the I/O
 * thread's core, where a spinning I/O thread would send it to an idle one (a slow wake-up on a VM).
 */
export const ASLEEP = 14;
const CTRL_WORDS = 15;

export const CMD_RISK = 1;
export const CMD_RECOVERY = 2;
export const CMD_NEAREST = 3;
export const CMD_STOP = 4;
export const CMD_PLAN = 5;

/** Typed views over one hand-off buffer. */
export interface Handoff {
  readonly buffer: SharedArrayBuffer;
  readonly ctrl: Int32Array;
  readonly obs: Float32Array;
  /** The action to judge (RISK) or the proposal to search around (NEAREST) or plan near (PLAN). */
  readonly act: Float32Array;
  /** NEAREST: π_rec(s) clamped, returned when no candidate is safe. */
  readonly fallback: Float32Array;
  /** NEAREST: the candidate threshold ε − h. */
  readonly threshold: Float32Array;
  readonly q: Float32Array;
  /** π_rec(s) (RISK on a fused graph, RECOVERY) or the chosen action (NEAREST, PLAN). */
  readonly out: Float32Array;
  /** An image model's heads: the newest frame's latent, written by the I/O side before RISK (empty otherwise). */
  readonly latent: Float32Array;
}

/** Views over `buffer`, or over a new buffer sized for obsDim/actDim (and an image model's latentDim). */
export function handoff(obsDim: number, actDim: number, buffer?: SharedArrayBuffer, latentDim = 0): Handoff {
  const floats = obsDim + 3 * actDim + 2 + latentDim;
  const buf = buffer ?? new SharedArrayBuffer(4 * (CTRL_WORDS + floats));
  const f = new Float32Array(buf, 4 * CTRL_WORDS, floats);
  let at = 0;
  const slot = (n: number): Float32Array => {
    const s = f.subarray(at, at + n);
    at += n;
    return s;
  };
  return {
    buffer: buf,
    ctrl: new Int32Array(buf, 0, CTRL_WORDS),
    obs: slot(obsDim),
    act: slot(actDim),
    fallback: slot(actDim),
    threshold: slot(1),
    q: slot(1),
    out: slot(actDim),
    latent: slot(latentDim),
  };
}

/** Atomics.waitAsync (Node ≥ 16; not yet in TypeScript's ES2022 lib). */
type WaitAsync = (a: Int32Array, i: number, v: number) => { async: false; value: string } | { async: true; value: Promise<string> };
export const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;
