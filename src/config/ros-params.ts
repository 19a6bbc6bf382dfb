import { z } from 'zod';
import { formatZodIssues } from './zod-issues.js';
import { RShieldError } from '../core/errors.js';
import { PARAMETER_TYPE, type RclModule, type RclNode } from '../transport/ros2/rclnodejs-api.js';

/**
 * ROS parameters of the rshield node. They arrive through `--ros-args --params-file FILE` (keys
 * under `/**:` or the bare node name — rclnodejs matches nothing else) or `-p name:=value`;
 * each is declared with its default first, as rclnodejs requires, then read once at start-up.
 */
export const rosParamsSchema = z.strictObject({
  /** Robot profile: a shipped name (psm1, psm2, dvrk-reacher) or a YAML path. */
  profile: z.string().min(1),
  /** Model directory (critic.onnx, recovery.onnx, model.json); '' = pass-through (record). */
  model_dir: z.string(),
  /** Override of the profile's tick mode; '' keeps the profile's. */
  tick_mode: z.enum(['', 'command', 'timer']),
  /** Override of the profile's timer rate; 0 keeps the profile's. */
  rate_hz: z.number().min(0).max(2000),
  /** Override of the profile's staleAfterMs; 0 keeps the profile's. */
  stale_after_ms: z.number().min(0).max(10_000),
  /** ε_risk override; negative keeps the model card's. */
  eps_risk: z.number().max(1),
  /** Execution provider for ONNX Runtime: cpu or cuda. */
  provider: z.enum(['cpu', 'cuda']),
  /** MCAP output of `rshield record`; '' = none. */
  record_out: z.string(),
});

export type RosParams = z.output<typeof rosParamsSchema>;

export const ROS_PARAM_DEFAULTS: RosParams = {
  profile: 'psm1',
  model_dir: '',
  tick_mode: '',
  rate_hz: 0,
  stale_after_ms: 0,
  eps_risk: -1,
  provider: 'cpu',
  record_out: '',
};

function typeOf(value: string | number): number {
  return typeof value === 'string' ? PARAMETER_TYPE.string : PARAMETER_TYPE.double;
}

/** Declares every parameter (defaults overridden by `defaults`), reads the values the params file set, validates them. */
export function declareRosParams(rcl: RclModule, node: RclNode, defaults: Partial<RosParams> = {}): RosParams {
  const merged: RosParams = { ...ROS_PARAM_DEFAULTS, ...defaults };
  const raw: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(merged) as [keyof RosParams, string | number][]) {
    node.declareParameter(new rcl.Parameter(name, typeOf(value), value));
    let v = node.getParameter(name).value;
    // An integer literal in a params file arrives as bigint (PARAMETER_INTEGER).
    if (typeof v === 'bigint') v = Number(v);
    raw[name] = v;
  }
  const result = rosParamsSchema.safeParse(raw);
  if (!result.success) {
    const issues = formatZodIssues(result.error, raw);
    throw new RShieldError('E_CONFIG', `ROS parameters of node '${node.name()}': ${issues.join('; ')}`, { node: node.name() });
  }
  return result.data;
}
