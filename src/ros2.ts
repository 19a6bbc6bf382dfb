// `rshield/ros2`: the ROS 2 shield node started from code (docs/ros2.md) and rosbag2 datasets.
// rclnodejs is loaded only when a node starts.
export { runRos2Shield, type RunRos2ShieldOptions } from './app/ros2-shield.js';
export { readRosBagDataset } from './transport/ros2/bag-dataset.js';
