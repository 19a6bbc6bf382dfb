/**
 * A shield process whose critic gets stuck for good (days) on tick 5: ticks at 50 Hz, prints
 * one line per tick ("tick N source reason"), and on SIGTERM publishes the fail-safe ("hold"),
 * closes and exits — the watchdog test checks that all of it still happens.
 */
import { Shield } from '../../../src/inference/shield.js';
import { exitProcess } from '../../../src/inference/watchdog.js';

const dir = process.argv[2] as string;
const shield = await Shield.load({ modelDir: dir, deadlineUs: 10_000, stuckAfterMs: 100 });
let n = 0;
const timer = setInterval(() => {
  n++;
  // Σobs = 10⁶: ~10¹² loop trips, days of work in one run.
  const obs = n === 5 ? [1e6, 0, 0] : [0, 0, 0];
  void shield.decide(obs, [-0.5, -0.5, -0.5]).then((d) => console.log(`tick ${n} ${d.source} ${d.failsafeReason ?? '-'}`));
}, 20);
process.once('SIGTERM', () => {
  clearInterval(timer);
  console.log('hold');
  void shield.close().then(() => exitProcess(0)).then(() => process.exit(0));
});
console.log('ready');
