import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { RShieldError } from '../../core/errors.js';
import { createEnv } from '../../envs/index.js';
import { Shield } from '../../inference/shield.js';
import { parsePrivateKey } from '../../inference/model-signing.js';
import { brokerOptionTable, brokerOptions } from '../../transport/mqtt/connect-options.js';
import { MqttTransport } from '../../transport/mqtt/mqtt-transport.js';
import { TrainerNode, type OnlineTrainerPort } from '../../transport/mqtt/trainer-node.js';
import { intOption, parseCommandArgs, stringOption, stringsOption } from '../args.js';

const HELP = `usage: rshield trainer --robot R (--data FILE.mcap... | --models DIR) --broker URL [options]

Companion trainer: starts from the offline data (or given models), receives the shield's
transitions over MQTT, runs one critic and recovery update per transition, and every K updates
exports, validates (IO and a check batch) and publishes a signed new model version.

  --robot R          robot the transitions come from
  --data FILE.mcap   offline dataset (repeatable)
  --models DIR       start from this model instead of (or as well as) the data
  --broker URL       mqtt://host:port; --username U, password from RSHIELD_MQTT_PASSWORD
  --key FILE         Ed25519 private key (rshield keys generate); without it versions are unsigned
  --every K          publish a version every K updates (default 500)
  --out DIR          where versions are exported (default: a temporary folder)
  --transfer MODE    inline (chunks over MQTT, default) or hash (files in --model-store)
  --model-store DIR  content-addressed store shared with the shields (--transfer hash)
  --steps N          offline pretraining steps before going online
  --seed N           default 1`;

type CreateOnlineTrainer = (o: { robot: string; data?: string[]; modelDir?: string; seed: number; steps?: number }) => Promise<OnlineTrainerPort>;

/** The online learner is loaded lazily: only this command pulls in the training engine. */
async function loadOnlineTrainer(): Promise<CreateOnlineTrainer> {
  const specifier = '../../learn/online.js';
  try {
    const mod = (await import(specifier)) as { createOnlineTrainer?: CreateOnlineTrainer };
    if (typeof mod.createOnlineTrainer === 'function') return mod.createOnlineTrainer;
  } catch (err) {
    throw new RShieldError('E_UNAVAILABLE', `the online learner (src/learn/online) cannot be loaded: ${(err as Error).message}`);
  }
  throw new RShieldError('E_UNAVAILABLE', 'the online learner does not export createOnlineTrainer');
}

/** `rshield trainer`: learns online from streamed transitions and publishes signed model versions. */
export async function trainer(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('trainer', argv, {
    ...brokerOptionTable,
    robot: { type: 'string' },
    data: { type: 'string', multiple: true },
    models: { type: 'string' },
    key: { type: 'string' },
    every: { type: 'string' },
    out: { type: 'string' },
    transfer: { type: 'string' },
    'model-store': { type: 'string' },
    steps: { type: 'string' },
    seed: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help === true) {
    console.log(HELP);
    return 0;
  }
  const robot = stringOption(values, 'robot');
  if (robot === undefined) throw new RShieldError('E_USAGE', '--robot R is required (see rshield trainer --help)');
  const data = stringsOption(values, 'data');
  const modelDir = stringOption(values, 'models');
  if (data.length === 0 && modelDir === undefined) throw new RShieldError('E_USAGE', 'give --data FILE.mcap (offline data) or --models DIR to start from');
  const broker = brokerOptions('trainer', values);
  const every = intOption('every', stringOption(values, 'every'), 500, 1);
  const seed = intOption('seed', stringOption(values, 'seed'), 1);
  const stepsText = stringOption(values, 'steps');
  const transfer = stringOption(values, 'transfer') ?? 'inline';
  if (transfer !== 'inline' && transfer !== 'hash') throw new RShieldError('E_USAGE', `--transfer must be inline or hash, got '${transfer}'`);
  const storeDir = stringOption(values, 'model-store');
  if (transfer === 'hash' && storeDir === undefined) throw new RShieldError('E_USAGE', '--transfer hash needs --model-store DIR');
  const keyPath = stringOption(values, 'key');
  let signer: KeyObject | undefined;
  if (keyPath !== undefined) {
    const pem = await readFile(keyPath, 'utf8').catch((err: Error) => {
      throw new RShieldError('E_IO', `cannot read --key ${keyPath}: ${err.message}`, { path: keyPath });
    });
    signer = parsePrivateKey(pem, keyPath);
  } else {
    console.warn('rshield trainer: no --key: versions go out unsigned and only shields run with --allow-unsigned take them');
  }
  const { spec } = createEnv(robot, { seed });
  const create = await loadOnlineTrainer();
  const learner = await create({ robot, seed, ...(data.length > 0 ? { data } : {}), ...(modelDir !== undefined ? { modelDir } : {}), ...(stepsText !== undefined ? { steps: intOption('steps', stepsText, 0) } : {}) });
  const exportDir = stringOption(values, 'out') ?? (await mkdtemp(join(tmpdir(), 'rshield-trainer-')));
  const transport = MqttTransport.connect({ ...broker, clientId: `rshield-trainer-${robot}`, clean: false });
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  const node = new TrainerNode({
    robot,
    obsDim: spec.obsDim,
    actDim: spec.actDim,
    trainer: learner,
    transport,
    ...(signer !== undefined ? { signer } : {}),
    every,
    exportDir,
    transfer,
    ...(storeDir !== undefined ? { storeDir } : {}),
    versionPrefix: `${robot}-online-${stamp}`,
    validate: async (dir) => {
      const prepared = await Shield.prepare({ modelDir: dir, robot });
      await prepared.close();
    },
  });
  node.on('published', (v) => console.log(`published ${v} after ${learner.updates} updates (critic loss ${node.lastLoss.criticLoss.toFixed(4)}, recovery loss ${node.lastLoss.recoveryLoss.toFixed(4)})`));
  node.on('rejected', (v, why) => console.warn(`version ${v} failed validation, not published: ${why}`));
  await transport.waitConnected();
  await node.start();
  console.log(`training ${robot} online from ${broker.url}; a version every ${every} updates; exports in ${exportDir}`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await node.stop();
  await transport.close();
  console.log(`stopped: ${node.transitionsReceived} transitions, ${learner.updates} updates, ${node.published} versions published, ${node.invalidMessages} invalid batches`);
  return 0;
}
