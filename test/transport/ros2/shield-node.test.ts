// The shield node's contract, against the fake rclnodejs — or the real one when ROS_DISTRO is set:
//   source /opt/ros/jazzy/setup.bash && npm install rclnodejs && npx tap test/transport/ros2
import t from 'tap';
import { createHarness } from './harness.js';
import { shieldNodeContract } from './shield-node.contract.js';

shieldNodeContract(t, () => createHarness());
