import t from 'tap';
import { DEFAULT_GATE_TOLERANCE, gateDecision } from '../../src/learn/quality-gate.js';

void t.test('a version passes when its AUROC is at most the tolerance below the reference', (t) => {
  t.equal(DEFAULT_GATE_TOLERANCE, 0.005);
  t.equal(gateDecision(0.93, 0.924, 0.005).publish, true, 'better');
  t.equal(gateDecision(0.924, 0.924, 0.005).publish, true, 'equal');
  t.equal(gateDecision(0.92, 0.924, 0.005).publish, true, 'within the tolerance');
  t.equal(gateDecision(0.919, 0.924, 0.005).publish, true, 'exactly at the floor');
  const refused = gateDecision(0.905, 0.924, 0.005);
  t.equal(refused.publish, false, 'the online drop measured on dvrk-reacher is refused');
  t.match(refused.note, /0\.9050 < 0\.9240 − 0\.005/);
  t.equal(gateDecision(0.9239, 0.924, 0).publish, false, 'tolerance 0: any drop is refused');
  t.end();
});

void t.test('an undefined AUROC or reference passes with a note', (t) => {
  const noClasses = gateDecision(Number.NaN, 0.9, 0.005);
  t.equal(noClasses.publish, true);
  t.match(noClasses.note, /lacks positives or negatives/);
  t.equal(gateDecision(0.5, Number.NaN, 0.005).publish, true);
  t.match(gateDecision(0.5, undefined, 0.005).note, /no reference yet/);
  t.end();
});
