import t from 'tap';
import { Rng } from '../../../src/core/rng.js';
import { isRShieldError } from '../../../src/core/errors.js';
import type { Transition } from '../../../src/core/types.js';
import { TransitionColumns, transitionsOf } from '../../../src/data/transition-columns.js';
import { decodeTransitions, encodeTransitions } from '../../../src/transport/mqtt/transition-codec.js';
import { TransitionBatcher } from '../../../src/transport/mqtt/transition-batcher.js';

function sample(rng: Rng, n: number): Transition[] {
  return Array.from({ length: n }, (_, i) => ({
    obs: new Float32Array([rng.normal(), rng.normal(), rng.normal()]),
    act: new Float32Array([rng.uniform(-1, 1), rng.uniform(-1, 1)]),
    cost: i % 7 === 6 ? 1 : 0,
    nextObs: new Float32Array([rng.normal(), rng.normal(), rng.normal()]),
    done: i % 7 === 6,
    episode: Math.floor(i / 7),
    step: i % 7,
    ...(i % 7 === 6 ? {} : { nextAct: new Float32Array([0.25, -0.5]) }),
  }));
}

void t.test('a batch round-trips bit for bit, nextAct included', (t) => {
  const ts = sample(new Rng(1), 20);
  const bytes = encodeTransitions({ session: 7, seq: 3, columns: TransitionColumns.from(3, 2, ts) });
  const back = decodeTransitions(bytes, { obsDim: 3, actDim: 2 });
  const rows = transitionsOf(back.columns);
  t.equal(back.session, 7);
  t.equal(back.seq, 3);
  t.equal(rows.length, 20);
  t.same(rows.map((x) => [...x.obs, ...x.act, x.cost, ...x.nextObs, x.done, x.episode, x.step]), ts.map((x) => [...x.obs, ...x.act, x.cost, ...x.nextObs, x.done, x.episode, x.step]));
  t.equal(rows[6]?.nextAct, undefined, 'no next action at the end of an episode');
  t.same([...(rows[0]?.nextAct ?? [])], [0.25, -0.5]);
  t.end();
});

void t.test('the tick-path batcher writes the same wire format', (t) => {
  const b = new TransitionBatcher({ capacity: 4, obsDim: 3, actDim: 2 });
  const ts = sample(new Rng(2), 4).map((x) => ({ ...x, nextAct: undefined }));
  for (const x of ts) t.ok(b.add(x.obs, x.act, x.cost, x.nextObs, x.done, x.episode, x.step));
  t.ok(b.full);
  t.notOk(b.add(ts[0]!.obs, ts[0]!.act, 0, ts[0]!.obs, false, 0, 0), 'a full batch takes nothing more');
  const sealed = b.seal(9, 1);
  t.same(sealed, encodeTransitions({ session: 9, seq: 1, columns: TransitionColumns.from(3, 2, ts.map(({ nextAct: _a, ...x }) => x)) }));
  t.equal(b.size, 0, 'sealing starts a new batch');
  t.equal(b.seal(9, 2), undefined, 'an empty batch seals to nothing');
  t.end();
});

void t.test('every malformed batch is refused with E_DATA and a reason, never half-decoded', (t) => {
  const good = encodeTransitions({ session: 1, seq: 1, columns: TransitionColumns.from(3, 2, sample(new Rng(3), 5)) });
  const cases: [string, (b: Uint8Array) => Uint8Array, RegExp][] = [
    ['empty', () => new Uint8Array(0), /header alone/],
    ['bad magic', (b) => (b.set([0x58], 0), b), /magic/],
    ['future version', (b) => (new DataView(b.buffer).setUint16(4, 2, true), b), /version 2/],
    ['truncated', (b) => b.subarray(0, b.length - 4), /expected/],
    ['trailing bytes', (b) => Uint8Array.from([...b, 0, 0, 0, 0]), /expected/],
    ['count zero', (b) => (new DataView(b.buffer).setUint32(16, 0, true), b), /count 0/],
    ['huge count', (b) => (new DataView(b.buffer).setUint32(16, 0xffffffff, true), b), /count/],
    ['wrong dims', (b) => (new DataView(b.buffer).setUint16(20, 4, true), b), /obsDim 4/],
    ['NaN obs', (b) => (new DataView(b.buffer).setFloat32(32, Number.NaN, true), b), /obs\[0\] is NaN/],
    ['cost 0.5', (b) => (new DataView(b.buffer).setFloat32(32 + 4 * (15 + 10), 0.5, true), b), /cost is 0.5/],
    ['unknown flags', (b) => (new DataView(b.buffer).setUint32(24, 4, true), b), /flags/],
  ];
  for (const [name, mutate, reason] of cases) {
    const bad = mutate(Uint8Array.from(good));
    try {
      decodeTransitions(bad, { obsDim: 3, actDim: 2 });
      t.fail(`${name}: accepted`);
    } catch (err) {
      t.ok(isRShieldError(err) && err.code === 'E_DATA', `${name}: E_DATA`);
      t.match((err as Error).message, reason, `${name}: says why`);
    }
  }
  t.end();
});

void t.test('columns go to bytes and back to columns exactly, byte for byte the same wire batch', (t) => {
  const rng = new Rng(4);
  const ts = sample(rng, 300);
  const ring = TransitionColumns.ring(3, 2, 300);
  for (const x of ts) ring.push(x);
  const bytes = encodeTransitions({ session: 2, seq: 5, columns: ring });
  const back = decodeTransitions(bytes, { obsDim: 3, actDim: 2 });
  for (const k of ['obs', 'act', 'cost', 'nextObs', 'done', 'episode', 'step', 'nextAct', 'hasNextAct'] as const) {
    t.same([...back.columns[k]], [...ring[k]], `${k} column`);
  }
  t.equal(back.columns.size, 300);
  t.same(encodeTransitions(back), bytes, 're-encoding the decoded columns gives the same bytes');
  // A payload at an odd offset of a larger buffer (as a broker client may hand it over) decodes the same.
  const shifted = new Uint8Array(bytes.length + 3);
  shifted.set(bytes, 3);
  t.same(transitionsOf(decodeTransitions(shifted.subarray(3)).columns), transitionsOf(back.columns), 'unaligned payload');
  const noNext = TransitionColumns.from(3, 2, ts.slice(0, 4).map(({ nextAct: _a, ...x }) => x));
  t.equal(encodeTransitions({ session: 1, seq: 1, columns: noNext }).byteLength, 32 + 4 * 4 * (3 + 2 + 1 + 3 + 1 + 2), 'no nextAct block when no row has a next action');
  t.end();
});
