import t from 'tap';
import { Rng } from '../../src/core/rng.js';

void t.test('same seed, same stream; different seed, different stream', (t) => {
  const a = new Rng(42);
  const b = new Rng(42);
  const c = new Rng(43);
  const xs = Array.from({ length: 5 }, () => a.nextUint32());
  t.same(Array.from({ length: 5 }, () => b.nextUint32()), xs);
  t.not(c.nextUint32(), xs[0]);
  t.end();
});

void t.test('normal draws have mean ≈ 0 and variance ≈ 1', (t) => {
  const r = new Rng(7);
  const n = 20000;
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const x = r.normal();
    s += x;
    s2 += x * x;
  }
  const mean = s / n;
  t.ok(Math.abs(mean) < 0.03, `mean ${mean}`);
  t.ok(Math.abs(s2 / n - mean * mean - 1) < 0.05, `variance ${s2 / n}`);
  t.end();
});

void t.test('uniform stays in range', (t) => {
  const r = new Rng(1);
  for (let i = 0; i < 1000; i++) {
    const u = r.uniform(-2, 3);
    if (u < -2 || u >= 3) t.fail(`out of range: ${u}`);
  }
  t.pass('1000 draws in [-2, 3)');
  t.end();
});
