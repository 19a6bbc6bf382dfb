/**
 * D_offline as the public reference implementations pickle it: Recovery RL's list of
 * (s, a, c, s', mask) tuples and MESA's (s, a, c, s', mask, mc_return), of numpy arrays or lists
 * (reference notes §6.3). Read with `pickleparser`, which builds objects only from the names
 * registered here: a pickle that names anything else (os.system, say) yields an inert
 * placeholder that fails validation; nothing in it runs.
 */
import { NameRegistry, Parser } from 'pickleparser';
import { RShieldError } from '../core/errors.js';
import type { Transition } from '../core/types.js';

export interface ReferenceRow {
  readonly obs: Float32Array;
  readonly act: Float32Array;
  readonly cost: number;
  readonly nextObs: Float32Array;
  /** 0 where the rollout ended (a violation; time-limit cuts keep 1). */
  readonly mask: number;
  /** MESA's Monte-Carlo return of the cost, when the file has it. */
  readonly mcReturn?: number;
}

export type ReferenceFormat = 'rrl' | 'mesa';

/** numpy dtype names (the `dtype(name, …)` argument) rshield reads, and their element sizes. */
const DTYPES: Readonly<Record<string, { bytes: number; read: (v: DataView, at: number, little: boolean) => number }>> = {
  f8: { bytes: 8, read: (v, at, le) => v.getFloat64(at, le) },
  f4: { bytes: 4, read: (v, at, le) => v.getFloat32(at, le) },
  f2: { bytes: 2, read: () => Number.NaN },
  i8: { bytes: 8, read: (v, at, le) => Number(v.getBigInt64(at, le)) },
  i4: { bytes: 4, read: (v, at, le) => v.getInt32(at, le) },
  i2: { bytes: 2, read: (v, at, le) => v.getInt16(at, le) },
  i1: { bytes: 1, read: (v, at) => v.getInt8(at) },
  u1: { bytes: 1, read: (v, at) => v.getUint8(at) },
  b1: { bytes: 1, read: (v, at) => v.getUint8(at) },
};

class NumpyDtype {
  order = '<';
  constructor(readonly name: string) {}
  __setstate__(state: unknown[]): void {
    if (typeof state[1] === 'string') this.order = state[1];
  }
}

/** An ndarray as `numpy.core.multiarray._reconstruct` + BUILD leave it: shape, dtype, raw bytes. */
class NumpyArray {
  shape: number[] = [];
  dtype: NumpyDtype | undefined;
  data: unknown;
  __setstate__(state: unknown[]): void {
    const [, shape, dtype, , data] = state;
    this.shape = Array.isArray(shape) ? shape.map(Number) : [];
    this.dtype = dtype instanceof NumpyDtype ? dtype : undefined;
    this.data = data;
  }
  values(): number[] | undefined {
    const d = this.dtype === undefined ? undefined : DTYPES[this.dtype.name];
    const raw = this.data;
    if (d === undefined || !(raw instanceof Uint8Array)) return undefined;
    const n = this.shape.reduce((a, b) => a * b, 1);
    if (raw.byteLength !== n * d.bytes) return undefined;
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const little = this.dtype?.order !== '>';
    return Array.from({ length: n }, (_, i) => d.read(view, i * d.bytes, little));
  }
}

/** A numpy scalar (`numpy.core.multiarray.scalar(dtype, bytes)`), as a number. */
function numpyScalar(dtype: unknown, raw: unknown): number {
  const a = new NumpyArray();
  a.__setstate__([1, [], dtype, false, raw]);
  return a.values()?.[0] ?? Number.NaN;
}

function registry(): NameRegistry {
  const r = new NameRegistry();
  for (const core of ['numpy.core.multiarray', 'numpy._core.multiarray']) {
    r.register(core, '_reconstruct', () => new NumpyArray());
    r.register(core, 'scalar', numpyScalar);
  }
  r.register('numpy', 'dtype', (name: unknown) => new NumpyDtype(String(name)));
  r.register('numpy', 'ndarray', () => new NumpyArray());
  // Protocol 2 writes Python 3 bytes as _codecs.encode(text, 'latin1').
  r.register('_codecs', 'encode', (text: unknown, encoding: unknown) => Buffer.from(String(text), encoding === 'latin1' || encoding === 'latin-1' ? 'latin1' : 'utf8'));
  return r;
}

function describe(x: unknown): string {
  if (x === null || x === undefined) return String(x);
  const named = x as { __module__?: unknown; __name__?: unknown };
  if (typeof named.__module__ === 'string' && typeof named.__name__ === 'string') return `a ${named.__module__}.${named.__name__} object`;
  if (x instanceof NumpyArray) return `a numpy array of dtype ${x.dtype?.name ?? '?'} and shape [${x.shape.join(', ')}]`;
  return Array.isArray(x) ? `a list of ${x.length}` : typeof x;
}

/** A 1-D numeric vector: a numpy array or a list of numbers. */
function vector(x: unknown): Float32Array | undefined {
  if (x instanceof NumpyArray) {
    if (x.shape.length !== 1) return undefined;
    const v = x.values();
    return v === undefined || !v.every(Number.isFinite) ? undefined : Float32Array.from(v);
  }
  if (Array.isArray(x) && x.length > 0 && x.every((v) => typeof v === 'number' && Number.isFinite(v))) return Float32Array.from(x as number[]);
  return undefined;
}

function scalar(x: unknown): number | undefined {
  if (typeof x === 'number') return x;
  if (typeof x === 'boolean') return x ? 1 : 0;
  if (typeof x === 'bigint') return Number(x);
  if (x instanceof NumpyArray && x.shape.length === 0) return x.values()?.[0];
  return undefined;
}

/**
 * The rows of a reference pickle. `format` checks the tuple length (5 or 6); undefined takes
 * the file's. Every row is checked: a vector of the first row's length, finite numbers,
 * c and mask 0 or 1; the first bad field is an E_DATA naming the file, the row and the field.
 */
export function parseReferencePickle(bytes: Uint8Array, source: string, format?: ReferenceFormat): { rows: ReferenceRow[]; format: ReferenceFormat } {
  let value: unknown;
  try {
    value = new Parser({ nameResolver: registry() }).parse(bytes);
  } catch (err) {
    throw new RShieldError('E_DATA', `${source}: not a readable pickle (${(err as Error).message})`, { path: source }, { cause: err });
  }
  if (!Array.isArray(value)) throw new RShieldError('E_DATA', `${source}: expected a list of (s, a, c, s', mask[, mc_return]) tuples, found ${describe(value)}`, { path: source });
  if (value.length === 0) throw new RShieldError('E_DATA', `${source}: the list is empty`, { path: source });
  const width = Array.isArray(value[0]) ? (value[0] as unknown[]).length : 0;
  const fmt: ReferenceFormat = format ?? (width === 6 ? 'mesa' : 'rrl');
  const want = fmt === 'mesa' ? 6 : 5;
  const rows: ReferenceRow[] = [];
  let dims: [number, number] | undefined;
  for (let i = 0; i < value.length; i++) {
    const t: unknown = value[i];
    const bad = (what: string): never => {
      throw new RShieldError('E_DATA', `${source}: row ${i}: ${what}`, { path: source, row: i });
    };
    if (!Array.isArray(t) || t.length !== want) bad(`expected a ${want}-tuple (s, a, c, s', mask${want === 6 ? ', mc_return' : ''}) for --format ${fmt}, found ${describe(t)}`);
    const row = t as unknown[];
    const obs = vector(row[0]) ?? bad(`s is ${describe(row[0])}, expected a 1-D array of finite numbers`);
    const act = vector(row[1]) ?? bad(`a is ${describe(row[1])}, expected a 1-D array of finite numbers`);
    const cost = scalar(row[2]);
    if (cost !== 0 && cost !== 1) bad(`c is ${describe(row[2])} ${String(cost)}, expected 0 or 1`);
    const nextObs = vector(row[3]) ?? bad(`s' is ${describe(row[3])}, expected a 1-D array of finite numbers`);
    const mask = scalar(row[4]);
    if (mask !== 0 && mask !== 1) bad(`mask is ${describe(row[4])} ${String(mask)}, expected 0 or 1`);
    dims ??= [obs.length, act.length];
    if (obs.length !== dims[0] || nextObs.length !== dims[0]) bad(`s has ${obs.length} and s' ${nextObs.length} values; row 0 has ${dims[0]}`);
    if (act.length !== dims[1]) bad(`a has ${act.length} values; row 0 has ${dims[1]}`);
    const mc = want === 6 ? scalar(row[5]) : undefined;
    if (want === 6 && (mc === undefined || !Number.isFinite(mc))) bad(`mc_return is ${describe(row[5])}, expected a number`);
    rows.push({ obs, act, cost: cost as number, nextObs, mask: mask as number, ...(mc !== undefined ? { mcReturn: mc } : {}) });
  }
  return { rows, format: fmt };
}

/**
 * The rows as transitions, episodes recovered from the stream: one ends where its mask is 0 (a
 * violation) or where the next row does not start at its s' (a reset; the reference's
 * time-limit cuts keep mask 1). a′ is the next row's action within the episode.
 */
export function referenceTransitions(rows: readonly ReferenceRow[], firstEpisode = 0): Transition[] {
  const out: Transition[] = [];
  let episode = firstEpisode;
  let step = 0;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    const next = rows[i + 1];
    const continues = next !== undefined && r.mask === 1 && next.obs.every((v, k) => Math.abs(v - (r.nextObs[k] ?? Number.NaN)) <= 1e-6 * Math.max(1, Math.abs(v)));
    out.push({ obs: r.obs, act: r.act, cost: r.cost, nextObs: r.nextObs, done: !continues, episode, step, ...(continues ? { nextAct: next.act } : {}) });
    step++;
    if (!continues) {
      episode++;
      step = 0;
    }
  }
  return out;
}
