import { RShieldError } from '../../core/errors.js';
import { splitRosArgs } from '../../transport/ros2/ros-argv.js';
import { intOption, parseCommandArgs, stringOption } from '../args.js';

const HELP = `usage: rshield run --transport ros2 [options] [--ros-args ...]

Runs the shield as a ROS 2 managed node in front of an existing controller (docs/ros2.md):
reads <arm>/measured_cp, takes the controller's goals on /rshield/<arm>/servo_cp, publishes the
safe goal on <arm>/servo_cp or <arm>/hold; q_risk, intervention and /diagnostics topics.
Parameters come from --ros-args --params-file FILE (keys under /**) or -p name:=value:
profile, model_dir, provider, tick_mode, rate_hz, stale_after_ms, eps_risk, require_signed,
foxglove_port, foxglove_host.
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
  const { runRos2Shield } = await import('../../app/ros2-shield.js');
  return runRos2Shield({
    rosArgs,
    params: { ...(profile !== undefined ? { profile } : {}), ...(models !== undefined ? { model_dir: models } : {}), ...(provider !== undefined ? { provider } : {}), ...(values['require-signed'] === true ? { require_signed: true } : {}),
      ...(foxglove !== undefined ? { foxglove_port: intOption('foxglove', foxglove, -1) } : {}), ...(foxgloveHost !== undefined ? { foxglove_host: foxgloveHost } : {}) },
  });
}
