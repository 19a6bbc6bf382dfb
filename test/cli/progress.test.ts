import t from 'tap';
import { createProgress } from '../../src/cli/progress.js';

function sink(isTTY: boolean): { write: (s: string) => boolean; isTTY: boolean; text: () => string } {
  let text = '';
  return { write: (s: string) => ((text += s), true), isTTY, text: () => text };
}

void t.test('without a terminal: one plain line per interval, with counts and percent', (t) => {
  let now = 0;
  const out = sink(false);
  const p = createProgress({ label: 'collect nav1', total: 1000, unit: 'transitions', stream: out, clock: { monotonicUs: () => now * 1000 }, lineIntervalMs: 1000 });
  p.update(100, { violations: 3 });
  t.equal(out.text(), '', 'nothing before the first interval');
  now = 1000;
  p.update(250, { violations: 7 });
  now = 1500;
  p.update(300, { violations: 8 });
  t.equal(out.text(), 'collect nav1: 250/1000 transitions (25%), 7 violations, 1.0 s, ETA 3 s\n');
  now = 2100;
  p.update(400);
  p.stop(400);
  t.equal(out.text().split('\n').length, 3, 'a second line after another interval, none on stop');
  t.notMatch(out.text(), /\x1b\[/, 'no terminal escapes in logs');
  t.end();
});

void t.test('on a terminal: a bar that ends at 100 % of what was done', (t) => {
  const out = sink(true);
  const p = createProgress({ label: 'collect nav1', total: 1000, unit: 'transitions', stream: out });
  p.update(500, { violations: 2 });
  p.stop(745, { violations: 4 });
  t.match(out.text(), /collect nav1 \[.*\] 100% \| 745\/745 transitions, 4 violations/);
  t.end();
});
