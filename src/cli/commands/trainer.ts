import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { RShieldError } from '../../core/errors.js';
import { createEnv } from '../../envs/index.js';
import { Shield } from '../../inference/shield.js';
import { parsePrivateKey } from '../../models/signing.js';
import { brokerOptionTable, brokerOptions } from '../../transport/mqtt/connect-options.js';
import { MqttTransport } from '../../transport/mqtt/mqtt-transport.js';
import { TrainerNode } from '../../transport/mqtt/trainer-node.js';
import { defaultsFor } from '../../learn/defaults.js';
import type { OnlineTrainer } from '../../learn/online.js';
import { DEFAULT_GATE_TOLERANCE } from '../../learn/quality-gate.js';
import { intOption, numberOption, parseCommandArgs, stringOption, stringsOption } from '../args.js';
import { createProgress } from '../progress.js';

const HELP = `usage: rshield trainer --robot R (--data FILE.mcap... | --models DIR) --broker URL [options]

Companion trainer: starts from the offline data (or given models), receives the shield's
transitions over MQTT, runs one critic and recovery update per transition, and every K updates
exports, validates (IO and a check batch) and publishes a signed new model version — only when
its critic's AUROC on held-out episodes (10% of the offline data's, every 10th online one; never
trained on) is at least the last published version's (or the start model's) minus a tolerance.

  --robot R          robot the transitions come from
  --data FILE.mcap   offline dataset (repeatable)
  --models DIR       start from this model instead of (or as well as) the data
  --broker URL       mqtt://host:port; --username U, password from RSHIELD_MQTT_PASSWORD
  --key FILE         Ed25519 private key (rshield keys generate); without it versions are unsigned
  --every K          publish a version every K updates (default 500)
  --out DIR          where versions are exported (default: a temporary folder)
  --transfer MODE    inline (chunks over MQTT, default) or hash (files in --model-store)
  --model-store DIR  content-addressed store shared with the shields (--transfer hash)
  --gate-tolerance X allowed held-out AUROC drop (default ${DEFAULT_GATE_TOLERANCE})
  --no-gate          publish every valid version, whatever its AUROC
  --steps N          offline pretraining steps before going online
  --threads N        ONNX Runtime threads of the learner (default 2)
  --seed N           default 1`;

/** Thrown from the pretraining progress callback to stop pretraining on SIGINT/SIGTERM. */
class Interrupted extends Error {}

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
    'gate-tolerance': { type: 'string' },
    'no-gate': { type: 'boolean' },
    seed: { type: 'string' },
    threads: { type: 'string' },
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
  const threads = intOption('threads', stringOption(values, 'threads'), 2, 1);
  const steps = stepsText !== undefined ? intOption('steps', stepsText, 0) : undefined;
  const gate = values['no-gate'] !== true;
  const gateTolerance = numberOption('gate-tolerance', stringOption(values, 'gate-tolerance'), DEFAULT_GATE_TOLERANCE);
  if (gateTolerance < 0) throw new RShieldError('E_USAGE', `--gate-tolerance must be ≥ 0, got ${gateTolerance}`);

  // SIGINT/SIGTERM stop the trainer cleanly (exit 0) at any stage, pretraining included.
  let stopRequested = false;
  let onStop: (() => void) | undefined;
  const requestStop = (): void => {
    stopRequested = true;
    onStop?.();
  };
  process.once('SIGINT', requestStop);
  process.once('SIGTERM', requestStop);
  try {
    // Lazy: only this command pulls in the training engine.
    const { createOnlineTrainer } = await import('../../learn/online.js');
    const pretraining = modelDir === undefined;
    const total = steps ?? defaultsFor(robot).steps;
    const progress = pretraining ? createProgress({ label: `trainer ${robot} pretraining`, total, unit: 'steps' }) : undefined;
    let learner: OnlineTrainer;
    const t0 = performance.now();
    try {
      learner = await createOnlineTrainer({
        robot,
        seed,
        threads,
        ...(data.length > 0 ? { data } : {}),
        ...(modelDir !== undefined ? { modelDir } : {}),
        ...(steps !== undefined ? { steps } : {}),
        onPretrainProgress: (step) => {
          // Thrown out of the pretraining loop; the process exits right after, freeing the learner.
          if (stopRequested) throw new Interrupted();
          progress?.update(step);
        },
      });
    } catch (err) {
      if (err instanceof Interrupted) {
        console.error(`rshield trainer: interrupted during pretraining`);
        return 0;
      }
      throw err;
    }
    progress?.stop(total);
    if (pretraining) console.error(`trainer ${robot}: pretrained in ${((performance.now() - t0) / 1000).toFixed(1)} s; ${learner.bufferSize} transitions in the replay buffer`);
    try {
      if (stopRequested) return 0;
      return await serve(learner, { robot, obsDim: spec.obsDim, actDim: spec.actDim, broker, every, transfer, storeDir, signer, gate, gateTolerance, exportDir: stringOption(values, 'out') }, (resolve) => {
        onStop = resolve;
        if (stopRequested) resolve();
      });
    } finally {
      await learner.release();
    }
  } finally {
    process.removeListener('SIGINT', requestStop);
    process.removeListener('SIGTERM', requestStop);
  }
}

interface ServeContext {
  readonly robot: string;
  readonly obsDim: number;
  readonly actDim: number;
  readonly broker: ReturnType<typeof brokerOptions>;
  readonly every: number;
  readonly transfer: 'inline' | 'hash';
  readonly storeDir: string | undefined;
  readonly signer: KeyObject | undefined;
  readonly exportDir: string | undefined;
  readonly gate: boolean;
  readonly gateTolerance: number;
}

/** Connects, trains on what arrives and publishes versions until `onStop` fires. */
async function serve(learner: OnlineTrainer, c: ServeContext, onStop: (resolve: () => void) => void): Promise<number> {
  const { robot, broker, every } = c;
  const exportDir = c.exportDir ?? (await mkdtemp(join(tmpdir(), 'rshield-trainer-')));
  const transport = MqttTransport.connect({ ...broker, clientId: `rshield-trainer-${robot}`, clean: false });
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  const node = new TrainerNode({
    robot,
    obsDim: c.obsDim,
    actDim: c.actDim,
    trainer: learner,
    transport,
    ...(c.signer !== undefined ? { signer: c.signer } : {}),
    every,
    exportDir,
    transfer: c.transfer,
    ...(c.storeDir !== undefined ? { storeDir: c.storeDir } : {}),
    versionPrefix: `${robot}-online-${stamp}`,
    gate: c.gate,
    gateTolerance: c.gateTolerance,
    validate: async (dir) => {
      const prepared = await Shield.prepare({ modelDir: dir, robot });
      await prepared.close();
    },
  });
  const started = performance.now();
  node.on('published', (v) => {
    const s = (performance.now() - started) / 1000;
    console.log(`published ${v} after ${learner.updates} updates, ${s.toFixed(1)} s online (critic loss ${node.lastLoss.criticLoss.toFixed(4)}, recovery loss ${node.lastLoss.recoveryLoss.toFixed(4)})`);
  });
  node.on('rejected', (v, why) => console.warn(`version ${v} failed validation, not published: ${why}`));
  node.on('gated', (v, g) => console.log(`version ${v} passed the quality gate: ${g.note} (${g.rows} held-out transitions, ${g.positives} positive)`));
  node.on('refused', (v, g) => console.warn(`version ${v} refused by the quality gate, not published: ${g.note} (${g.rows} held-out transitions, ${g.positives} positive; ${node.refused} refused so far)`));
  const stopped = new Promise<void>(onStop);
  let connected = false;
  try {
    await Promise.race([transport.waitConnected().then(() => (connected = true)), stopped]);
    if (connected) {
      await node.start();
      console.log(`training ${robot} online from ${broker.url}; a version every ${every} updates; exports in ${exportDir}`);
      console.log(c.gate ? `quality gate on: held-out AUROC may drop at most ${c.gateTolerance} (${learner.validationRows} held-out transitions so far)` : 'quality gate off (--no-gate): every valid version is published');
      await stopped;
    }
    await node.stop();
  } finally {
    await transport.close();
  }
  console.log(`stopped: ${node.transitionsReceived} transitions, ${learner.updates} updates, ${node.published} versions published, ${node.invalidMessages} invalid batches, ${node.duplicates} duplicates, ${node.refused} refused by the quality gate`);
  return 0;
}
