// When the trainer adapts to reported drift: once per model version, with N transitions to adapt from.
import t from 'tap';
import { DriftTrigger } from '../../src/learn/drift-trigger.js';

void t.test('adapts once drift is suspected and N transitions arrived; a published adaptation ends it for that version', async (t) => {
  const d = new DriftTrigger(100);
  t.equal(d.report('v1', false, 500), false, 'no drift: nothing to do');
  t.equal(d.report('v1', true, 99), false, 'drift, but 99 < 100 transitions to adapt from');
  t.equal(d.report('v1', true, 100), true, 'adapt');
  t.equal(d.report('v1', true, 150), false, 'one at a time');
  d.settled(true, 150);
  t.equal(d.report('v1', true, 400), false, 'published: v1 is done (its later reports are from before the swap)');
  t.equal(d.report('v2', true, 400), true, 'the new version drifts too: adapt again');
});

void t.test('a refused or failed adaptation is retried only once N more transitions arrived', async (t) => {
  const d = new DriftTrigger(100);
  t.equal(d.report('v1', true, 120), true);
  d.settled(false, 130);
  t.equal(d.report('v1', true, 229), false, 'same data: not again');
  t.equal(d.report('v1', true, 230), true, '100 new transitions since: retry');
  d.settled(false, 230);
  t.equal(d.report('v2', true, 231), true, 'a new model version starts afresh');
});
