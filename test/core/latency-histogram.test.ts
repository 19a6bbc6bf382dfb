import t from 'tap';
import { LatencyHistogram } from '../../src/core/latency-histogram.js';
import { Rng } from '../../src/core/rng.js';

void t.test('quantiles are exact to 1 µs below 2 ms and within ~2% above', (t) => {
  const h = new LatencyHistogram();
  t.equal(h.quantile(0.5), 0, 'empty');
  for (let v = 1; v <= 100; v++) h.record(v - 0.5);
  t.equal(h.quantile(0.5), 50);
  t.equal(h.quantile(0.99), 99);
  t.equal(h.max, 99.5);
  const big = new LatencyHistogram();
  const rng = new Rng(3);
  const xs: number[] = [];
  for (let i = 0; i < 5000; i++) {
    const v = 2048 + rng.uniform(0, 1e6);
    xs.push(v);
    big.record(v);
  }
  xs.sort((a, b) => a - b);
  const exact = xs[Math.ceil(0.99 * xs.length) - 1] as number;
  t.ok(Math.abs(big.quantile(0.99) - exact) / exact < 0.025, `p99 ${big.quantile(0.99)} vs ${exact}`);
  big.record(1e12);
  t.equal(big.max, 1e12, 'max is exact even past the last bucket');
  big.reset();
  t.equal(big.count, 0);
  t.end();
});
