import t from 'tap';
import { checkAblations, parseAblation, ablationValue } from '../../../src/app/experiment/ablations.js';
import { findAlgorithm } from '../../../src/app/experiment/registry.js';
import { parseShard, planRuns, shardRuns } from '../../../src/app/experiment/run-list.js';

const plan = (algos: string[], seeds: number): ReturnType<typeof planRuns> => planRuns({ robot: 'nav1', algos, seeds, episodes: 3, ablations: [], threads: 1 });

void t.test('the run list: algorithm × seed, named key/seed-N', async (t) => {
  const runs = plan(['a', 'b'], 3);
  t.same(runs.map((r) => r.name), ['a/seed-0', 'a/seed-1', 'a/seed-2', 'b/seed-0', 'b/seed-1', 'b/seed-2']);
  const ab = planRuns({ robot: 'nav1', algos: ['a'], seeds: 1, episodes: 3, ablations: ['no-online', 'offline-size=100'], threads: 2 });
  t.equal(ab[0]!.name, 'a+no-online+offline-size=100/seed-0', 'ablations are part of the name: they are other runs');
  t.same(ab[0]!.spec.ablations, ['no-online', 'offline-size=100']);
});

void t.test('shards cover every run exactly once, the same way every time', async (t) => {
  for (const [algos, seeds] of [[['a', 'b', 'c'], 5], [['a'], 1], [['a', 'b'], 7]] as const) {
    const runs = plan([...algos], seeds);
    for (const n of [1, 2, 3, 4, 7, 16]) {
      const seen = new Map<string, number>();
      for (let i = 1; i <= n; i++) for (const r of shardRuns(runs, { index: i, count: n })) seen.set(r.name, (seen.get(r.name) ?? 0) + 1);
      t.same([...seen.keys()].sort(), runs.map((r) => r.name).sort(), `${runs.length} runs, ${n} shards: all covered`);
      t.ok([...seen.values()].every((c) => c === 1), `${runs.length} runs, ${n} shards: none twice`);
      const sizes = Array.from({ length: n }, (_, i) => shardRuns(runs, { index: i + 1, count: n }).length);
      t.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `balanced: ${sizes.join(',')}`);
    }
  }
  t.same(shardRuns(plan(['a', 'b'], 3), parseShard('2/2')).map((r) => r.name), ['a/seed-1', 'b/seed-0', 'b/seed-2']);
});

void t.test('--shard values are checked', async (t) => {
  t.same(parseShard('3/4'), { index: 3, count: 4 });
  for (const bad of ['0/2', '3/2', '1/0', '1', 'a/b', '-1/2']) t.throws(() => parseShard(bad), { code: 'E_USAGE', message: /--shard must be i\/n/ }, bad);
});

void t.test('ablations: known names, values where they take one, refused by name for an algorithm without it', async (t) => {
  t.equal(parseAblation('no-online'), 'no-online');
  t.equal(parseAblation('offline-size=1000'), 'offline-size=1000');
  t.throws(() => parseAblation('no-such'), { code: 'E_USAGE', message: "unknown ablation 'no-such' (known: no-pretraining, no-online, no-relabeling, offline-size)" });
  t.throws(() => parseAblation('offline-size'), { message: /offline-size takes a positive integer/ });
  t.throws(() => parseAblation('offline-size=0'), { message: /offline-size takes a positive integer/ });
  t.throws(() => parseAblation('no-online=3'), { message: /no-online takes no value/ });
  t.equal(ablationValue(['no-online', 'offline-size=500'], 'offline-size'), 500);
  t.equal(ablationValue(['no-online'], 'offline-size'), undefined);
  t.throws(() => checkAblations(findAlgorithm('scripted-online'), ['no-relabeling']), { code: 'E_USAGE', message: "algorithm 'scripted-online' has no ablation 'no-relabeling' (it takes no-pretraining, no-online, offline-size)" });
  t.throws(() => checkAblations(findAlgorithm('scripted'), ['no-online']), { message: "algorithm 'scripted' has no ablation 'no-online' (it takes none)" });
  t.doesNotThrow(() => checkAblations(findAlgorithm('scripted-online'), ['no-online', 'offline-size=100']));
});

void t.test('an unknown algorithm is named with the known ones', async (t) => {
  t.throws(() => findAlgorithm('sac-magic'), { code: 'E_USAGE', message: /^unknown algorithm 'sac-magic' \(known: .*\bscripted-shielded\b.*\)$/ });
});
