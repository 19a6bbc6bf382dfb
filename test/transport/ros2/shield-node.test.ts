// The shield node's contract, against the fake rclnodejs — or the real one when ROS 2 is sourced:
//   source ../shared/ros2/activate.sh && npm ci && npx tap test/transport/ros2
import t from 'tap';
import { createHarness, hasRos2 } from './harness.js';
import { shieldNodeContract } from './shield-node.contract.js';

t.comment(hasRos2() ? `against real rclnodejs (ROS_DISTRO=${process.env['ROS_DISTRO']})` : 'against the in-repo fake rclnodejs (no ROS 2 sourced)');
shieldNodeContract(t, () => createHarness());
