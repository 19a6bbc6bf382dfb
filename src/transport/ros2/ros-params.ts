import { parseRosParams, ROS_PARAM_DEFAULTS, type RosParams } from '../../config/ros-params.js';
import { PARAMETER_TYPE, type RclModule, type RclNode } from './rclnodejs-api.js';

function typeOf(value: string | number | boolean): number {
  return typeof value === 'string' ? PARAMETER_TYPE.string : typeof value === 'boolean' ? PARAMETER_TYPE.bool : PARAMETER_TYPE.double;
}

/**
 * Declares every rshield parameter on the node (defaults overridden by `defaults`), as
 * rclnodejs requires before a read, reads the values the params file or `-p` set, validates them.
 */
export function declareRosParams(rcl: RclModule, node: RclNode, defaults: Partial<RosParams> = {}): RosParams {
  const merged: RosParams = { ...ROS_PARAM_DEFAULTS, ...defaults };
  const raw: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(merged) as [keyof RosParams, string | number | boolean][]) {
    node.declareParameter(new rcl.Parameter(name, typeOf(value), value));
    let v = node.getParameter(name).value;
    // An integer literal in a params file arrives as bigint (PARAMETER_INTEGER).
    if (typeof v === 'bigint') v = Number(v);
    raw[name] = v;
  }
  return parseRosParams(raw, node.name());
}
