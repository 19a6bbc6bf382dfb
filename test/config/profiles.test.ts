// Every YAML under hardware/ validates, and each simulated robot's profile labels violations as
// its env does (the profile's constraint spec against the env's own C(s), on sampled points).
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { loadRobotProfile, packageRoot, parseRobotProfile, resolveProfilePath, type RobotProfile } from '../../src/config/profile.js';
import { rosParamsSchema } from '../../src/config/ros-params.js';
import { Rng } from '../../src/core/rng.js';
import { cartpoleViolation, dvrkReacherViolation, mazeContact, mazeGeometry, nav1Geometry, nav2Geometry, navInObstacle, robotNames, type NavGeometry } from '../../src/envs/index.js';
import { ConstraintLabeler } from '../../src/transport/ros2/constraints.js';
import { createEnv, hasCamera, prepareRobot } from '../../src/envs/index.js';
import { MazeMujocoEnv } from '../../src/envs/mujoco/maze/maze-mujoco-env.js';
import { createAnt, createHalfCheetah } from '../../src/envs/mujoco/locomotion/locomotion-env.js';
import { TARGET_BOUNDS } from '../../src/envs/mujoco/extraction/extraction-env.js';

await prepareRobot('maze-mujoco');

const root = packageRoot();

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return yamlFiles(p);
    return /\.ya?ml$/.test(e.name) ? [p] : [];
  });
}

void t.test('every YAML under hardware/ validates: profiles under the profile schema, params files under the ROS parameter schema', (t) => {
  const files = yamlFiles(join(root, 'hardware'));
  t.ok(files.length >= 9, `${files.length} files`);
  for (const file of files) {
    const name = relative(root, file);
    const raw: unknown = parseYaml(readFileSync(file, 'utf8'));
    if (file.endsWith('.params.yaml')) {
      const params = (raw as Record<string, { ros__parameters?: unknown }>)['/**']?.ros__parameters;
      const r = rosParamsSchema.partial().safeParse(params);
      t.ok(r.success, `${name}: ${r.success ? 'valid' : r.error.message}`);
      if (r.success && r.data.profile !== undefined) t.doesNotThrow(() => loadRobotProfile(r.data.profile!), `${name}: profile '${r.data.profile}' exists`);
      continue;
    }
    let p: RobotProfile | undefined;
    t.doesNotThrow(() => (p = parseRobotProfile(raw, name)), name);
    if (p === undefined) continue;
    t.equal(p.name, basename(file).replace(/\.ya?ml$/, ''), `${name}: name matches the file`);
    if (p.kind === 'sim') t.ok(robotNames.includes(p.env), `${name}: env '${p.env}' is a simulated robot`);
  }
  for (const robot of robotNames) t.equal(loadRobotProfile(robot).env, robot, `${robot} has a shipped sim profile`);
  t.end();
});

const labelAt = (p: RobotProfile) => {
  const l = new ConstraintLabeler(p.constraints);
  return (x: number, y: number, z: number): boolean => l.violated(x, y, z) !== null;
};

/** Counts points where the profile and the env disagree; names the first few. */
function disagreements(points: Iterable<readonly number[]>, profile: (q: readonly number[]) => boolean, env: (q: readonly number[]) => boolean): { n: number; violating: number; first: string[] } {
  let n = 0;
  let violating = 0;
  const first: string[] = [];
  for (const q of points) {
    const e = env(q);
    if (e) violating++;
    if (profile(q) !== e) {
      n++;
      if (first.length < 3) first.push(`(${q.map((v) => v.toFixed(5)).join(', ')}): env ${e}`);
    }
  }
  return { n, violating, first };
}

/** Uniform points in a box, plus points just inside and just outside every edge of the given boxes. */
function* navPoints(g: NavGeometry, rng: Rng): Generator<[number, number]> {
  for (let i = 0; i < 20_000; i++) yield [rng.uniform(-130, 180), rng.uniform(-20, 20)];
  for (const [[x0, x1], [y0, y1]] of g.obstacles) {
    for (const d of [-1e-3, 1e-3]) {
      for (let i = 0; i < 50; i++) {
        const x = rng.uniform(x0, x1);
        const y = rng.uniform(y0, y1);
        yield [x0 + d, y];
        yield [x1 - d, y];
        yield [x, y0 + d];
        yield [x, y1 - d];
      }
    }
  }
}

void t.test('nav1 and nav2: the profile boxes are the env obstacles (planar, z = 0, abstract units)', (t) => {
  for (const [robot, g] of [
    ['nav1', nav1Geometry],
    ['nav2', nav2Geometry],
  ] as const) {
    const p = loadRobotProfile(robot);
    t.equal(p.units.length, 'unit', `${robot}: units stated as the reference's abstract units`);
    const label = labelAt(p);
    const r = disagreements(navPoints(g, new Rng(11)), ([x, y]) => label(x!, y!, 0), ([x, y]) => navInObstacle(g, x!, y!));
    t.equal(r.n, 0, `${robot}: no disagreement ${r.first.join('; ')}`);
    t.ok(r.violating > 200, `${robot}: ${r.violating} sampled points violate`);
    // The env has no boundary: the profile's box must hold a whole episode (100 steps of ≤ maxStep from the start).
    const reach = 100 * p.limits.maxStepM + 10;
    const w = p.constraints.workspace;
    t.ok(w.min[0] <= g.start[0] - reach && w.max[0] >= g.start[0] + reach && w.min[1] <= -reach && w.max[1] >= reach, `${robot}: workspace holds everything reachable in an episode`);
  }
  t.end();
});

/**
 * Points on rings just inside and outside the tool radius around every maze wall corner, where
 * a plain inflated box would be wrong.
 */
function* cornerRings(rng: Rng, perCorner: number): Generator<[number, number]> {
  const r = mazeGeometry.toolRadius;
  for (const w of mazeGeometry.walls) {
    for (const cx of w.x) {
      for (const cy of w.y) {
        for (let i = 0; i < perCorner; i++) {
          const phi = rng.uniform(0, 2 * Math.PI);
          for (const d of [r - 1e-4, r + 1e-4]) yield [cx + d * Math.cos(phi), cy + d * Math.sin(phi)];
        }
      }
    }
  }
}

void t.test('maze: walls inflated by the tool radius with rounded corners, and the arena planes', (t) => {
  const p = loadRobotProfile('maze');
  const label = labelAt(p);
  const rng = new Rng(12);
  const r = mazeGeometry.toolRadius;
  function* points(): Generator<[number, number]> {
    const a = mazeGeometry.arenaHalfWidth;
    for (let i = 0; i < 20_000; i++) yield [rng.uniform(-a, a), rng.uniform(-a, a)];
    yield* cornerRings(rng, 40);
    for (const d of [-1e-4, 1e-4]) {
      const lim = a - r + d;
      yield [lim, 0];
      yield [-lim, 0.1];
      yield [0.2, lim];
      yield [-0.2, -lim];
    }
  }
  const res = disagreements(points(), ([x, y]) => label(x!, y!, 0), ([x, y]) => mazeContact(x!, y!));
  t.equal(res.n, 0, `no disagreement ${res.first.join('; ')}`);
  t.ok(res.violating > 1000, `${res.violating} sampled points in contact`);
  t.end();
});

void t.test('cartpole-length: the pole-below-rail constraint is the tip under z = 0; the cart limit is not expressible', (t) => {
  const p = loadRobotProfile('cartpole-length');
  const label = labelAt(p);
  const rng = new Rng(13);
  const tip = (x: number, th: number, L: number): [number, number, number] => [x + L * Math.sin(th), 0, L * Math.cos(th)];
  function* points(): Generator<[number, number, number]> {
    for (const L of [0.4, 0.6, 0.8, 1.0, 5]) {
      for (let i = 0; i < 4000; i++) yield [rng.uniform(-2.399, 2.399), rng.uniform(-Math.PI, Math.PI), L];
      for (const d of [-1e-6, 1e-6]) for (const s of [-1, 1]) yield [rng.uniform(-2.3, 2.3), s * (Math.PI / 2 + d), L];
    }
  }
  const res = disagreements(points(), ([x, th, L]) => label(...tip(x!, th!, L!)), ([x, th]) => cartpoleViolation(x!, th!));
  t.equal(res.n, 0, `no disagreement with the cart inside ±2.4 m ${res.first.join('; ')}`);
  t.ok(res.violating > 5000, `${res.violating} sampled states violate`);
  // The documented gap: the cart past 2.4 m with the pole upright violates in the env only.
  t.equal(cartpoleViolation(2.45, 0), true);
  t.equal(label(...tip(2.45, 0, 1)), false, 'the profile cannot see the cart limit (a joint limit, not a tip region)');
  t.end();
});

void t.test('dvrk-reacher: the profile labels as dvrkReacherViolation on sampled tips', (t) => {
  const p = loadRobotProfile('dvrk-reacher');
  const label = labelAt(p);
  const rng = new Rng(14);
  function* points(): Generator<[number, number, number]> {
    for (let i = 0; i < 20_000; i++) yield [rng.uniform(0.02, 0.14), rng.uniform(0.02, 0.12), rng.uniform(-0.18, -0.08)];
    // Around the post, where most samples above miss.
    for (let i = 0; i < 5000; i++) yield [rng.uniform(0.06, 0.09), rng.uniform(0.055, 0.085), rng.uniform(-0.17, -0.1)];
  }
  const res = disagreements(points(), ([x, y, z]) => label(x!, y!, z!), (q) => dvrkReacherViolation(Float64Array.from(q)));
  t.equal(res.n, 0, `no disagreement ${res.first.join('; ')}`);
  t.ok(res.violating > 1000, `${res.violating} sampled tips violate`);
  t.end();
});

void t.test('a camera profile: image topic with its encoding and imageStaleAfterMs; other encodings are refused at load', (t) => {
  const p = loadRobotProfile('dvrk-reacher-image');
  t.match(p.topics.image, { topic: '/rshield/camera/image_raw', type: 'sensor_msgs/msg/Image', encoding: 'rgb8' });
  t.equal(p.imageStaleAfterMs, 100);
  t.equal(loadRobotProfile('image-maze').imageStaleAfterMs, 50);
  t.equal(loadRobotProfile('image-maze-mujoco').imageStaleAfterMs, 50);
  t.match(loadRobotProfile('image-maze-mujoco').topics.image, { topic: '/IMAZE_MUJOCO/camera/image_raw', encoding: 'rgb8' });
  const doc = parseYaml(readFileSync(resolveProfilePath('dvrk-reacher-image'), 'utf8')) as { topics: { image: Record<string, unknown> }; imageStaleAfterMs?: number };
  doc.topics.image.encoding = 'yuv422';
  t.throws(() => parseRobotProfile(doc), { code: 'E_CONFIG', message: /topics\.image\.encoding.*yuv422/ });
  doc.topics.image.encoding = 'bgr8';
  t.equal(parseRobotProfile(doc).topics.image?.encoding, 'bgr8');
  delete doc.imageStaleAfterMs;
  t.throws(() => parseRobotProfile(doc), { code: 'E_CONFIG', message: /imageStaleAfterMs.*required when topics\.image is set/ });
  t.end();
});

for (const robot of ['maze-mujoco', 'image-maze-mujoco']) {
  void t.test(`${robot}: the maze profile's walls and planes are where MuJoCo finds contacts`, (t) => {
    const p = loadRobotProfile(robot);
    const label = labelAt(p);
    const made = createEnv(robot, { seed: 1 });
    const env = hasCamera(made) ? made.base : made;
    if (!(env instanceof MazeMujocoEnv)) throw new Error(`${robot} is not on MazeMujocoEnv`);
    const rng = new Rng(15);
    const a = mazeGeometry.arenaHalfWidth;
    function* points(): Generator<[number, number]> {
      for (let i = 0; i < 5000; i++) yield [rng.uniform(-a, a), rng.uniform(-a, a)];
      yield* cornerRings(rng, 20);
    }
    const res = disagreements(points(), ([x, y]) => label(x!, y!, 0), ([x, y]) => env.contactAt(x!, y!));
    env.close();
    t.equal(res.n, 0, `no disagreement ${res.first.join('; ')}`);
    t.ok(res.violating > 300, `${res.violating} sampled points in contact`);
    t.end();
  });
}

void t.test('halfcheetah-disabled and ant-disabled: the floor slab is where the head (torso) touches the floor', (t) => {
  for (const [robot, make] of [
    ['halfcheetah-disabled', createHalfCheetah],
    ['ant-disabled', createAnt],
  ] as const) {
    const label = labelAt(loadRobotProfile(robot));
    const env = make({ seed: 1 });
    const rng = new Rng(16);
    let n = 0;
    let violating = 0;
    const first: string[] = [];
    for (let i = 0; i < 1500; i++) {
      // Random poses from upright to upside down, low enough that many touch the floor.
      const q = Array.from({ length: env.nq }, () => rng.uniform(-1, 1));
      if (robot === 'halfcheetah-disabled') {
        q[1] = rng.uniform(-0.6, 0.4);
        q[2] = rng.uniform(-Math.PI, Math.PI);
      } else {
        q[2] = rng.uniform(0.1, 0.5);
        const n4 = Math.hypot(q[3]!, q[4]!, q[5]!, q[6]!);
        for (let k = 3; k < 7; k++) q[k] = q[k]! / n4;
      }
      const e = env.violatedAt(q);
      const [x, y, z] = env.lastPoint;
      if (e) violating++;
      if (Math.abs(z - (robot === 'ant-disabled' ? 0.25 : 0.046)) < 1e-9) continue; // on the boundary
      if (label(x, y, z) !== e) {
        n++;
        if (first.length < 3) first.push(`(${x.toFixed(4)}, ${y.toFixed(4)}, ${z.toFixed(4)}): env ${e}`);
      }
    }
    env.close();
    t.equal(n, 0, `${robot}: no disagreement ${first.join('; ')}`);
    t.ok(violating > 100, `${robot}: ${violating} sampled poses touch the floor`);
  }
  t.end();
});

void t.test('object-extraction(-dynamic): a topple is not a Cartesian region; the profile holds the palm\'s reachable box', (t) => {
  for (const robot of ['object-extraction', 'object-extraction-dynamic']) {
    const label = labelAt(loadRobotProfile(robot));
    const rng = new Rng(17);
    const b = TARGET_BOUNDS;
    let flagged = 0;
    for (let i = 0; i < 2000; i++) if (label(rng.uniform(b.x[0], b.x[1]), rng.uniform(b.y[0], b.y[1]), rng.uniform(b.z[0], b.z[1]))) flagged++;
    t.equal(flagged, 0, `${robot}: no palm position the env allows is labelled a violation`);
    t.ok(label(0, 0, 0.05), `${robot}: a palm in the floor is outside the workspace`);
  }
  t.end();
});
