import { RShieldError } from '../../core/errors.js';
import { splitRosArgs } from '../../transport/ros2/ros-argv.js';
import type { RosParams } from '../../config/ros-params.js';
import { brokerOptionTable, brokerOptions } from '../../transport/mqtt/connect-options.js';
import { intOption, parseCommandArgs, stringOption, stringsOption } from '../args.js';

const HELP = `usage: rshield run --transport ros2 [options] [--ros-args ...]

Runs the shield as a ROS 2 managed node in front of an existing controller (docs/ros2.md):
reads <arm>/measured_cp, takes the controller's goals on /rshield/<arm>/servo_cp, publishes the
safe goal on <arm>/servo_cp or <arm>/hold; q_risk, intervention and /diagnostics topics.
Parameters come from --ros-args --params-file FILE (keys under /**) or -p name:=value:
profile, model_dir, provider, tick_mode, rate_hz, stale_after_ms, eps_risk, require_signed,
foxglove_port, foxglove_host, worker_spin_us, wake_lead_us; online: broker, trust_keys,
operator_keys, allow_unsigned, spool_dir, state_dir, model_store.
With a broker the shield joins the online loop (docs/ros2.md "Online"): executed ticks are
labelled (c = C(s') from the profile) and streamed to \`rshield trainer --robot <profile env>\`,
spooled on disk while the broker is down; signed model versions from the trainer are verified,
prepared and swapped in between ticks; refused ones are counted on /diagnostics.
SIGINT/SIGTERM: hold, flush, exit 0. Needs a sourced ROS 2 and rclnodejs.

options:
  --transport ros2     this mode
  --profile P          robot profile: psm1, psm2, dvrk-reacher or a YAML path (parameter: profile)
  --models DIR         model directory (parameter: model_dir)
  --provider cpu|cuda  ONNX Runtime execution provider (parameter: provider)
  --require-signed     refuse a model directory without a model.sig.json signed by a key of the
                       profile's models.trustedKeys (parameter: require_signed; always on for
                       hardware profiles such as psm1, psm2)
  --foxglove PORT      live view for Foxglove on ws://127.0.0.1:PORT (open docs/foxglove-layout.json):
                       Q_risk, decisions, holds, the profile's workspace and stay-out zones
                       (parameter: foxglove_port; -1 off, the default)
  --foxglove-host H    address the live view listens on (default 127.0.0.1: this machine only;
                       parameter: foxglove_host)
  --broker URL         join the online loop on this MQTT broker, mqtt://host:1883 (parameter:
                       broker; default none: no MQTT at all)
  --username U         broker user (or RSHIELD_MQTT_USERNAME); password from RSHIELD_MQTT_PASSWORD
  --trust-key FILE     public key whose signed model versions are taken (repeatable; parameter:
                       trust_keys, comma-separated; adds to the profile's models.trustedKeys)
  --operator-key FILE  public key of an operator whose signed commands are obeyed: record-start /
                       record-stop (streaming), pin, unpin, rollback; arm / disarm are the
                       lifecycle's (repeatable; parameter: operator_keys; adds to the profile's
                       commands.trustedKeys)
  --allow-unsigned     take unsigned versions (simulated profiles only; parameter: allow_unsigned)
  --spool DIR          on-disk transition queue (parameter: spool_dir; default
                       <tmp>/rshield-spool/<profile name>)
  --state DIR          newest model sequence and obeyed command nonces, kept across restarts
                       (parameter: state_dir; default $XDG_STATE_HOME/rshield/<profile name>)
  --model-store DIR    content-addressed store for versions sent by hash (parameter: model_store)
  -h, --help           this help`;

/** `rshield run --transport ros2`: parses the options, then src/app/ros2-shield.ts wires and runs. */
export async function runRos2Command(argv: string[]): Promise<number> {
  const { appArgs, rosArgs } = splitRosArgs(argv);
  const { values } = parseCommandArgs('run', appArgs, {
    transport: { type: 'string' },
    profile: { type: 'string' },
    models: { type: 'string' },
    provider: { type: 'string' },
    'require-signed': { type: 'boolean' },
    foxglove: { type: 'string' },
    'foxglove-host': { type: 'string' },
    ...brokerOptionTable,
    'trust-key': { type: 'string', multiple: true },
    'operator-key': { type: 'string', multiple: true },
    'allow-unsigned': { type: 'boolean' },
    spool: { type: 'string' },
    state: { type: 'string' },
    'model-store': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values['help'] === true) {
    console.log(HELP);
    return 0;
  }
  const transport = stringOption(values, 'transport');
  if (transport !== 'ros2') throw new RShieldError('E_USAGE', `--transport must be ros2 here, got '${transport}' (MQTT: rshield run --sim)`, { transport });
  const provider = stringOption(values, 'provider');
  if (provider !== undefined && provider !== 'cpu' && provider !== 'cuda') throw new RShieldError('E_USAGE', `--provider must be cpu or cuda, got '${provider}'`);
  const profile = stringOption(values, 'profile');
  const models = stringOption(values, 'models');
  const foxglove = stringOption(values, 'foxglove');
  const foxgloveHost = stringOption(values, 'foxglove-host');
  const broker = values.broker !== undefined ? brokerOptions('run', values) : undefined;
  const trustKeys = stringsOption(values, 'trust-key');
  const operatorKeys = stringsOption(values, 'operator-key');
  for (const [flag, files] of [['trust-key', trustKeys], ['operator-key', operatorKeys]] as const) {
    const bad = files.find((f) => f.includes(','));
    if (bad !== undefined) throw new RShieldError('E_USAGE', `--${flag} ${bad}: a key file name with a comma cannot be passed on (the parameter is a comma-separated list)`);
  }
  const strings = { spool: 'spool_dir', state: 'state_dir', 'model-store': 'model_store' } as const;
  const online: Partial<RosParams> = {
    ...(broker !== undefined ? { broker: broker.url } : {}),
    ...(trustKeys.length > 0 ? { trust_keys: trustKeys.join(',') } : {}),
    ...(operatorKeys.length > 0 ? { operator_keys: operatorKeys.join(',') } : {}),
    ...(values['allow-unsigned'] === true ? { allow_unsigned: true } : {}),
    ...Object.fromEntries(Object.entries(strings).flatMap(([flag, param]) => (stringOption(values, flag) !== undefined ? [[param, stringOption(values, flag)]] : []))),
  };
  const { runRos2Shield } = await import('../../app/ros2-shield.js');
  return runRos2Shield({
    rosArgs,
    params: { ...(profile !== undefined ? { profile } : {}), ...(models !== undefined ? { model_dir: models } : {}), ...(provider !== undefined ? { provider } : {}), ...(values['require-signed'] === true ? { require_signed: true } : {}),
      ...(foxglove !== undefined ? { foxglove_port: intOption('foxglove', foxglove, -1) } : {}), ...(foxgloveHost !== undefined ? { foxglove_host: foxgloveHost } : {}), ...online },
    ...(broker !== undefined ? { brokerAuth: { ...(broker.username !== undefined ? { username: broker.username } : {}), ...(broker.password !== undefined ? { password: broker.password } : {}) } } : {}),
  });
}
