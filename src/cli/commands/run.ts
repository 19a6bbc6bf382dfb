import { runMqttShield } from '../../app/mqtt-shield.js';
import { RShieldError } from '../../core/errors.js';
import { RECOVERY_MODES, isRecoveryMode } from '../../core/recovery-mode.js';
import { deadlineForRate } from '../../inference/shield.js';
import { brokerOptionTable, brokerOptions } from '../../transport/mqtt/connect-options.js';
import { intOption, numberOption, parseCommandArgs, stringOption, stringsOption } from '../args.js';

const HELP = `usage: rshield run --robot R --sim --broker URL [options]

Runs the shield in front of a simulated robot (its scripted controller proposes actions) and
talks MQTT: status (retained), 1 Hz telemetry, transition batches, signed model updates, commands.
With the broker down, shielding goes on and transitions wait in the spool.

  --robot R            simulated robot (rshield demo --help lists them)
  --sim                run the simulated robot in-process (required: ROS 2 robots use the ros2 launch files)
  --broker URL         mqtt://host:port
  --username U         broker user (or RSHIELD_MQTT_USERNAME); password from RSHIELD_MQTT_PASSWORD
  --policy FILE.onnx   shield this learned task policy (obs [N, obsDim] → action [N, actDim],
                       e.g. a SAC policy, docs/learning.md) instead of the scripted controller
  --models DIR         model to start with (default: the model shipped for R, models/R in the package)
  --profile P          robot profile, name or YAML path (default: hardware/sim/R.yaml); its
                       models.trustedKeys and models.allowUnsigned add to the two options below
  --recovery M         policy (π_rec, the reference), nearest-safe (closest candidate action the
                       critic rates safe) or model-based (CEM plan over the card's dynamics
                       ensemble, in the inference worker); default: the model card's recoveryMode
  --trust-key FILE     public key whose signed model versions are accepted (repeatable)
  --allow-unsigned     accept unsigned model versions (simulation only)
  --operator-key FILE  public key of an operator whose signed commands (rshield cmd) are obeyed
                       (repeatable; adds to commands.trustedKeys of the profile); without any,
                       arm/disarm and recording commands are refused
  --state DIR          private folder (0700) where the newest model sequence and recent command
                       nonces survive restarts (default: $XDG_STATE_HOME/rshield/R, else
                       ~/.local/state/rshield/R)
  --require-signed     refuse a --models directory without a model.sig.json signed by a trusted
                       key (default: on for hardware profiles, off for kind sim)
  --model-store DIR    content-addressed store for versions announced by hash
  --spool DIR          on-disk transition queue (default: <tmp>/rshield-spool/R)
  --spool-max N        batches the spool holds before dropping the oldest (default 10000)
  --rate HZ            control rate (default 50)
  --deadline-us N      tick deadline in µs: a decision later than this is the fail-safe (hold)
                       (default: half the tick period, 10000 at 50 Hz)
  --ticks N            stop after N ticks (default: run until SIGINT/SIGTERM)
  --batch N            transitions per batch (default 64)
  --seed N             seed of the simulated robot (default 1)
  --foxglove PORT      live view for Foxglove on ws://127.0.0.1:PORT (open docs/foxglove-layout.json):
                       Q_risk, decisions, a 3-D scene of the robot; off by default
  --foxglove-host H    address the live view listens on (default 127.0.0.1: this machine only)
  --transport ros2     run as a ROS 2 node instead (rshield run --transport ros2 --help)`;

/** `rshield run`: the shield on a simulated robot, online over MQTT. */
export async function run(argv: string[]): Promise<number> {
  // --transport ros2: the ROS 2 node (src/transport/ros2, docs/ros2.md).
  if (argv.some((a) => a === '--transport' || a.startsWith('--transport='))) {
    return (await import('./run-ros2.js')).runRos2Command(argv);
  }
  const { values } = parseCommandArgs('run', argv, {
    ...brokerOptionTable,
    robot: { type: 'string' },
    sim: { type: 'boolean' },
    models: { type: 'string' },
    policy: { type: 'string' },
    foxglove: { type: 'string' },
    'foxglove-host': { type: 'string' },
    recovery: { type: 'string' },
    profile: { type: 'string' },
    'trust-key': { type: 'string', multiple: true },
    'allow-unsigned': { type: 'boolean' },
    'operator-key': { type: 'string', multiple: true },
    state: { type: 'string' },
    'require-signed': { type: 'boolean' },
    'model-store': { type: 'string' },
    spool: { type: 'string' },
    'spool-max': { type: 'string' },
    rate: { type: 'string' },
    'deadline-us': { type: 'string' },
    ticks: { type: 'string' },
    batch: { type: 'string' },
    seed: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help === true) {
    console.log(HELP);
    return 0;
  }
  const robot = stringOption(values, 'robot');
  if (robot === undefined) throw new RShieldError('E_USAGE', '--robot R is required (see rshield run --help)');
  if (values.sim !== true) throw new RShieldError('E_USAGE', 'rshield run needs --sim (a real robot runs through the ROS 2 launch files)');
  const broker = brokerOptions('run', values);
  const rate = numberOption('rate', stringOption(values, 'rate'), 50);
  if (!(rate > 0 && rate <= 10_000)) throw new RShieldError('E_USAGE', `--rate must be in (0, 10000] Hz, got ${rate}`);
  const deadlineUs = numberOption('deadline-us', stringOption(values, 'deadline-us'), deadlineForRate(rate));
  if (!(deadlineUs > 0)) throw new RShieldError('E_USAGE', `--deadline-us must be > 0, got ${deadlineUs}`, { option: 'deadline-us' });
  const maxTicks = intOption('ticks', stringOption(values, 'ticks'), 0);
  const batchSize = intOption('batch', stringOption(values, 'batch'), 64, 1);
  const seed = intOption('seed', stringOption(values, 'seed'), 1);
  const spoolMax = intOption('spool-max', stringOption(values, 'spool-max'), 10_000, 1);
  const recovery = stringOption(values, 'recovery');
  if (recovery !== undefined && !isRecoveryMode(recovery)) {
    throw new RShieldError('E_USAGE', `--recovery must be one of ${RECOVERY_MODES.join(', ')}, got '${recovery}'`, { option: 'recovery' });
  }
  return runMqttShield({
    robot, broker, seed, batchSize, spoolMax, maxTicks, rateHz: rate, deadlineUs,
    requireSigned: values['require-signed'] === true,
    modelDir: stringOption(values, 'models'),
    policyFile: stringOption(values, 'policy'),
    foxglove: stringOption(values, 'foxglove') === undefined ? undefined : { port: intOption('foxglove', stringOption(values, 'foxglove'), 0), host: stringOption(values, 'foxglove-host') },
    recovery,
    profile: stringOption(values, 'profile'),
    trustKeyFiles: stringsOption(values, 'trust-key'),
    operatorKeyFiles: stringsOption(values, 'operator-key'),
    stateDir: stringOption(values, 'state'),
    allowUnsigned: values['allow-unsigned'] === true,
    modelStore: stringOption(values, 'model-store'),
    spoolDir: stringOption(values, 'spool'),
  });
}
