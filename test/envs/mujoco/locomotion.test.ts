import t from 'tap';
import { antTasks, createController, createEnv, generateOfflineData, halfCheetahTasks, isMujocoBacked, prepareRobot } from '../../../src/envs/index.js';
import { createAnt, createHalfCheetah } from '../../../src/envs/mujoco/locomotion/locomotion-env.js';

await prepareRobot('halfcheetah-disabled');

void t.test('MESA task families: the cheetah trains with joint 1–4 disabled and is tested on 5; the ant on legs 0–2 and 3', (t) => {
  t.same([...halfCheetahTasks.train], [1, 2, 3, 4]);
  t.equal(halfCheetahTasks.test, 5);
  t.same([...antTasks.train], [0, 1, 2]);
  t.equal(antTasks.test, 3);
  t.equal(createHalfCheetah().disabled, 5, 'by default the test task');
  t.equal(createAnt().disabled, 3);
  t.throws(() => createEnv('halfcheetah-disabled', { disabledJoint: 6 }), { code: 'E_CONFIG', message: /disabledJoint' is 6, expected a number in \[0, 5\]/ });
  t.throws(() => createEnv('ant-disabled', { disabledLeg: 1.5 }), { code: 'E_CONFIG', message: /disabledLeg' is 1.5, expected an integer in \[0, 3\]/ });
  t.end();
});

void t.test('a disabled joint gets no torque; a disabled ant leg loses its two actuators and is half size', (t) => {
  for (const j of [...halfCheetahTasks.train, halfCheetahTasks.test]) {
    const env = createHalfCheetah({ disabledJoint: j });
    env.reset();
    env.step(new Float32Array(6).fill(1));
    const ctrl = Array.from(env.simulation.ctrl);
    t.same(ctrl, [0, 1, 2, 3, 4, 5].map((i) => (i === j ? 0 : 1)), `joint ${j}`);
    env.close();
  }
  const legActuators = [[2, 3], [4, 5], [6, 7], [0, 1]];
  const shin = (leg: number, of: number): number => {
    const env = createAnt({ disabledLeg: of });
    const g = env.simulation.id('geom', `leg${leg}_shin`);
    const r = env.simulation.modelArray('geom_size')[3 * g] as number;
    env.reset();
    env.step(new Float32Array(8).fill(1));
    const ctrl = Array.from(env.simulation.ctrl);
    t.same(ctrl.map((c, i) => (legActuators[of]!.includes(i) ? c === 0 : c === 1)), new Array(8).fill(true), `leg ${of}: actuators ${legActuators[of]!.join(', ')} off`);
    env.close();
    return r;
  };
  for (const leg of [0, 1, 2, 3]) t.equal(shin(leg, leg), shin(leg, (leg + 1) % 4) / 2, `leg ${leg} shin radius halved when disabled`);
  t.end();
});

void t.test('C(s) is head (torso) contact with the floor: hand-checked poses', (t) => {
  const cheetah = createHalfCheetah({ seed: 1 });
  const q = new Array(cheetah.nq).fill(0);
  t.equal(cheetah.violatedAt(q), false, 'standing pose');
  // Upside down: torso 0.7 m − 0.7 m = at the floor; the head (0.1 m above the torso) goes under.
  q[1] = -0.6;
  q[2] = Math.PI;
  t.equal(cheetah.violatedAt(q), true, `upside down, head at z ${cheetah.lastPoint[2].toFixed(3)}`);
  // Head centre 1 mm above and below its radius (0.046 m): rootz puts it there with no pitch.
  for (const [dz, touch] of [[0.001, false], [-0.001, true]] as const) {
    q[2] = 0;
    q[1] = 0.046 + dz - 0.8;
    t.equal(cheetah.violatedAt(q), touch, `head at z ${cheetah.lastPoint[2].toFixed(4)}`);
  }
  cheetah.close();
  const ant = createAnt({ seed: 1 });
  const qa = new Array(ant.nq).fill(0);
  qa[3] = 1;
  // A free joint's qpos is the world position.
  for (const [z, touch] of [[0.251, false], [0.249, true]] as const) {
    qa[2] = z;
    t.equal(ant.violatedAt(qa), touch, `torso at z ${ant.lastPoint[2].toFixed(3)}`);
  }
  ant.close();
  t.end();
});

void t.test('episodes: the gait runs forward to the horizon (1000 steps) without flipping; same seed, same bits', (t) => {
  const run = (robot: string, seed: number): { obs: number[]; steps: number; ret: number; violation: boolean } => {
    const env = createEnv(robot, { seed });
    const ctrl = createController(robot);
    let o = env.reset();
    const obs: number[] = [];
    let ret = 0;
    for (let steps = 1; ; steps++) {
      const r = env.step(ctrl.act(o));
      o = r.obs;
      ret += r.reward;
      if (steps % 50 === 0) obs.push(...o);
      if (r.done) {
        env.close?.();
        return { obs, steps, ret, violation: r.violation };
      }
    }
  };
  const a = run('halfcheetah-disabled', 2);
  t.equal(a.steps, 1000);
  t.notOk(a.violation);
  t.ok(a.ret > 0, `return ${a.ret.toFixed(1)}: forward`);
  t.same(run('halfcheetah-disabled', 2).obs, a.obs, 'bit for bit');
  t.end();
});

void t.test('the ant\'s trot moves forward and flips now and then; a flip ends the episode', (t) => {
  let flips = 0;
  let forward = 0;
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    const env = createEnv('ant-disabled', { seed });
    const ctrl = createController('ant-disabled');
    let o = env.reset();
    let ret = 0;
    for (let k = 0; k < 300; k++) {
      const r = env.step(ctrl.act(o));
      o = r.obs;
      ret += r.reward;
      if (r.done) {
        t.ok(r.violation && (o[42] as number) === 1, 'the catastrophe flag is set');
        flips++;
        break;
      }
    }
    if (ret > 0) forward++;
    t.ok(isMujocoBacked(env));
    env.close?.();
  }
  t.ok(forward >= 3, `${forward} of 6 runs gain ground`);
  t.ok(flips >= 1 && flips <= 5, `${flips} of 6 runs flip within 300 steps`);
  t.end();
});

void t.test('D_offline: rollouts ≤ 100 steps ending at the first flip, tipped starts among them', (t) => {
  for (const robot of ['halfcheetah-disabled', 'ant-disabled']) {
    const a = Array.from(generateOfflineData(robot, { seed: 2, transitions: 2000, params: { [robot === 'ant-disabled' ? 'disabledLeg' : 'disabledJoint']: 1 } }));
    t.equal(a.length, 2000);
    const viol = a.filter((x) => x.cost === 1);
    t.ok(viol.length >= 3, `${robot}: ${viol.length} of 2000 violate`);
    t.ok(viol.every((x) => x.done), 'a flip ends its rollout');
    t.ok(a.every((x) => x.step < 100));
  }
  t.end();
});
