/**
 * Fault-injection matrix (DESIGN.md "Failure behaviour"): one row per fault, each saying what
 * the robot receives and what is counted. A row injects its fault into a running shield and
 * returns the tick(s) the robot got; the table asserts them. Add a row to cover a new fault.
 */
import t from 'tap';
import { join } from 'node:path';
import type { FailsafeReason } from '../../src/core/failsafe.js';
import { Shield, type Decision } from '../../src/inference/shield.js';
import { writeModelDir } from '../inference/helpers/models.js';
import { obsLoopingFor, writeLoopingModel } from '../inference/helpers/looping-critic.js';

const DEADLINE_US = 20_000;
const SAFE = [0, 0, 0];
const PROPOSED = [-0.5, -0.5, -0.5];
/** The card's fail-safe action, distinct from zero so the robot's command shows it. */
const FAILSAFE = [0.25, 0, -0.25];

interface Received {
  readonly source: Decision['source'];
  readonly reason: FailsafeReason | null;
  readonly action: number[];
  /** decide() entry to result. */
  readonly ms: number;
}

interface Row {
  readonly fault: string;
  /** Injects the fault and returns what the robot received on the faulty tick(s). */
  readonly inject: (shield: Shield, dir: string) => Promise<Received[]>;
  /** Expected on every received tick. */
  readonly expect: { source: Decision['source']; reason?: FailsafeReason };
  /** The counter that must have moved, and by how much at least. */
  readonly counted?: { reason: FailsafeReason; atLeast: number };
  /** Each faulty tick must have answered within deadline + this (ms). */
  readonly withinMs?: number;
}

async function tick(shield: Shield, obs: number[], proposed: number[], stateStampMs?: number): Promise<Received> {
  const t0 = performance.now();
  const d = await shield.decide(obs, proposed, stateStampMs === undefined ? undefined : { stateStampMs });
  return { source: d.source, reason: d.failsafeReason, action: Array.from(d.action), ms: performance.now() - t0 };
}

const rows: Row[] = [
  {
    fault: 'stale state (stamp older than staleAfterMs, or zero)',
    inject: async (s) => [await tick(s, SAFE, PROPOSED, Date.now() - 10_000), await tick(s, SAFE, PROPOSED, 0)],
    expect: { source: 'failsafe', reason: 'stale' },
    counted: { reason: 'stale', atLeast: 2 },
  },
  {
    fault: 'NaN in state or proposed action',
    inject: async (s) => [await tick(s, [NaN, 0, 0], PROPOSED), await tick(s, SAFE, [0, Infinity, 0])],
    expect: { source: 'failsafe', reason: 'non-finite' },
    counted: { reason: 'non-finite', atLeast: 2 },
  },
  {
    fault: 'stuck inference (a graph that runs ~3 s), and the ticks while it is stuck',
    inject: async (s) => {
      const got = [await tick(s, obsLoopingFor(3), PROPOSED)];
      for (let i = 0; i < 3; i++) got.push(await tick(s, SAFE, PROPOSED));
      return got;
    },
    expect: { source: 'failsafe', reason: 'deadline' },
    counted: { reason: 'deadline', atLeast: 4 },
    withinMs: 100,
  },
  {
    fault: 'slow inference (a graph that takes ~0.3 s)',
    inject: async (s) => [await tick(s, obsLoopingFor(0.3), PROPOSED)],
    expect: { source: 'failsafe', reason: 'deadline' },
    counted: { reason: 'deadline', atLeast: 1 },
    withinMs: 100,
  },
  {
    fault: 'model swap requested mid-tick: the tick finishes on the old model, the next runs the new one',
    inject: async (s, dir) => {
      const next = await Shield.prepare({ modelDir: join(dir, '..', 'next') });
      const running = s.decide(SAFE, PROPOSED);
      const swapped = s.swap(next);
      const d = await running;
      const during = { source: d.source, reason: d.failsafeReason, action: Array.from(d.action), ms: 0 };
      await swapped;
      const after = await tick(s, SAFE, PROPOSED);
      return [during, after];
    },
    expect: { source: 'task' },
  },
];

for (const row of rows) {
  void t.test(row.fault, async (t) => {
    const root = t.testdir();
    const dir = await writeLoopingModel(join(root, 'model'), { card: { failsafe: FAILSAFE } });
    await writeModelDir(join(root, 'next'), { card: { version: 'next' } });
    const shield = await Shield.load({ modelDir: dir, deadlineUs: DEADLINE_US, stuckAfterMs: 60_000, staleAfterMs: 1_000 });
    t.teardown(() => shield.close());
    t.equal((await tick(shield, SAFE, PROPOSED, Date.now())).source, 'task', 'before the fault the controller drives');
    const before = shield.stats();
    const got = await row.inject(shield, dir);
    got.forEach((r, i) => {
      t.equal(r.source, row.expect.source, `tick ${i}: the robot receives ${row.expect.source}`);
      if (row.expect.reason !== undefined) t.equal(r.reason, row.expect.reason, `tick ${i}: reason ${row.expect.reason}`);
      if (r.source === 'failsafe') t.same(r.action, FAILSAFE, `tick ${i}: the card's fail-safe action`);
      if (row.withinMs !== undefined) t.ok(r.ms < DEADLINE_US / 1000 + row.withinMs, `tick ${i}: answered after ${r.ms.toFixed(1)} ms (deadline ${DEADLINE_US / 1000} ms)`);
    });
    if (row.counted !== undefined) {
      const moved = shield.stats().failsafesByReason[row.counted.reason] - before.failsafesByReason[row.counted.reason];
      t.ok(moved >= row.counted.atLeast, `${row.counted.reason} counted ${moved} times (≥ ${row.counted.atLeast})`);
    } else {
      t.equal(shield.stats().failsafes, before.failsafes, 'no fail-safe counted');
    }
  });
}
