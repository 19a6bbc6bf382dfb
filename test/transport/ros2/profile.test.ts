import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { dvrkReacherGeometry as G } from '../../../src/envs/index.js';
import { loadRobotProfile, packageRoot, parseRobotProfile } from '../../../src/config/profile.js';
import { ConstraintLabeler } from '../../../src/transport/ros2/constraints.js';
import { RShieldError } from '../../../src/core/errors.js';

/** The parts of a profile document the bad-profile cases edit. */
interface Doc {
  limits: { maxStepM: unknown; maxStep?: unknown; workspace: { max: number[] } };
  topics: Record<string, { topic: string; type?: string; qos: { reliability: string } }>;
  staleAfterMs?: unknown;
  constraints: { stayOut: { radius: number }[] };
}

const raw = (file: string): Doc => parseYaml(readFileSync(join(packageRoot(), file), 'utf8')) as Doc;

void t.test('psm1 and psm2 follow the dVRK interface: topics, types, QoS, units, frames, fail-safe', (t) => {
  for (const [name, arm] of [['psm1', 'PSM1'], ['psm2', 'PSM2']] as const) {
    const p = loadRobotProfile(name);
    t.equal(p.arm, arm);
    t.equal(p.topics.measuredCp.topic, `/${arm}/measured_cp`);
    t.equal(p.topics.measuredCp.type, 'geometry_msgs/msg/PoseStamped', 'measured_cp is PoseStamped (dVRK >= 2.2), not TransformStamped');
    t.equal(p.topics.measuredJs.type, 'sensor_msgs/msg/JointState');
    t.equal(p.topics.operatingState.type, 'crtk_msgs/msg/OperatingState');
    t.equal(p.topics.commandIn.topic, `/rshield/${arm}/servo_cp`);
    t.equal(p.topics.commandOut.topic, `/${arm}/servo_cp`);
    t.equal(p.topics.hold.topic, `/${arm}/hold`);
    t.equal(p.topics.hold.type, 'std_msgs/msg/Empty');
    t.same(p.topics.commandOut.qos, { reliability: 'reliable', durability: 'volatile', history: 'keep_last', depth: 1 }, 'servo_cp RELIABLE depth 1, as the dVRK subscribes');
    t.equal(p.topics.measuredCp.qos.reliability, 'best_effort', 'best-effort reader of the RELIABLE state stream');
    t.same(p.units, { length: 'm', angle: 'rad' });
    t.equal(p.frames.base, `${arm}_base`);
    t.equal(p.failsafe.action, 'hold');
    t.ok(p.staleAfterMs >= 20 && p.staleAfterMs <= 100, 'stale after a few 100 Hz periods');
  }
  t.end();
});

void t.test('the sim profile matches the dvrk-reacher geometry, so labels agree with the env', (t) => {
  const p = loadRobotProfile('dvrk-reacher');
  t.equal(p.kind, 'sim');
  const w = G.workspace;
  t.same(p.constraints.workspace, { min: [w.x[0], w.y[0], w.z[0]], max: [w.x[1], w.y[1], w.z[1]] });
  const zone = p.constraints.stayOut[0];
  t.same(zone, { shape: 'cylinder', name: 'post', center: [...G.zone.center], radius: G.zone.radius, zMin: G.zone.z[0], zMax: G.zone.z[1] });
  const label = new ConstraintLabeler(p.constraints);
  t.equal(label.violated(G.zone.center[0], G.zone.center[1], -0.15), 'post');
  t.equal(label.violated(...(G.target as unknown as [number, number, number])), null, 'the target is safe');
  t.equal(label.violated(0.2, 0.07, -0.13), 'workspace');
  t.end();
});

void t.test('a bad profile names the YAML path and the value found', (t) => {
  const cases: [string, (d: Doc) => void, RegExp][] = [
    ['type', (d) => (d.limits.maxStepM = 'fast'), /limits\.maxStepM: .*\(got "fast"\)/],
    ['box', (d) => (d.limits.workspace.max[2] = -0.5), /limits\.workspace\.max\[2\]: must be greater than min\[2\] = -0\.175 \(got -0\.5\)/],
    ['qos', (d) => (d.topics['hold']!.qos.reliability = 'sometimes'), /topics\.hold\.qos\.reliability: .*\(got "sometimes"\)/],
    ['type name', (d) => (d.topics['measuredCp']!.type = 'geometry_msgs/msg/TransformStamped'), /topics\.measuredCp\.type: .*\(got "geometry_msgs\/msg\/TransformStamped"\)/],
    ['missing', (d) => delete d.staleAfterMs, /staleAfterMs: .*\(got missing\)/],
    ['feedback loop', (d) => (d.topics['commandIn']!.topic = d.topics['commandOut']!.topic), /topics\.commandIn\.topic: must differ .*\(got "\/PSM1\/servo_cp"\)/],
    ['unknown key', (d) => (d.limits.maxStep = 1), /limits: .*maxStep/],
    ['zone', (d) => (d.constraints.stayOut[0]!.radius = -1), /constraints\.stayOut\[0\]\.radius: .*\(got -1\)/],
  ];
  for (const [name, mutate, re] of cases) {
    const doc = raw('hardware/dvrk/psm1.yaml');
    mutate(doc);
    let err: unknown;
    try {
      parseRobotProfile(doc, 'psm1.yaml');
    } catch (e) {
      err = e;
    }
    t.ok(err instanceof RShieldError && err.code === 'E_CONFIG', `${name}: E_CONFIG`);
    t.match((err as Error | undefined)?.message, re, name);
    t.match((err as Error | undefined)?.message, /^psm1\.yaml: /, `${name}: names the file`);
  }
  t.end();
});

void t.test('unknown profiles, unreadable files and broken YAML get one coded line', (t) => {
  t.throws(() => loadRobotProfile('psm9'), { code: 'E_UNKNOWN_ROBOT', message: /no robot profile 'psm9'/ });
  t.throws(() => loadRobotProfile('./no/such.yaml'), { code: 'E_IO' });
  const dir = t.testdir({ 'bad.yaml': 'name: [unclosed\n' });
  t.throws(() => loadRobotProfile(join(dir, 'bad.yaml')), { code: 'E_CONFIG', message: /not valid YAML/ });
  t.end();
});
