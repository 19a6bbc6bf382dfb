import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Shield } from '../../src/inference/shield.js';
import { cardFor, writeModelDir, type TestModelSpec } from './helpers/models.js';

// Versions differ only in the constant recovery action c = version/10, so every tick's action
// tells which model decided it. Q_risk = sigmoid(4·a0 − 2) > 0.5 for every proposal here.
const spec = (v: number): TestModelSpec => ({
  w: [0, 0, 0, 4, 0, 0],
  b: -2,
  recC: [v / 10, v / 10, v / 10],
  card: { version: String(v) },
});

void t.test('hot-swap while decide() runs in a loop: no tick fails or is skipped', async (t) => {
  const root = t.testdir();
  const dirs = await Promise.all([1, 2, 3, 4].map((v) => writeModelDir(join(root, `v${v}`), spec(v))));
  // A generous deadline: this test is about swaps, and a loaded 2-core CI machine starting the
  // next version's worker beside the ticks misses tight deadlines now and then.
  const shield = await Shield.load({ modelDir: dirs[0] as string, deadlineUs: 1_000_000 });
  t.teardown(() => shield.close());

  let stop = false;
  const seen: number[] = [];
  let ticks = 0;
  const loop = (async () => {
    while (!stop) {
      const d = await shield.decide([0, 0, 0], [0.9, 0, 0]);
      ticks++;
      if (d.source !== 'recovery') throw new Error(`tick ${ticks}: ${d.source} ${d.failsafeReason ?? ''}`);
      const v = Math.round((d.action[0] as number) * 10);
      if (seen[seen.length - 1] !== v) seen.push(v);
    }
  })();

  const previous: string[] = [];
  for (const dir of dirs.slice(1)) {
    const next = await Shield.prepare({ modelDir: dir });
    previous.push(await shield.swap(next));
    t.equal(shield.modelVersion, next.card.version);
    await new Promise((r) => setTimeout(r, 5));
  }
  stop = true;
  await loop;
  t.same(previous, ['1', '2', '3'], 'swap returns the replaced version');
  t.ok(seen.every((v, i) => i === 0 || v > (seen[i - 1] as number)), `versions only move forward: ${seen.join(' → ')}`);
  t.equal(seen[seen.length - 1], 4, 'the last model decides');
  const s = shield.stats();
  t.equal(s.ticks, ticks, 'every loop iteration is one counted tick');
  t.equal(s.failsafes, 0);
  t.equal(s.interventions, ticks);
});

void t.test('a bad update is refused by prepare and the running model keeps deciding', async (t) => {
  const root = t.testdir();
  const shield = await Shield.load({ modelDir: await writeModelDir(join(root, 'ok'), spec(1)) });
  t.teardown(() => shield.close());
  const bad = await writeModelDir(join(root, 'bad'), { ...spec(2), w: [1, 1, 1, 1, 1, 1], noSigmoid: true });
  await t.rejects(Shield.prepare({ modelDir: bad }), { code: 'E_MODEL', message: /Q_risk .* outside \[0, 1\]/ });
  const other = await writeModelDir(join(root, 'other'), spec(3));
  await writeFile(join(other, 'model.json'), JSON.stringify({ ...cardFor(spec(3)), robot: 'nav1' }));
  const prepared = await Shield.prepare({ modelDir: other });
  await t.rejects(shield.swap(prepared), { code: 'E_MODEL', message: /for robot 'nav1', the shield runs 'test-bot'/ });
  await prepared.close();
  const d = await shield.decide([0, 0, 0], [0.9, 0, 0]);
  t.equal(shield.modelVersion, '1');
  t.same([...d.action], [...Float32Array.from([0.1, 0.1, 0.1])]);
  const again = await Shield.prepare({ modelDir: join(root, 'ok') });
  await shield.swap(again);
  await t.rejects(shield.swap(again), { code: 'E_USAGE', message: /already swapped in/ });
});

void t.test('close() waits for a running tick, then refuses new ones', async (t) => {
  const shield = await Shield.load({ modelDir: await writeModelDir(t.testdir(), spec(1)) });
  const tick = shield.decide([0, 0, 0], [0.9, 0, 0]);
  const closed = shield.close();
  const d = await tick;
  t.equal(d.source, 'recovery', 'the running tick completes on its session');
  await closed;
  await t.rejects(shield.decide([0, 0, 0], [0, 0, 0]), { code: 'E_USAGE' });
});
