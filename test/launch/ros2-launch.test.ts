// Every launch file loads in the real `ros2 launch` (XML and Python frontends): `ros2 launch -p`
// parses it and prints its description without starting anything. Needs a sourced ROS 2.
import t from 'tap';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { packageRoot } from '../../src/config/profile.js';

const run = promisify(execFile);
const launchDir = join(packageRoot(), 'launch');
const files = readdirSync(launchDir).filter((f) => /\.launch\.(xml|py)$/.test(f));
const skip = process.env['ROS_DISTRO'] === undefined && 'no ROS 2 sourced (source ../shared/ros2/activate.sh)';

for (const name of files) {
  void t.test(`ros2 launch -p launch/${name}`, { skip }, async (t) => {
    const { stdout } = await run('ros2', ['launch', '-p', join(launchDir, name)], { timeout: 60_000 });
    t.match(stdout, /LaunchDescription/, 'printed a launch description');
    t.match(stdout, /ExecuteProcess\(cmd=\['node', [^\]]*rshield\.js', '(run|sim|record|trainer)'/, 'it starts bin/rshield.js');
    t.notMatch(stdout, /InvalidLaunchFileError|Traceback/);
  });
}
