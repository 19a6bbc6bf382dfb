import t from 'tap';
import type { Transition } from '../../src/core/types.js';
import { dvrkReacherViolation, generateOfflineData, mazeContact, navInObstacle, nav1Geometry, nav2Geometry } from '../../src/envs/index.js';

function collect(name: string, transitions: number, seed = 1, params?: Record<string, unknown>): Transition[] {
  return [...generateOfflineData(name, { seed, transitions, params })];
}

const within = (value: number, target: number): boolean => Math.abs(value - target) <= 0.1 * target;

void t.test('nav1 N=10000 gives ≈7450 transitions with ≈436 violations (reference re-simulation)', (t) => {
  const data = collect('nav1', 10000);
  const viol = data.filter((d) => d.cost === 1).length;
  t.ok(within(data.length, 7450), `${data.length} transitions`);
  t.ok(within(viol, 436), `${viol} violations`);
  t.equal(new Set(data.map((d) => d.episode)).size, 1000, 'N/10 rollouts');
  for (const d of data) {
    if (d.cost !== (navInObstacle(nav1Geometry, d.nextObs[0] as number, d.nextObs[1] as number) ? 1 : 0)) {
      t.fail(`cost disagrees with C(s') at episode ${d.episode} step ${d.step}`);
      break;
    }
  }
  t.end();
});

void t.test('nav2 N=10000 gives ≈9900 transitions with ≈796 violations', (t) => {
  const data = collect('nav2', 10000, 2);
  const viol = data.filter((d) => d.cost === 1).length;
  t.ok(within(data.length, 9900), `${data.length} transitions`);
  t.ok(within(viol, 796), `${viol} violations`);
  t.ok(data.every((d) => d.cost === (navInObstacle(nav2Geometry, d.nextObs[0] as number, d.nextObs[1] as number) ? 1 : 0)));
  t.end();
});

void t.test('rollouts are chained, numbered, and carry the next action', (t) => {
  const data = collect('nav2', 2000, 3);
  const problems: string[] = [];
  let lasts = 0;
  for (let i = 0; i < data.length; i++) {
    const d = data[i] as Transition;
    const next = data[i + 1];
    const where = `episode ${d.episode} step ${d.step}`;
    if (d.done !== (d.cost === 1)) problems.push(`${where}: done must equal c in nav rollouts`);
    if (next !== undefined && next.episode === d.episode) {
      if (next.step !== d.step + 1) problems.push(`${where}: next step ${next.step}`);
      if (next.obs.join() !== d.nextObs.join()) problems.push(`${where}: next obs is not s'`);
      if (d.nextAct?.join() !== next.act.join()) problems.push(`${where}: nextAct is not the next action`);
      if (d.done) problems.push(`${where}: rollout continues after done`);
    } else {
      lasts++;
      if (d.nextAct !== undefined) problems.push(`${where}: last transition has a nextAct`);
      if (next !== undefined && (next.episode !== d.episode + 1 || next.step !== 0)) problems.push(`${where}: bad numbering after`);
    }
  }
  t.same(problems, []);
  t.equal(lasts, new Set(data.map((d) => d.episode)).size, 'one last transition per rollout');
  t.end();
});

void t.test('generators are lazy and deterministic', (t) => {
  const it = generateOfflineData('nav1', { seed: 4, transitions: 1e9 })[Symbol.iterator]();
  const first = it.next();
  t.notOk(first.done, 'a billion-transition request yields its first transition at once');
  for (const name of ['nav1', 'maze', 'cartpole-length', 'dvrk-reacher']) {
    const a = collect(name, 300, 7);
    const b = collect(name, 300, 7);
    const c = collect(name, 300, 8);
    t.same(a, b, `${name}: same seed, same data`);
    t.notSame(a, c, `${name}: another seed, other data`);
  }
  t.end();
});

void t.test('maze: exactly N transitions, half random then half expert, labelled by contact', (t) => {
  const data = collect('maze', 2000, 5);
  t.equal(data.length, 2000);
  t.equal(new Set(data.map((d) => d.episode)).size, 100, '20-step segments');
  const viol = data.filter((d) => d.cost === 1).length;
  t.ok(viol > 50 && viol < 600, `${viol} violating transitions (paper: 1163 of 10000)`);
  t.ok(data.every((d) => d.cost === 0 || mazeContact(d.nextObs[0] as number, d.nextObs[1] as number)));
  t.end();
});

void t.test('cartpole: exactly N transitions in 30-step random segments that continue after a fall', (t) => {
  const data = collect('cartpole-length', 3000, 6, { length: 0.6 });
  t.equal(data.length, 3000);
  t.ok(data.every((d) => d.step < 30 && d.act[0]! >= -3 && d.act[0]! <= 3));
  const viol = data.filter((d) => d.cost === 1).length;
  t.ok(viol > 300, `${viol} violating transitions: random pushes topple the pole`);
  t.ok(data.some((d, i) => d.cost === 1 && data[i + 1]?.episode === d.episode), 'segments run on after a violation');
  t.end();
});

void t.test('dvrk-reacher: the noisy operator violates in 5–10% of transitions', (t) => {
  const data = collect('dvrk-reacher', 6000, 9);
  t.equal(data.length, 6000);
  const viol = data.filter((d) => d.cost === 1).length;
  t.ok(viol >= 0.05 * 6000 && viol <= 0.1 * 6000, `${viol} of 6000 violate`);
  t.ok(data.every((d) => d.cost === (dvrkReacherViolation(d.nextObs) ? 1 : 0)));
  t.ok(data.every((d) => !dvrkReacherViolation(d.obs)), 'rollouts start and stay in free space until they end');
  // Probes are slow (at most 2 mm plus tremor); free moves cover the controller's speeds too.
  const big = data.filter((d) => Math.hypot(...d.act) > 0.0035).length;
  t.ok(big > 0.1 * data.length && big < 0.4 * data.length, `${big} fast steps`);
  // Many directions: violations all around the zone.
  const quadrants = new Set(
    data.filter((d) => d.cost === 1).map((d) => Math.sign((d.nextObs[0] as number) - 0.075) * 2 + Math.sign((d.nextObs[1] as number) - 0.07)),
  );
  t.ok(quadrants.size >= 4, 'violations from every side');
  t.end();
});
