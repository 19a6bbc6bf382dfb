import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { runCli } from '../helpers/cli.js';
import { packageRoot } from '../../src/config/profile.js';
import { createController, createEnv } from '../../src/envs/index.js';
import { sceneOf } from '../../src/envs/scene.js';
import { gridPoints, riskColor } from '../../src/cli/plots/scene-plot.js';
import { riskMap } from '../../src/cli/plots/trajectories.js';

const dir = mkdtempSync(join(tmpdir(), 'rshield-pictures-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

void t.test('each scene draws the constraints its robot checks: a step into a drawn shape violates', async (t) => {
  for (const robot of ['nav1', 'nav2', 'maze', 'dvrk-reacher']) {
    const scene = sceneOf(robot);
    if (scene === null) throw new Error(robot);
    const env = createEnv(robot, { seed: 1 });
    // Walk from the start straight into the centre of each shape (small steps), read C(s).
    for (const shape of scene.constraints) {
      const [cx, cy] = shape.kind === 'circle' ? [shape.cx, shape.cy] : [(Math.max(shape.x[0], scene.x[0]) + Math.min(shape.x[1], scene.x[1])) / 2, (Math.max(shape.y[0], scene.y[0]) + Math.min(shape.y[1], scene.y[1])) / 2];
      let obs = env.reset(3);
      let violated = false;
      for (let i = 0; i < 400 && !violated; i++) {
        const [x, y] = scene.point(obs);
        const a = new Float32Array(env.spec.actDim);
        a[0] = Math.sign(cx - x) * Math.min(1, Math.abs(cx - x) * 1000) * (env.spec.actHigh[0] ?? 1);
        a[1] = Math.sign(cy - y) * Math.min(1, Math.abs(cy - y) * 1000) * (env.spec.actHigh[1] ?? 1);
        const r = env.step(a);
        violated = r.violation;
        obs = r.obs;
        if (r.done) break;
      }
      t.ok(violated, `${robot}: heading for the shape at (${cx.toFixed(3)}, ${cy.toFixed(3)}) violates`);
    }
    t.same(scene.point(scene.observationAt(scene.x[0], scene.y[1])), [scene.x[0], scene.y[1]].map((v) => Math.fround(v)), `${robot}: observationAt and point agree`);
  }
  t.equal(sceneOf('cartpole-length'), null, 'no top-down plane for the cart-pole');
});

void t.test('the risk map is high where the critic sees the post and low far from it', async (t) => {
  const scene = sceneOf('dvrk-reacher');
  if (scene === null) throw new Error('scene');
  const q = await riskMap(join(packageRoot(), 'models', 'dvrk-reacher'), scene, createController('dvrk-reacher', { seed: 0 }), 20, 16);
  const pts = gridPoints(scene, 20, 16);
  t.equal(q.length, pts.length);
  const post = scene.constraints[0];
  if (post?.kind !== 'circle') throw new Error('post');
  // Just before the post on the controller's way (it drives in +x toward the target).
  const near = pts.map(([x, y], i) => ({ d: Math.hypot(x - (post.cx - 0.012), y - post.cy), q: q[i]! })).sort((a, b) => a.d - b.d)[0]!;
  const far = pts.map(([x, y], i) => ({ d: Math.hypot(x - 0.125, y - 0.035), q: q[i]! })).sort((a, b) => a.d - b.d)[0]!;
  t.ok(near.q > 0.5, `in front of the post Q_risk ${near.q.toFixed(2)}`);
  t.ok(far.q < 0.1, `far corner Q_risk ${far.q.toFixed(2)}`);
  t.equal(riskColor(0, 0.2), 'rgb(26,152,80)');
  t.equal(riskColor(1, 0.2), 'rgb(200,20,30)');
  t.equal(riskColor(0.2, 0.2), 'rgb(255,200,40)', 'ε is the yellow mid-point');
});

void t.test('demo draws both runs with recovery marks, and the risk map; inspect draws the map for any model', async (t) => {
  const out = join(dir, 'demo');
  const r = await runCli(t, 'demo', '--episodes', '6', '--out', out, '--json');
  t.equal(r.code, 0, r.err);
  const s = JSON.parse(r.out) as { files: { trajectories: string; riskMap: string }; shielded: { interventions: number } };
  const svg = readFileSync(s.files.trajectories, 'utf8');
  t.equal(svg.match(/stroke-dasharray="4 3" points=/g)?.length, 6, 'one dashed unshielded path per episode');
  t.equal(svg.match(/<circle cx="\d+\.\d" cy="\d+\.\d" r="3" fill="none" stroke="#000"\/>/g)?.length, s.shielded.interventions, 'one mark per recovery step (the legend has its own)');
  t.match(svg, /x \(m\)[\s\S]*y \(m\)/, 'axes with units');
  t.match(readFileSync(s.files.riskMap, 'utf8'), /^<svg[\s\S]*ε_risk 0.2[\s\S]*<\/svg>\n$/);

  const i = await runCli(t, 'inspect', '--models', join(packageRoot(), 'models', 'maze'), '--out', join(dir, 'inspect'));
  t.equal(i.code, 0, i.err);
  t.match(i.out, /^model maze-\S+ for maze .*\n  obs 2, act 2; ε_risk 0.15/);
  t.match(i.out, /held-out AUROC 0\.\d+/);
  t.ok(existsSync(join(dir, 'inspect', 'risk-map.svg')));
  const bad = await runCli(t, 'inspect', '--models', join(dir, 'nothing'));
  t.equal(bad.code, 1);
  t.match(bad.err, /nothing.*model\.json/);
});
