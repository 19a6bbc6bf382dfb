import t from 'tap';
import { auroc } from '../../src/learn/auroc.js';

void t.test('perfect, inverted and uninformative rankings', async (t) => {
  t.equal(auroc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]), 1);
  t.equal(auroc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1]), 0);
  t.equal(auroc([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1]), 0.5);
});

void t.test('matches the pairwise definition on a small example', async (t) => {
  const s = [0.3, 0.7, 0.2, 0.7, 0.9, 0.1];
  const y = [0, 1, 0, 0, 1, 1];
  let wins = 0;
  let pairs = 0;
  for (let i = 0; i < s.length; i++) {
    for (let j = 0; j < s.length; j++) {
      if (y[i] === 1 && y[j] === 0) {
        pairs++;
        wins += s[i]! > s[j]! ? 1 : s[i] === s[j] ? 0.5 : 0;
      }
    }
  }
  t.equal(auroc(s, y), wins / pairs);
});

void t.test('one class only gives NaN', async (t) => {
  t.ok(Number.isNaN(auroc([0.1, 0.2], [1, 1])));
});
