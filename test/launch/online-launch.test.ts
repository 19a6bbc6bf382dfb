// The online loop under the real `ros2 launch`: sim.launch.xml serves the simulated PSM and its
// scripted controller, shield.launch.xml (and its Python twin) broker:=… puts the ROS 2 shield in front of it with a
// trusted trainer key (params file), trainer.launch.xml key:=… learns from the shield's
// transitions and publishes signed versions, which the shield swaps in. Ctrl-C exits 0. Needs a
// sourced ROS 2, real rclnodejs and a built dist/.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSigningKeys } from '../../src/models/signing.js';
import { startBroker } from '../helpers/broker.js';
import { hasRos2, isolateRos2, pollUntil } from '../transport/ros2/harness.js';
import { interrupt, launch, stopLaunch } from './launch-process.js';

for (const file of ['shield.launch.xml', 'shield.launch.py']) {
  void t.test(`${file} broker:= + trainer.launch.xml: ROS 2 ticks train the trainer, its signed versions are swapped in, Ctrl-C exits 0`, { skip: !hasRos2() && 'no ROS 2 sourced', timeout: 240_000 }, async (t) => {
    isolateRos2();
    const dir = mkdtempSync(join(tmpdir(), 'rshield-online-e2e-'));
    const broker = await startBroker();
    const pair = generateSigningKeys();
    writeFileSync(join(dir, 'trainer.key'), pair.privateKeyPem, { mode: 0o600 });
    writeFileSync(join(dir, 'trainer.pub'), pair.publicKeyPem);
    const params = join(dir, 'shield.params.yaml');
    writeFileSync(params, `/**:\n  ros__parameters:\n    profile: dvrk-reacher\n    trust_keys: ${join(dir, 'trainer.pub')}\n    spool_dir: ${join(dir, 'spool')}\n    state_dir: ${join(dir, 'state')}\n`);
    const sim = launch('sim.launch.xml', ['with_shield:=false', 'seed:=5']);
    const shield = launch(file, ['arm:=PSM1', 'profile:=dvrk-reacher', `params_file:=${params}`, `broker:=${broker.url}`]);
    const trainer = launch('trainer.launch.xml', ['robot:=dvrk-reacher', `broker:=${broker.url}`, 'every:=50', `key:=${join(dir, 'trainer.key')}`]);
    t.teardown(async () => {
      await stopLaunch(trainer, shield, sim);
      await broker.stop();
      rmSync(dir, { recursive: true, force: true });
    });
    t.ok(await pollUntil(() => /rshield: connected to mqtt:\/\/127\.0\.0\.1:\d+/.test(shield.output) || shield.proc.exitCode !== null, 60_000), 'the ROS 2 shield is on the broker');
    t.match(shield.output, /online with mqtt:\/\/\S+ as dvrk-reacher: transitions to rshield\/v1\/dvrk-reacher\/transitions .*signed by 1 trusted key, unsigned refused/, 'online, trusting the trainer key of the params file');
    const swapped = (): boolean => /rshield: model dvrk-reacher-online-\S+ swapped in/.test(shield.output);
    t.ok(await pollUntil(() => swapped() || trainer.proc.exitCode !== null || shield.proc.exitCode !== null, 150_000), 'a version the trainer published is swapped into the ROS 2 shield');
    if (!swapped()) t.comment(`shield:\n${shield.output.slice(-3000)}\ntrainer:\n${trainer.output.slice(-3000)}`);
    t.match(trainer.output, /published dvrk-reacher-online-\S+ after \d+ updates/, 'the trainer learned from the ROS 2 transitions and published');
    t.notMatch(shield.output, /model \S+ refused/, 'no version refused');

    t.equal(await interrupt(shield, 'rshield'), 0, 'the shield: ros2 launch exits 0 on Ctrl-C');
    const summary = /rshield: online: (\d+) transitions, (\d+) batches sent, \d+ spooled, (\d+) swaps, 0 versions refused/.exec(shield.output);
    t.ok(summary !== null && Number(summary[1]) >= 50 && Number(summary[3]) >= 1, `the shield's online summary: ${summary?.[0]}`);
    t.equal(await interrupt(trainer, 'rshield_trainer'), 0, 'the trainer exits 0');
    const stopped = /stopped: (\d+) transitions, \d+ updates, (\d+) versions published/.exec(trainer.output);
    t.ok(stopped !== null && Number(stopped[1]) >= 50 && Number(stopped[2]) >= 1, `the trainer's summary: ${stopped?.[0]}`);
    await interrupt(sim, 'rshield_sim');
  });
}
