import { z } from 'zod';
import { formatZodIssues } from './zod-issues.js';
import { RShieldError } from '../core/errors.js';

/**
 * ROS parameters of the rshield node. They arrive through `--ros-args --params-file FILE` (keys
 * under `/**:` or the bare node name — rclnodejs matches nothing else) or `-p name:=value`.
 * Only the shape lives here; the ROS 2 adapter declares and reads them on the live node
 * (src/transport/ros2/ros-params.ts).
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
  /**
   * How the inference worker waits between ticks (docs/shield.md "Direct run and the spin on the
   * answer"): it spins this long (µs) after each answer before sleeping; negative keeps the
   * default (50 µs). A value above the tick period keeps the worker awake on a core of its own.
   */
  worker_spin_us: z.number().max(1_000_000),
  /** Predictive wake: the worker wakes this long (µs) before the next tick is due and spins until it comes; 0 off, negative keeps the default (off). */
  wake_lead_us: z.number().max(1_000_000),
  /** Execution provider for ONNX Runtime: cpu or cuda. */
  provider: z.enum(['cpu', 'cuda']),
  /** MCAP output of `rshield record`; '' = none. */
  record_out: z.string(),
  /** Refuse a model_dir without a model.sig.json signed by a key of the profile's models.trustedKeys; always on for hardware profiles. */
  require_signed: z.boolean(),
  /** Live view for Foxglove on this TCP port (docs/foxglove-layout.json); -1 = off, 0 = any free port. */
  foxglove_port: z.number().int().min(-1).max(65535),
  /** Address the live view listens on: this machine only by default. */
  foxglove_host: z.string().min(1),
  /** MQTT broker of the online loop (mqtt://host:1883): transitions to the trainer, signed model versions back; '' = none. */
  broker: z.union([z.literal(''), z.string().regex(/^(mqtts?|wss?|tcp):\/\/\S+$/, 'a URL like mqtt://host:1883')]),
  /** Public keys (PEM files, comma-separated) whose signed model versions are taken, beside the profile's models.trustedKeys. */
  trust_keys: z.string(),
  /** Public keys (PEM files, comma-separated) of the operators whose signed commands are obeyed, beside the profile's commands.trustedKeys. */
  operator_keys: z.string(),
  /** Take unsigned model versions: simulated profiles only (refused for hardware profiles). */
  allow_unsigned: z.boolean(),
  /** The on-disk transition queue; '' = <tmp>/rshield-spool/<profile name>. */
  spool_dir: z.string(),
  /** Where the newest model sequence and the obeyed command nonces survive restarts; '' = $XDG_STATE_HOME/rshield/<profile name>. */
  state_dir: z.string(),
  /** Content-addressed store for versions the trainer sends by hash (--transfer hash); '' = none. */
  model_store: z.string(),
});

export type RosParams = z.output<typeof rosParamsSchema>;

export const ROS_PARAM_DEFAULTS: RosParams = {
  profile: 'psm1',
  model_dir: '',
  tick_mode: '',
  rate_hz: 0,
  stale_after_ms: 0,
  eps_risk: -1,
  worker_spin_us: -1,
  wake_lead_us: -1,
  provider: 'cpu',
  record_out: '',
  require_signed: false,
  foxglove_port: -1,
  foxglove_host: '127.0.0.1',
  broker: '',
  trust_keys: '',
  operator_keys: '',
  allow_unsigned: false,
  spool_dir: '',
  state_dir: '',
  model_store: '',
};

/** The files of a comma-separated list parameter (trust_keys, operator_keys); blanks dropped. */
export function listParam(value: string): string[] {
  return value.split(',').map((f) => f.trim()).filter((f) => f !== '');
}

/** Validates the values read from a node; errors name each parameter, its problem and its value. */
export function parseRosParams(raw: Record<string, unknown>, nodeName: string): RosParams {
  const result = rosParamsSchema.safeParse(raw);
  if (!result.success) {
    const issues = formatZodIssues(result.error, raw);
    throw new RShieldError('E_CONFIG', `ROS parameters of node '${nodeName}': ${issues.join('; ')}`, { node: nodeName });
  }
  return result.data;
}
