import { spawnSync } from 'node:child_process';
import t from 'tap';
import { MujocoSim } from '../../../src/envs/mujoco/mujoco-sim.js';
import { mazeMjcf } from '../../../src/envs/mujoco/maze/maze-mjcf.js';
import { instantiate, loadMujoco, mujocoRuntime } from '../../../src/envs/mujoco/runtime.js';

const rt = await loadMujoco();

void t.test('a model MuJoCo cannot compile is one E_CONFIG error with MuJoCo\'s own message', (t) => {
  t.throws(() => rt.compile('broken', '<mujoco><worldbody><geom type="sphere" size="a"/></worldbody></mujoco>'), { code: 'E_CONFIG', message: /^broken: MuJoCo cannot compile the model: (.*size|mjXError)/i });
  t.throws(() => rt.compile('not-xml', 'this is not xml'), { code: 'E_CONFIG', message: /^not-xml: MuJoCo cannot compile the model: \S/ });
  t.equal(mujocoRuntime('maze-mujoco'), rt, 'the runtime is loaded once per process');
  t.match(rt.version, /^\d+\.\d+\.\d+$/);
  t.end();
});

void t.test('where the WebAssembly package cannot be imported: one E_UNAVAILABLE line saying how to install it', async (t) => {
  await t.rejects(instantiate('mujoco-js-not-installed'), {
    code: 'E_UNAVAILABLE',
    message: /^MuJoCo robots unavailable: cannot load mujoco-js-not-installed \(Cannot find package 'mujoco-js-not-installed'\); install the optional dependency with `npm install mujoco-js`$/,
  });
});

void t.test('createEnv before prepareRobot: one E_UNAVAILABLE line naming the call to make', (t) => {
  const code = "import { createEnv } from './src/envs/index.ts'; try { createEnv('ant-disabled'); } catch (e) { console.log(e.code + ' ' + e.message); }";
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8' });
  t.equal(r.stdout.trim(), "E_UNAVAILABLE ant-disabled: the MuJoCo runtime is not loaded; await prepareRobot('ant-disabled') (or loadMujoco()) before createEnv — rshield's commands do", r.stderr);
  t.end();
});

void t.test('close() gives the model back: the WebAssembly heap does not grow over 600 build/run/close cycles', (t) => {
  const cycle = (): number => {
    const sim = new MujocoSim(rt, 'maze-mujoco', mazeMjcf(), 10);
    sim.resetData();
    sim.ctrl[0] = 1;
    sim.step();
    const heap = sim.heapBytes();
    sim.close();
    return heap;
  };
  for (let i = 0; i < 100; i++) cycle();
  const before = cycle();
  for (let i = 0; i < 500; i++) cycle();
  t.equal(cycle(), before, `heap stays at ${before} bytes`);
  const sim = new MujocoSim(rt, 'maze-mujoco', mazeMjcf(), 10);
  sim.close();
  sim.close();
  t.ok(sim.closed, 'close() twice is harmless');
  t.throws(() => sim.step(), { code: 'E_USAGE', message: 'maze-mujoco: the simulation was closed' });
  t.end();
});

void t.test('views survive heap growth: a simulation keeps reading its own state after others are built', (t) => {
  const sim = new MujocoSim(rt, 'maze-mujoco', mazeMjcf(), 10);
  sim.resetData();
  sim.qpos[0] = 0.123;
  const others = Array.from({ length: 40 }, () => new MujocoSim(rt, 'maze-mujoco', mazeMjcf(), 10));
  t.equal(sim.qpos[0], 0.123);
  t.equal(sim.qpos.length, 2);
  for (const o of others) o.close();
  const names = sim.geoms().map((g) => `${g.name}:${g.type}`);
  t.ok(names.includes('tool:cylinder') && names.includes('wall1A:box') && names.includes('floor:plane'), names.join(' '));
  sim.close();
  t.end();
});
