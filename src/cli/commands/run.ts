import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RShieldError } from '../../core/errors.js';
import { RECOVERY_MODES, isRecoveryMode } from '../../core/recovery-mode.js';
import { createController, createEnv } from '../../envs/index.js';
import { Shield } from '../../inference/shield.js';
import { keyIdOf, parsePublicKey } from '../../models/signing.js';
import { loadModelTrust, mergeModelTrust } from '../../models/trust.js';
import { packageRoot } from '../../config/profile.js';
import { ModelReceiver } from '../../transport/mqtt/model-transfer.js';
import { brokerOptionTable, brokerOptions } from '../../transport/mqtt/connect-options.js';
import { MqttTransport } from '../../transport/mqtt/mqtt-transport.js';
import { onnxShieldPort } from '../../transport/mqtt/onnx-shield-port.js';
import { ShieldNode, offlineStatus } from '../../transport/mqtt/shield-node.js';
import { TransitionSpool } from '../../transport/mqtt/spool.js';
import { robotTopics } from '../../transport/mqtt/topics.js';
import { shippedModelDir } from '../demo/package-root.js';
import { intOption, numberOption, parseCommandArgs, stringOption, stringsOption } from '../args.js';

const HELP = `usage: rshield run --robot R --sim --broker URL [options]

Runs the shield in front of a simulated robot (its scripted controller proposes actions) and
talks MQTT: status (retained), 1 Hz telemetry, transition batches, signed model updates, commands.
With the broker down, shielding goes on and transitions wait in the spool.

  --robot R            simulated robot (rshield demo --help lists them)
  --sim                run the simulated robot in-process (required: ROS 2 robots use the ros2 launch files)
  --broker URL         mqtt://host:port
  --username U         broker user (or RSHIELD_MQTT_USERNAME); password from RSHIELD_MQTT_PASSWORD
  --models DIR         model to start with (default: the model shipped for R, models/R in the package)
  --profile P          robot profile, name or YAML path (default: hardware/sim/R.yaml); its
                       models.trustedKeys and models.allowUnsigned add to the two options below
  --recovery M         policy (π_rec, the reference) or nearest-safe (closest candidate action the
                       critic rates safe); default: the model card's recoveryMode (policy)
  --trust-key FILE     public key whose signed model versions are accepted (repeatable)
  --allow-unsigned     accept unsigned model versions (simulation only)
  --model-store DIR    content-addressed store for versions announced by hash
  --spool DIR          on-disk transition queue (default: <tmp>/rshield-spool/R)
  --spool-max N        batches the spool holds before dropping the oldest (default 10000)
  --rate HZ            control rate (default 50)
  --ticks N            stop after N ticks (default: run until SIGINT/SIGTERM)
  --batch N            transitions per batch (default 64)
  --seed N             seed of the simulated robot (default 1)
  --transport ros2     run as a ROS 2 node instead (rshield run --transport ros2 --help)`;

/**
 * The trust the robot's profile grants: --profile, else the shipped hardware/sim/R.yaml when
 * there is one. The profile must describe the robot being run.
 */
function simProfileTrust(robot: string, given: string | undefined): ReturnType<typeof loadModelTrust> | undefined {
  const shipped = join(packageRoot(), 'hardware', 'sim', `${robot}.yaml`);
  if (given === undefined && !existsSync(shipped)) return undefined;
  const loaded = loadModelTrust(given ?? shipped);
  if (loaded.profile.env !== robot) {
    throw new RShieldError('E_CONFIG', `${loaded.file} describes robot '${loaded.profile.env}', not '${robot}'`, { robot, profile: loaded.file });
  }
  return loaded;
}

/** `rshield run`: the shield on a simulated robot, online over MQTT. */
export async function run(argv: string[]): Promise<number> {
  // --transport ros2: the ROS 2 node (src/transport/ros2, docs/ros2.md).
  if (argv.some((a) => a === '--transport' || a.startsWith('--transport='))) {
    return (await import('../../transport/ros2/run-command.js')).runRos2Command(argv);
  }
  const { values } = parseCommandArgs('run', argv, {
    ...brokerOptionTable,
    robot: { type: 'string' },
    sim: { type: 'boolean' },
    models: { type: 'string' },
    recovery: { type: 'string' },
    profile: { type: 'string' },
    'trust-key': { type: 'string', multiple: true },
    'allow-unsigned': { type: 'boolean' },
    'model-store': { type: 'string' },
    spool: { type: 'string' },
    'spool-max': { type: 'string' },
    rate: { type: 'string' },
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
  const topics = robotTopics(robot);
  const rate = numberOption('rate', stringOption(values, 'rate'), 50);
  if (!(rate > 0 && rate <= 10_000)) throw new RShieldError('E_USAGE', `--rate must be in (0, 10000] Hz, got ${rate}`);
  const maxTicks = intOption('ticks', stringOption(values, 'ticks'), 0);
  const batchSize = intOption('batch', stringOption(values, 'batch'), 64, 1);
  const seed = intOption('seed', stringOption(values, 'seed'), 1);
  const spoolMax = intOption('spool-max', stringOption(values, 'spool-max'), 10_000, 1);
  const fromArgs = await Promise.all(
    stringsOption(values, 'trust-key').map(async (f) => {
      const pem = await readFile(f, 'utf8').catch((err: Error) => {
        throw new RShieldError('E_IO', `cannot read --trust-key ${f}: ${err.message}`, { path: f });
      });
      return parsePublicKey(pem, f);
    }),
  );
  const fromProfile = simProfileTrust(robot, stringOption(values, 'profile'));
  const flagUnsigned = values['allow-unsigned'] === true;
  const trust = mergeModelTrust(...(fromProfile ? [fromProfile.trust] : []), { keys: fromArgs, keyIds: fromArgs.map(keyIdOf), allowUnsigned: flagUnsigned });
  const sources = [fromProfile ? `profile ${fromProfile.file}` : '', fromArgs.length > 0 ? '--trust-key' : '', flagUnsigned ? '--allow-unsigned' : ''].filter((x) => x !== '');
  if (trust.keys.length === 0 && !trust.allowUnsigned) console.warn(`rshield run: no trusted key (--trust-key, or models.trustedKeys in the profile): every model update will be refused`);
  else console.log(`model updates: ${trust.keys.length > 0 ? `signed by ${trust.keyIds.join(', ')}` : 'no trusted key'}, unsigned ${trust.allowUnsigned ? 'accepted' : 'refused'} (from ${sources.join(', ')})`);

  const env = createEnv(robot, { seed });
  const controller = createController(robot, { seed });
  // The shipped model sits in the package (models/R), wherever the command is run from.
  const given = stringOption(values, 'models');
  const modelDir = given ?? shippedModelDir(robot);
  if (given === undefined && !existsSync(join(modelDir, 'model.json'))) {
    throw new RShieldError('E_MODEL', `no model is shipped for ${robot}; train one (rshield collect, rshield train) and pass --models DIR`, { robot });
  }
  const recovery = stringOption(values, 'recovery');
  if (recovery !== undefined && !isRecoveryMode(recovery)) {
    throw new RShieldError('E_USAGE', `--recovery must be one of ${RECOVERY_MODES.join(', ')}, got '${recovery}'`, { option: 'recovery' });
  }
  // Every model version received later is prepared with the same options as this one.
  const loadOptions = { robot, ...(recovery === undefined ? {} : { recoveryMode: recovery }) };
  const shield = await Shield.load({ modelDir, ...loadOptions });
  const spoolDir = stringOption(values, 'spool') ?? join(tmpdir(), 'rshield-spool', robot);
  const spool = await TransitionSpool.open({ dir: spoolDir, maxBatches: spoolMax, maxBytes: 512 * 1024 * 1024 });
  const modelStore = stringOption(values, 'model-store');
  const receiver = new ModelReceiver({
    robot,
    obsDim: env.spec.obsDim,
    actDim: env.spec.actDim,
    trustedKeys: trust.keys,
    allowUnsigned: trust.allowUnsigned,
    ...(modelStore !== undefined ? { storeDir: modelStore } : {}),
  });
  const transport = MqttTransport.connect({ ...broker, clientId: `rshield-shield-${robot}-${process.pid}`, will: { topic: topics.status, payload: offlineStatus(robot), retain: true, qos: 1 } });
  const node = new ShieldNode({ robot, env, controller, shield: onnxShieldPort(shield, loadOptions), transport, spool, receiver, batchSize, seed });
  node.on('swapped', (v) => console.log(`model ${v} swapped in`));
  node.on('swapFailed', (v, why) => console.warn(`model ${v} refused: ${why}`));
  node.on('diskFault', (why) => console.warn(`rshield run: disk error, shielding goes on: ${why}`));
  await node.start();
  console.log(`shielding ${robot} (model ${shield.modelVersion}, ${shield.provider}${shield.recoveryMode === 'policy' ? '' : `, ${shield.recoveryMode} recovery`}) at ${rate} Hz; broker ${broker.url}; spool ${spoolDir}`);

  let stopping = false;
  const stop = (): void => {
    stopping = true;
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const periodMs = 1000 / rate;
  let next = performance.now();
  try {
    for (let n = 0; !stopping && (maxTicks === 0 || n < maxTicks); n++) {
      await node.tick();
      next += periodMs;
      const wait = next - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      else next = performance.now(); // late: do not try to catch up with a burst
    }
  } finally {
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
    await node.stop();
    // Give acknowledgements up to 2 s; what is not acknowledged stays in the spool for the next run.
    if (transport.connected) await Promise.race([node.drained(), new Promise((r) => setTimeout(r, 2000).unref())]);
    await transport.close();
    await shield.close();
  }
  const s = shield.stats();
  console.log(`stopped after ${s.ticks} ticks: ${s.interventions} interventions, ${s.failsafes} fail-safes, ${node.swaps} swaps, ${node.batchesSent} batches sent, ${spool.pending} spooled, ${spool.dropped} dropped`);
  return 0;
}
