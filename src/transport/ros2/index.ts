// The ROS 2 transport (docs/ros2.md). rclnodejs is imported lazily by load-rclnodejs.ts only.
// Start-up and wiring (runRos2Shield, runRos2Sim, runRecord) live in src/app/.
export { ShieldNode, type ShieldNodeOptions, type ShieldNodeTap, type TickInfo, type HoldReason } from './shield-node.js';
export { SimPsm, type SimPsmOptions } from './sim-node.js';
export { DemoRecorder, type DemoRecorderOptions } from './demo-recorder.js';
export { EpisodeLabeler, type EpisodeLabelerOptions, type TransitionSink } from './episode-labeler.js';
export { readRosBagDataset } from './bag-dataset.js';
export { loadRclnodejs } from './load-rclnodejs.js';
export { splitRosArgs } from './ros-argv.js';
export type { RclModule } from './rclnodejs-api.js';
