/**
 * Start-up and wiring of the companion trainer (`rshield trainer`): the signing key, the online
 * learner (pretraining on offline data or starting from a model), the broker connection and the
 * TrainerNode, stopped cleanly by SIGINT/SIGTERM at any stage.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { RShieldError } from '../core/errors.js';
import { Shield } from '../inference/shield.js';
import { parsePrivateKey } from '../models/signing.js';
import type { BrokerOptions } from '../transport/mqtt/connect-options.js';
import { MqttTransport } from '../transport/mqtt/mqtt-transport.js';
import { TrainerNode, type TrainerNodeOptions } from '../transport/mqtt/trainer-node.js';
import { OnlineSchedule, type OnlineScheduleOptions } from '../learn/online-schedule.js';
import { defaultsFor } from '../learn/defaults.js';
import type { OnlineTrainer } from '../learn/online.js';

export interface TrainerOptions {
  readonly robot: string;
  readonly data: readonly string[];
  readonly modelDir?: string | undefined;
  readonly broker: BrokerOptions;
  readonly every: number;
  readonly seed: number;
  readonly threads: number;
  /** Offline pretraining steps; default the robot's. */
  readonly steps?: number | undefined;
  readonly transfer: 'inline' | 'hash';
  readonly storeDir?: string | undefined;
  /** Ed25519 private key file; without it versions are unsigned. */
  readonly keyPath?: string | undefined;
  readonly gate: boolean;
  readonly gateTolerance: number;
  readonly exportDir?: string | undefined;
  /** Adapt when the shield reports drift: from the last `transitions` received, `steps` steps (default 300). */
  readonly adaptOnDrift?: { readonly transitions: number; readonly steps?: number };
  /** A model-based start model's dynamics retraining: every `every` episodes, `epochs` epochs (defaults: the robot's K, 5). */
  readonly dynamics?: { readonly every?: number; readonly epochs?: number } | undefined;
  /** Shows pretraining progress (the CLI passes its terminal progress bar). */
  readonly pretrainProgress?: (label: string, total: number) => { update(step: number): void; stop(total: number): void };
}

/** Thrown from the pretraining progress callback to stop pretraining on SIGINT/SIGTERM. */
class Interrupted extends Error {}

/** Pretrains (or loads), then learns online and publishes versions until a signal; resolves with the exit code. */
export async function runTrainer(o: TrainerOptions): Promise<number> {
  const { robot, data, modelDir, broker, every, seed, threads, steps, transfer, storeDir, keyPath, gate, gateTolerance } = o;
  let signer: KeyObject | undefined;
  if (keyPath !== undefined) {
    const pem = await readFile(keyPath, 'utf8').catch((err: Error) => {
      throw new RShieldError('E_IO', `cannot read --key ${keyPath}: ${err.message}`, { path: keyPath });
    });
    signer = parsePrivateKey(pem, keyPath);
  } else {
    console.warn('rshield trainer: no --key: versions go out unsigned and only shields run with --allow-unsigned take them');
  }
  // SIGINT/SIGTERM stop the trainer cleanly (exit 0) at any stage, pretraining included.
  let stopRequested = false;
  let onStop: (() => void) | undefined;
  const requestStop = (): void => {
    stopRequested = true;
    onStop?.();
  };
  // `on`, not `once`: under ros2 launch a Ctrl-C arrives twice (the terminal's and the one launch
  // forwards); the second must not kill the trainer while it stops.
  process.on('SIGINT', requestStop);
  process.on('SIGTERM', requestStop);
  try {
    // Lazy: only this command pulls in the training engine.
    const { createOnlineTrainer } = await import('../learn/online.js');
    const pretraining = modelDir === undefined;
    const total = steps ?? defaultsFor(robot).steps;
    const progress = pretraining ? o.pretrainProgress?.(`trainer ${robot} pretraining`, total) : undefined;
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
        ...(o.adaptOnDrift !== undefined ? { recentTransitions: o.adaptOnDrift.transitions } : {}),
        ...(o.dynamics !== undefined ? { dynamics: o.dynamics } : {}),
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
      return await serve(learner, { robot, obsDim: learner.obsDim, actDim: learner.actDim, broker, every, transfer, storeDir, signer, gate, gateTolerance, exportDir: o.exportDir, adaptOnDrift: o.adaptOnDrift }, (resolve) => {
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

/**
 * The trainer's two halves wired: the MQTT node (receive, de-duplicate, sign, publish) and the
 * learning schedule it feeds (updates, versions, the quality gate).
 */
export function trainerNode(o: Omit<TrainerNodeOptions, 'learning'> & Omit<OnlineScheduleOptions, 'release' | 'afterVerdict'>): { node: TrainerNode; schedule: OnlineSchedule } {
  const node = new TrainerNode({ ...o, learning: (hooks) => new OnlineSchedule({ ...o, ...hooks }) });
  return { node, schedule: node.learning as OnlineSchedule };
}

interface ServeContext {
  readonly robot: string;
  readonly obsDim: number;
  readonly actDim: number;
  readonly broker: BrokerOptions;
  readonly every: number;
  readonly transfer: 'inline' | 'hash';
  readonly storeDir: string | undefined;
  readonly signer: KeyObject | undefined;
  readonly exportDir: string | undefined;
  readonly gate: boolean;
  readonly gateTolerance: number;
  readonly adaptOnDrift: TrainerOptions['adaptOnDrift'];
}

/** Connects, trains on what arrives and publishes versions until `onStop` fires. */
async function serve(learner: OnlineTrainer, c: ServeContext, onStop: (resolve: () => void) => void): Promise<number> {
  const { robot, broker, every } = c;
  const exportDir = c.exportDir ?? (await mkdtemp(join(tmpdir(), 'rshield-trainer-')));
  const transport = MqttTransport.connect({ ...broker, clientId: `rshield-trainer-${robot}`, clean: false });
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  const { node, schedule } = trainerNode({
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
    ...(c.adaptOnDrift !== undefined ? { adaptOnDrift: c.adaptOnDrift } : {}),
    validate: async (dir) => {
      const prepared = await Shield.prepare({ modelDir: dir, robot });
      await prepared.close();
    },
  });
  const started = performance.now();
  schedule.on('published', (v) => {
    const s = (performance.now() - started) / 1000;
    console.log(`published ${v} after ${learner.updates} updates, ${s.toFixed(1)} s online (critic loss ${schedule.lastLoss.criticLoss.toFixed(4)}, recovery loss ${schedule.lastLoss.recoveryLoss.toFixed(4)})`);
  });
  schedule.on('rejected', (v, why) => console.warn(`version ${v} failed validation, not published: ${why}`));
  schedule.on('gated', (v, g) => console.log(`version ${v} passed the quality gate: ${g.note} (${g.rows} held-out transitions, ${g.positives} positive)`));
  schedule.on('adapted', (a) => (a.outcome === 'published' ? console.log : console.warn)(`adaptation to drift: ${a.note}`));
  schedule.on('refused', (v, g) => console.warn(`version ${v} refused by the quality gate, not published: ${g.note} (${g.rows} held-out transitions, ${g.positives} positive; ${schedule.refused} refused so far)`));
  const stopped = new Promise<void>(onStop);
  let connected = false;
  try {
    await Promise.race([transport.waitConnected().then(() => (connected = true)), stopped]);
    if (connected) {
      await node.start();
      console.log(`training ${robot} online from ${broker.url}; a version every ${every} updates; exports in ${exportDir}`);
      const dyn = learner.dynamics;
      if (dyn !== null) {
        console.log(`model-based start model: the dynamics ensemble (${dyn.initialisedFrom === 'start-model' ? "the start model's weights" : 'trained anew on the offline data'}) is retrained every ${dyn.every} episodes for ${dyn.epochs} epochs on all ${dyn.rows} training transitions so far and more; each version carries it and the planner`);
      }
      if (c.adaptOnDrift !== undefined) {
        console.log(`adapting on drift: when ${node.topics.telemetry} reports critic drift, from the last ${c.adaptOnDrift.transitions} transitions received, then through the gate (${learner.metaTrained ? 'MESA adaptation: the start model is meta-trained' : 'fine-tune steps'})`);
      }
      console.log(
        c.gate
          ? `quality gate on: on the offline violation demos and on the online episodes apart, held-out AUROC and the share of violations caught at ε may each drop at most ${c.gateTolerance} (${learner.validationRows} held-out transitions so far; verdicts in ${node.topics.trainer})`
          : 'quality gate off (--no-gate): every valid version is published',
      );
      await stopped;
    }
    await node.stop();
  } finally {
    await transport.close();
  }
  console.log(`stopped: ${node.transitionsReceived} transitions, ${learner.updates} updates, ${schedule.published} versions published, ${node.invalidMessages} invalid batches, ${node.duplicates} duplicates, ${schedule.refused} refused by the quality gate`);
  return 0;
}
