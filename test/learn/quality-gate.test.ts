import t from 'tap';
import { DEFAULT_DYNAMICS_TOLERANCE, DEFAULT_GATE_TOLERANCE, dynamicsDecision, gateDecision, gateVerdict } from '../../src/learn/quality-gate.js';

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

const score = (auroc: number, caught: number, rows = 200, positives = 60) => ({ auroc, caught, rows, positives });

void t.test('gateVerdict judges the offline violation demos and the online episodes apart; both must hold', (t) => {
  const worseOffline = gateVerdict({ offline: { candidate: score(0.93, 0.84), reference: score(0.93, 0.9) }, online: { candidate: score(0.99, 0.95), reference: score(0.9, 0.8) } }, 0.005);
  t.equal(worseOffline.publish, false, 'far better online does not buy fewer caught violations on the demos');
  t.equal(worseOffline.offline.publish, false);
  t.equal(worseOffline.online.publish, true);
  t.match(worseOffline.note, /^worse on the offline violation demos\. offline violation demos: AUROC 0\.9300 ≥ 0\.9300 − 0\.005; caught 0\.8400 < 0\.9000 − 0\.005/);
  const lowerAuroc = gateVerdict({ offline: { candidate: score(0.9, 0.9), reference: score(0.92, 0.9) }, online: { candidate: score(0.95, 0.9), reference: score(0.95, 0.9) } }, 0.005);
  t.equal(lowerAuroc.publish, false, 'a lower AUROC on the demos alone refuses');
  const both = gateVerdict({ offline: { candidate: score(0.9, 0.8), reference: score(0.92, 0.9) }, online: { candidate: score(0.8, 0.9), reference: score(0.95, 0.9) } }, 0.005);
  t.match(both.note, /^worse on the offline violation demos and the online episodes\./);
  const fine = gateVerdict({ offline: { candidate: score(0.928, 0.9), reference: score(0.93, 0.9) }, online: { candidate: score(Number.NaN, Number.NaN, 300, 0), reference: score(Number.NaN, Number.NaN, 300, 0) } }, 0.005);
  t.equal(fine.publish, true, 'within the tolerance offline; no online positives yet (undefined) passes');
  t.match(fine.note, /^both held-out sets hold\./);
  const empty = gateVerdict({ offline: { candidate: score(0.93, 0.9), reference: score(0.93, 0.9) }, online: { candidate: score(Number.NaN, Number.NaN, 0, 0), reference: score(Number.NaN, Number.NaN, 0, 0) } }, 0.005);
  t.match(empty.online.note, /no held-out rows yet/);
  t.end();
});

void t.test('the start model is a floor too: accepted versions cannot drift down a tolerance at a time', (t) => {
  const set = (candidate: number, running: number, start: number) => ({ candidate: score(candidate, 0.9), reference: score(running, 0.9), start: score(start, 0.9) });
  const online = { candidate: score(0.95, 0.9), reference: score(0.95, 0.9) };
  t.equal(gateVerdict({ offline: set(0.914, 0.918, 0.922), online }, 0.005).publish, false, 'within the tolerance of the running version, but 0.008 below the start model');
  t.match(gateVerdict({ offline: set(0.914, 0.918, 0.922), online }, 0.005).offline.note, /AUROC 0\.9140 < 0\.9220 − 0\.005/);
  t.equal(gateVerdict({ offline: set(0.918, 0.918, 0.922), online }, 0.005).publish, true, 'within the tolerance of both');
  t.equal(gateVerdict({ offline: set(0.926, 0.932, 0.922), online }, 0.005).publish, false, 'a running version better than the start is the floor then');
  t.end();
});

void t.test('dynamicsDecision: the retrained ensemble ships unless its held-out MSE rose more than the tolerance', (t) => {
  t.equal(DEFAULT_DYNAMICS_TOLERANCE, 0.05);
  t.equal(dynamicsDecision(0.009, 0.01, 0.05).ship, 'retrained', 'better');
  t.equal(dynamicsDecision(0.0105, 0.01, 0.05).ship, 'retrained', 'within 5 %');
  const worse = dynamicsDecision(0.0106, 0.01, 0.05);
  t.equal(worse.ship, 'running', 'more than 5 % worse: the running ensemble stays');
  t.match(worse.note, /0\.01060 > 0\.01000 × 1\.05; kept the running ensemble/);
  t.equal(dynamicsDecision(0.02, Number.NaN, 0.05).ship, 'retrained', 'nothing to compare against');
  t.match(dynamicsDecision(Number.NaN, 0.01, 0.05).note, /no held-out rows yet/);
  t.end();
});
