import { parseCommandArgs, stringOption, stringsOption } from '../args.js';
import { RShieldError } from '../../core/errors.js';
import { brokerOptionTable, brokerOptions } from '../../transport/mqtt/connect-options.js';
import { splitRosArgs } from '../../transport/ros2/ros-argv.js';

const HELP = `usage: rshield record --profile psm1 --out demos.mcap [options] [--ros-args ...]

Records constraint-violation demos: the shield runs in pass-through with the profile's hard
limits (largest step, workspace box); an operator drives gently into the constraints; each
step is labelled with C(s') from the profile's constraint spec. Episodes start and stop on the
profile's episode topic (std_msgs/String 'start' / 'stop'), e.g.
  ros2 topic pub --once /rshield/PSM1/episode std_msgs/msg/String "{data: start}"
and, with --broker, on the MQTT topic rshield/v1/<profile name>/cmd, signed by an operator key:
  rshield cmd --robot psm1 --broker mqtt://127.0.0.1:1883 --key keys/operator.key record-start
The MCAP file holds the raw ROS topics in CDR and the transitions channel rshield train reads.
SIGINT/SIGTERM: hold, flush, exit 0. Parameters (profile, record_out, ...) may also come from
--ros-args --params-file (keys under /**).

options:
  --profile P         robot profile: psm1, psm2, dvrk-reacher or a YAML path (default psm1)
  --out FILE          MCAP output (or the record_out parameter)
  --transport ros2    the only transport for recording
  --autostart         record transitions from the start, without waiting for 'start'
  --broker URL        also take record-start / record-stop from MQTT (mqtt://host:port);
                      refused ones (unsigned, stale, replayed, retained) are counted and ignored
  --operator-key FILE public key whose signed commands are obeyed (repeatable; adds to the
                      profile's commands.trustedKeys)
  --state DIR         keeps the nonces of obeyed commands across restarts, so none is obeyed
                      twice (default: $XDG_STATE_HOME/rshield/R/record)
  --username U        broker user (or RSHIELD_MQTT_USERNAME); password from RSHIELD_MQTT_PASSWORD
  -h, --help          this help`;

/** `rshield record` (docs/ros2.md "Recording demos"). */
export async function record(argv: string[]): Promise<number> {
  const { appArgs, rosArgs } = splitRosArgs(argv);
  const { values } = parseCommandArgs('record', appArgs, {
    ...brokerOptionTable,
    profile: { type: 'string' },
    out: { type: 'string' },
    transport: { type: 'string' },
    autostart: { type: 'boolean' },
    'operator-key': { type: 'string', multiple: true },
    state: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values['help'] === true) {
    console.log(HELP);
    return 0;
  }
  const transport = stringOption(values, 'transport') ?? 'ros2';
  if (transport !== 'ros2') throw new RShieldError('E_USAGE', `--transport must be ros2 for rshield record, got '${transport}'`, { transport });
  const out = stringOption(values, 'out');
  const profile = stringOption(values, 'profile');
  const broker = values.broker !== undefined ? brokerOptions('record', values) : undefined;
  const { runRecord } = await import('../../app/ros2-record.js');
  return runRecord({
    rosArgs,
    autostart: values['autostart'] === true,
    ...(profile !== undefined ? { profile } : {}),
    ...(out !== undefined ? { out } : {}),
    ...(broker !== undefined ? { broker } : {}),
    operatorKeyFiles: stringsOption(values, 'operator-key'),
    ...(stringOption(values, 'state') !== undefined ? { stateDir: stringOption(values, 'state') } : {}),
  });
}
