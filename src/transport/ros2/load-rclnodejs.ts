import { RShieldError } from '../../core/errors.js';
import type { RclModule } from './rclnodejs-api.js';

/** Module name in a variable so bundlers and tsc leave the optional dependency alone. */
const MODULE = 'rclnodejs';

/**
 * Imports rclnodejs, the optional dependency. Where it is missing or its native binding cannot
 * load (ROS 2 not sourced, built against another distro), throws ONE clear E_UNAVAILABLE line.
 */
export async function loadRclnodejs(): Promise<RclModule> {
  if (process.env['ROS_DISTRO'] === undefined || process.env['AMENT_PREFIX_PATH'] === undefined) {
    // Never import rclnodejs unsourced: when its addon fails to load it rebuilds itself, and
    // that rebuild starts with `node-gyp clean` — deleting the working build for good.
    throw new RShieldError(
      'E_UNAVAILABLE',
      'ROS 2 transport unavailable: cannot load rclnodejs (no ROS 2 environment); source your ROS 2 setup first (e.g. `source /opt/ros/jazzy/setup.bash`), then reinstall rclnodejs (`npm install rclnodejs`) if it was installed without it',
      {},
    );
  }
  try {
    const mod = (await import(MODULE)) as { default?: RclModule } & Partial<RclModule>;
    const rcl = (mod.default ?? mod) as RclModule;
    if (typeof rcl.init !== 'function' || typeof rcl.Node !== 'function') {
      throw new Error('module does not look like rclnodejs (no init/Node)');
    }
    return rcl;
  } catch (err) {
    const why = ((err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '').replace(/ imported from .*/, '');
    const distro = process.env['ROS_DISTRO'];
    const hint =
      distro === undefined
        ? 'source your ROS 2 setup first (e.g. `source /opt/ros/jazzy/setup.bash`), then reinstall rclnodejs (`npm install rclnodejs`)'
        : `ROS_DISTRO=${distro} is sourced: reinstall rclnodejs in this shell (\`npm install rclnodejs\`, then \`npx generate-ros-messages\` if crtk_msgs was added later)`;
    throw new RShieldError('E_UNAVAILABLE', `ROS 2 transport unavailable: cannot load rclnodejs (${why}); ${hint}`, { distro }, { cause: err });
  }
}
