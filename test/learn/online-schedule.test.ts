// The online learning schedule on its own, with no transport: updates owed per received row,
// a version every K updates, released only after export and validation succeed.
import t from 'tap';
import { TransitionColumns } from '../../src/data/transition-columns.js';
import { OnlineSchedule } from '../../src/learn/online-schedule.js';
import { FakeTrainer } from '../transport/mqtt/fakes.js';
import { tempDir } from '../transport/mqtt/harness.js';

function rows(n: number): TransitionColumns {
  const c = TransitionColumns.growable(2, 1, n);
  for (let i = 0; i < n; i++) c.push({ obs: Float32Array.of(i, 0), act: Float32Array.of(0.1), cost: 0, nextObs: Float32Array.of(i + 1, 0), done: false, episode: 0, step: i });
  return c;
}

void t.test('each received row owes its updates; every K updates a version is exported, validated and released', async (t) => {
  const dir = await tempDir(t, 'rshield-schedule-');
  const trainer = new FakeTrainer(1000);
  const released: string[] = [];
  const validated: string[] = [];
  const s = new OnlineSchedule({
    trainer, every: 10, updatesPerTransition: 2, sliceUpdates: 3, exportDir: dir, versionPrefix: 'line-online',
    validate: async (d) => void validated.push(d),
    release: async (_dir, version) => void released.push(version),
  });
  s.add(rows(12));
  await s.idle();
  t.equal(trainer.updates, 24, '12 rows × 2 updates');
  t.same(released, ['line-online.1', 'line-online.2'], 'one version per 10 updates');
  t.equal(validated.length, 2, 'each validated before release');
  t.equal(s.published, 2);
  trainer.broken = true;
  const failing = new OnlineSchedule({ trainer, every: 5, exportDir: dir, versionPrefix: 'bad', validate: async () => { throw new Error('check batch: NaN in q_risk'); }, release: async (_d, v) => void released.push(v) });
  const rejected: string[] = [];
  failing.on('rejected', (_v, why) => rejected.push(why));
  failing.add(rows(5));
  await failing.idle();
  t.same(rejected, ['check batch: NaN in q_risk'], 'a version that fails validation is rejected with the reason');
  t.equal(released.length, 2, 'and not released');
  await s.stop();
  s.add(rows(50));
  await s.idle();
  t.equal(trainer.updates, 29, 'rows after stop() owe nothing');
});
