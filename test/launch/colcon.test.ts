// `colcon build` of the repository installs a ROS package: `ros2 launch rshield <file>` resolves
// from the install space. Needs a sourced ROS 2 and colcon (Debian: colcon python3-colcon-ros).
import t from 'tap';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { packageRoot } from '../../src/config/profile.js';

const run = promisify(execFile);
const root = packageRoot();
const hasColcon = (process.env['PATH'] ?? '').split(delimiter).some((d) => existsSync(join(d, 'colcon')));
const skip = process.env['ROS_DISTRO'] === undefined ? 'no ROS 2 sourced' : !hasColcon && 'colcon not installed (apt-get install colcon python3-colcon-ros)';

void t.test('colcon build installs launch files, profiles and models; ros2 launch rshield … resolves from the install space', { skip, timeout: 240_000 }, async (t) => {
  const ws = mkdtempSync(join(tmpdir(), 'rshield-colcon-'));
  const install = join(ws, 'install');
  await run('colcon', ['--log-base', join(ws, 'log'), 'build', '--base-paths', root, '--build-base', join(ws, 'build'), '--install-base', install, '--symlink-install'], { timeout: 200_000, maxBuffer: 64 * 1024 * 1024 });
  const share = join(install, 'rshield', 'share', 'rshield');
  for (const p of ['launch/shield.launch.xml', 'launch/sim.launch.xml', 'hardware/dvrk/shield.params.yaml', 'hardware/sim/dvrk-reacher.yaml', 'models/dvrk-reacher/critic.onnx', 'bin/rshield.js', 'dist/cli/main.js', 'package.xml']) {
    t.ok(existsSync(join(share, p)), `share/rshield/${p}`);
  }
  t.ok(existsSync(join(install, 'rshield', 'lib', 'rshield', 'rshield')), 'lib/rshield/rshield wrapper (ros2 run rshield rshield)');
  const env = { ...process.env, AMENT_PREFIX_PATH: `${join(install, 'rshield')}${delimiter}${process.env['AMENT_PREFIX_PATH'] ?? ''}` };
  t.match((await run('ros2', ['pkg', 'prefix', 'rshield'], { env })).stdout, join(install, 'rshield'));
  for (const f of ['shield.launch.xml', 'sim.launch.xml', 'record_demos.launch.xml', 'trainer.launch.xml', 'shield.launch.py']) {
    const { stdout } = await run('ros2', ['launch', '-p', 'rshield', f, 'arm:=PSM1'], { env, timeout: 60_000 });
    t.match(stdout, /LaunchDescription/, `ros2 launch rshield ${f}`);
  }
});
