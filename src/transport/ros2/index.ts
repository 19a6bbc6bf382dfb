// The ROS 2 transport (docs/ros2.md). rclnodejs is imported lazily by load-rclnodejs.ts only.
export { runRos2Shield, type RunRos2ShieldOptions } from './run-ros2-shield.js';
export { runRos2Sim, type RunRos2SimOptions } from './run-ros2-sim.js';
export { ShieldNode, type ShieldNodeOptions, type ShieldNodeTap, type TickInfo, type HoldReason } from './shield-node.js';
export { SimPsm, type SimPsmOptions } from './sim-node.js';
export { DemoRecorder, type DemoRecorderOptions } from './demo-recorder.js';
export { PassThroughDecider, type Decider, type Decision } from './decider.js';
export { loadRclnodejs } from './load-rclnodejs.js';
export { splitRosArgs } from './ros-argv.js';
export type { RclModule } from './rclnodejs-api.js';
