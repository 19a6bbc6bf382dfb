import t from 'tap';
import type { Timer } from '../../src/core/clock.js';
import { TickLoop } from '../../src/core/tick-loop.js';
import { FakeClock } from './fakes.js';

/** A timer whose callbacks fire when the test advances time. */
class FakeTimer implements Pick<Timer, 'setTimeout' | 'clearTimeout'> {
  #q: { at: number; fn: () => void; id: number }[] = [];
  #id = 0;
  constructor(readonly clock: FakeClock) {}
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.#id;
    this.#q.push({ at: this.clock.us / 1000 + ms, fn, id });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.#q = this.#q.filter((e) => e.id !== h);
  }
  /** Advances to `ms`, firing due callbacks and letting their promises settle. */
  async advanceTo(ms: number): Promise<void> {
    for (;;) {
      this.#q.sort((a, b) => a.at - b.at);
      const e = this.#q[0];
      if (e === undefined || e.at > ms) break;
      this.#q.shift();
      this.clock.us = Math.max(this.clock.us, e.at * 1000);
      e.fn();
      for (let i = 0; i < 5; i++) await Promise.resolve();
    }
    this.clock.us = ms * 1000;
  }
}

void t.test('ticks on a fixed grid; slow ticks skip slots and count overruns', async (t) => {
  const clock = new FakeClock();
  const timer = new FakeTimer(clock);
  const at: number[] = [];
  let slow = false;
  const loop = new TickLoop({
    periodMs: 10,
    clock,
    timer,
    tick: () => {
      at.push(clock.us / 1000);
      if (slow) clock.us += 25_000;
    },
  });
  loop.start();
  await timer.advanceTo(35);
  t.same(at, [0, 10, 20, 30]);
  slow = true;
  await timer.advanceTo(40);
  slow = false;
  await timer.advanceTo(100);
  t.same(at, [0, 10, 20, 30, 40, 70, 80, 90, 100], 'the 40 ms tick ran to 65 ms: slots 50 and 60 skipped');
  t.equal(loop.overruns, 2);
  await loop.stop();
  await timer.advanceTo(200);
  t.equal(at.length, 9, 'no ticks after stop');
});

void t.test('a throwing tick is reported and the loop continues', async (t) => {
  const clock = new FakeClock();
  const timer = new FakeTimer(clock);
  const errors: unknown[] = [];
  const loop = new TickLoop({
    periodMs: 5,
    clock,
    timer,
    tick: () => Promise.reject(new Error('x')),
    onError: (e) => errors.push(e),
  });
  loop.start();
  await timer.advanceTo(12);
  await loop.stop();
  t.equal(loop.ticks, 3);
  t.equal(errors.length, 3);
});
