import type { QosSpec } from '../../config/profile.js';
import { QOS_DURABILITY, QOS_HISTORY, QOS_RELIABILITY, type RclModule, type RclQoS } from './rclnodejs-api.js';

/** A profile's QoS as an rclnodejs QoS object (set through the constructor: the .d.ts accessors are unreliable). */
export function toRclQos(rcl: RclModule, qos: QosSpec): RclQoS {
  return new rcl.QoS(QOS_HISTORY[qos.history], qos.depth, QOS_RELIABILITY[qos.reliability], QOS_DURABILITY[qos.durability]);
}
