/**
 * Start-up and wiring of the MQTT sim shield (`rshield run --sim`): model trust from the
 * profile and the options, the simulated robot, the ONNX Runtime shield, the spool, the model
 * receiver, the broker connection and the ShieldNode, paced by the core tick loop.
 */
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock, systemTimer } from '../core/clock.js';
import type { Decision } from '../core/shield-core.js';
import { sceneOf } from '../envs/scene.js';
import type { FoxgloveLive } from './foxglove-live.js';
import { RShieldError } from '../core/errors.js';
import type { RecoveryMode } from '../core/recovery-mode.js';
import { TickLoop } from '../core/tick-loop.js';
import { createController, createEnv, prepareRobot } from '../envs/index.js';
import { OnnxPolicyController } from '../inference/policy-controller.js';
import { Shield, type PreparedModel } from '../inference/shield.js';
import { ImageShield, type PreparedImageModel } from '../inference/image-shield.js';
import type { LocalModelTrust } from '../inference/local-model-trust.js';
import type { SwappableShieldPort } from '../core/shield-port.js';
import type { Env } from '../core/types.js';
import { hasCamera } from '../envs/index.js';
import { loadModelCard, type ModelBundle } from '../models/model-dir.js';
import type { RobotProfile } from '../config/profile.js';
import { exitProcess } from '../inference/watchdog.js';
import { CommandGuard } from '../models/command-guard.js';
import { ShieldState, defaultStateDir } from '../models/shield-state.js';
import { keyIdOf } from '../models/signing.js';
import { loadModelTrust, mergeModelTrust, profileOperatorKeys, readPublicKeyFiles, uniqueKeys } from '../models/trust.js';
import { packageRoot } from '../config/profile.js';
import { ModelReceiver } from '../transport/mqtt/model-transfer.js';
import type { BrokerOptions } from '../transport/mqtt/connect-options.js';
import { MqttTransport } from '../transport/mqtt/mqtt-transport.js';
import { ShieldNode, offlineStatus } from '../transport/mqtt/shield-node.js';
import { TransitionSpool } from '../transport/mqtt/spool.js';
import { robotTopics } from '../transport/mqtt/topics.js';
import { shippedModelDir } from '../models/shipped-models.js';

export interface MqttShieldOptions {
  readonly robot: string;
  readonly broker: BrokerOptions;
  /** Model to start with; default the one shipped for the robot. */
  readonly modelDir?: string | undefined;
  readonly recovery?: RecoveryMode | undefined;
  /** Profile name or YAML path; default hardware/sim/R.yaml when shipped. */
  readonly profile?: string | undefined;
  readonly trustKeyFiles: readonly string[];
  /** Public keys of the operators whose signed commands are obeyed (beside the profile's commands.trustedKeys). */
  readonly operatorKeyFiles: readonly string[];
  readonly allowUnsigned: boolean;
  /** Where the newest model sequence and recent command nonces survive restarts (default: defaultStateDir(robot)). */
  readonly stateDir?: string | undefined;
  readonly modelStore?: string | undefined;
  readonly spoolDir?: string | undefined;
  readonly spoolMax: number;
  readonly rateHz: number;
  /** A decision later than this (µs) is the fail-safe. */
  readonly deadlineUs: number;
  /** Refuse an unsigned starting model; on by default for hardware profiles. */
  readonly requireSigned: boolean;
  /** 0: run until SIGINT/SIGTERM. */
  readonly maxTicks: number;
  readonly batchSize: number;
  readonly seed: number;
  /** A learned task policy (ONNX, obs → action) to shield instead of the robot's scripted controller. */
  readonly policyFile?: string | undefined;
  /** Live view for Foxglove on this port (0: any free one); off when undefined. */
  readonly foxglove?: { readonly port: number; readonly host?: string | undefined } | undefined;
}

/**
 * The trust the robot's profile grants: the given profile, else the shipped hardware/sim/R.yaml
 * when there is one. The profile must describe the robot being run.
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

/** The shield `rshield run` drives: Shield, or ImageShield for an image model; every version received later is prepared by the same one. */
type MqttShieldPort = (Shield | ImageShield) & SwappableShieldPort<PreparedModel | PreparedImageModel, ModelBundle>;

/** The image shield of a camera robot: the frame age from its profile, the deadline and trust as Shield's. */
async function loadImageShield(robot: string, env: Env, modelDir: string, o: MqttShieldOptions, trust: LocalModelTrust, profile: RobotProfile | undefined): Promise<ImageShield> {
  if (o.recovery !== undefined && o.recovery !== 'policy') {
    throw new RShieldError('E_USAGE', `--recovery ${o.recovery} is not available for the image model in ${modelDir} (image models: policy recovery)`, { robot });
  }
  if (!hasCamera(env)) throw new RShieldError('E_CONFIG', `${modelDir} is an image model, but the simulated robot ${robot} has no camera`, { robot });
  const imageStaleAfterMs = profile?.imageStaleAfterMs;
  if (imageStaleAfterMs === undefined) throw new RShieldError('E_CONFIG', `${modelDir} is an image model: the robot's profile needs imageStaleAfterMs (how old a camera frame may be); pass --profile`, { robot });
  return ImageShield.load({ modelDir, robot, imageStaleAfterMs, deadlineUs: o.deadlineUs, trust });
}

/** Runs the shield until maxTicks or a signal; resolves with the exit code. */
export async function runMqttShield(o: MqttShieldOptions): Promise<number> {
  const { robot, broker, seed, batchSize } = o;
  const topics = robotTopics(robot);
  const fromArgs = await readPublicKeyFiles('--trust-key', o.trustKeyFiles);
  const fromProfile = simProfileTrust(robot, o.profile);
  const operatorKeys = uniqueKeys(fromProfile ? profileOperatorKeys(fromProfile.profile, fromProfile.file) : [], await readPublicKeyFiles('--operator-key', o.operatorKeyFiles));
  if (operatorKeys.length === 0) console.log('commands: disabled (no --operator-key, no commands.trustedKeys in the profile): arm/disarm and recording commands are refused');
  else console.log(`commands: signed by ${operatorKeys.map(keyIdOf).join(', ')}; retained, stale and replayed ones refused`);
  const state = await ShieldState.open(o.stateDir ?? defaultStateDir(robot), robot);
  const flagUnsigned = o.allowUnsigned;
  const trust = mergeModelTrust(...(fromProfile ? [fromProfile.trust] : []), { keys: fromArgs, keyIds: fromArgs.map(keyIdOf), allowUnsigned: flagUnsigned });
  const sources = [fromProfile ? `profile ${fromProfile.file}` : '', fromArgs.length > 0 ? '--trust-key' : '', flagUnsigned ? '--allow-unsigned' : ''].filter((x) => x !== '');
  if (trust.keys.length === 0 && !trust.allowUnsigned) console.warn(`rshield run: no trusted key (--trust-key, or models.trustedKeys in the profile): every model update will be refused`);
  else console.log(`model updates: ${trust.keys.length > 0 ? `signed by ${trust.keyIds.join(', ')}` : 'no trusted key'}, unsigned ${trust.allowUnsigned ? 'accepted' : 'refused'} (from ${sources.join(', ')})`);

  await prepareRobot(robot);
  const env = createEnv(robot, { seed });
  const controller = o.policyFile === undefined ? createController(robot, { seed }) : await OnnxPolicyController.load(o.policyFile, env.spec);
  // The shipped model sits in the package (models/R), wherever the command is run from.
  const modelDir = o.modelDir ?? shippedModelDir(robot);
  if (o.modelDir === undefined && !existsSync(join(modelDir, 'model.json'))) {
    throw new RShieldError('E_MODEL', `no model is shipped for ${robot}; train one (rshield collect, rshield train) and pass --models DIR`, { robot });
  }
  // Every model version received later is prepared with the same options as this one.
  // The starting model is trusted like an update: signed, when asked or on a real robot's profile.
  const requireSigned = o.requireSigned || (fromProfile !== undefined && fromProfile.profile.kind !== 'sim');
  const localTrust = { requireSigned, keys: trust.keys };
  // An unreadable card is the loaders' to report, with their trust checks first.
  const card = await loadModelCard(modelDir).catch(() => null);
  const camera = card?.image !== undefined;
  const shield: MqttShieldPort = camera
    ? await loadImageShield(robot, env, modelDir, o, localTrust, fromProfile?.profile)
    : await Shield.load({ modelDir, robot, deadlineUs: o.deadlineUs, trust: localTrust, ...(o.recovery === undefined ? {} : { recoveryMode: o.recovery }) });
  const spoolDir = o.spoolDir ?? join(tmpdir(), 'rshield-spool', robot);
  const spool = await TransitionSpool.open({ dir: spoolDir, maxBatches: o.spoolMax, maxBytes: 512 * 1024 * 1024 });
  const receiver = new ModelReceiver({
    robot,
    obsDim: env.spec.obsDim,
    actDim: env.spec.actDim,
    trustedKeys: trust.keys,
    allowUnsigned: trust.allowUnsigned,
    // The newest sequence outlives the process: a version older than one accepted before a restart stays refused.
    startSequence: state.data.modelSequence,
    ...(state.data.modelVersion !== '' ? { startVersion: state.data.modelVersion } : {}),
    // Written (fsync'd) before the version can be swapped in: a crash right after the swap still
    // refuses this version's predecessors on restart.
    onAccepted: (sequence, version) => state.update({ modelSequence: sequence, modelVersion: version }),
    stagingDir: join(spoolDir, '..', `rshield-models-${robot}-${process.pid}`),
    ...(o.modelStore !== undefined ? { storeDir: o.modelStore } : {}),
  });
  const transport = MqttTransport.connect({ ...broker, clientId: `rshield-shield-${robot}-${process.pid}`, will: { topic: topics.status, payload: offlineStatus(robot), retain: true, qos: 1 } });
  const commands = new CommandGuard({
    robot, operatorKeys, clock: systemClock,
    seen: state.data.commandNonces,
    remember: (seen) => void state.update({ commandNonces: [...seen] }),
  });
  let live: FoxgloveLive | undefined;
  if (o.foxglove !== undefined) {
    // Loaded only when asked for: the WebSocket server stays out of every other shield.
    const { FoxgloveLive } = await import('./foxglove-live.js');
    live = await FoxgloveLive.start({ port: o.foxglove.port, ...(o.foxglove.host !== undefined ? { host: o.foxglove.host } : {}), robot, epsRisk: shield.epsRisk, scene: sceneOf(robot) });
    console.log(`Foxglove live view on ${live.url} (open docs/foxglove-layout.json)`);
  }
  const view = live;
  const node = new ShieldNode({
    robot, env, controller, shield, transport, spool, receiver, batchSize, seed, commands, startModelDir: modelDir,
    drift: { gammaRisk: shield.card.gammaRisk },
    // A camera robot: each tick's state is pictured and encoded before the decision (docs/images.md).
    ...(shield instanceof ImageShield && hasCamera(env) ? { beforeDecide: () => shield.pushFrame(env.frame(Date.now())) } : {}),
    ...(view !== undefined ? { onDecision: (obs: Float32Array, proposed: Float32Array, d: Decision) => view.publish(obs, proposed, d, shield.modelVersion) } : {}),
  });
  node.on('swapped', (v) => console.log(`model ${v} swapped in`));
  node.on('armChanged', (armed, by) => console.log(`${armed ? 'armed' : 'DISARMED: the controller drives the robot unshielded'} (${by})`));
  let refusalsLogged = 0;
  node.on('cmdRefused', (_why, reason) => {
    // Said a few times, then only counted (status, telemetry): a flood must not flood the log.
    if (++refusalsLogged <= 5) console.warn(`${reason}${refusalsLogged === 5 ? ' (further refusals counted only)' : ''}`);
  });
  node.on('swapFailed', (v, why) => console.warn(`model ${v} refused: ${why}`));
  await node.start();
  console.log(`state ${state.file} (newest model sequence ${state.data.modelSequence})`);
  console.log(`shielding ${robot} (model ${shield.modelVersion}, ${shield.provider}${shield.recoveryMode === 'policy' ? '' : `, ${shield.recoveryMode} recovery`}) at ${o.rateHz} Hz; broker ${broker.url}; spool ${spoolDir}`);

  // Paced on an absolute grid; a late tick skips its missed slots instead of bursting to catch up.
  let finish!: (err?: Error) => void;
  const finished = new Promise<void>((resolve, reject) => {
    finish = (err) => (err === undefined ? resolve() : reject(err));
  });
  const loop = new TickLoop({
    periodMs: 1000 / o.rateHz,
    clock: systemClock,
    timer: systemTimer,
    tick: async () => {
      await node.tick();
      if (o.maxTicks > 0 && loop.ticks >= o.maxTicks) finish();
    },
    onError: (err) => finish(err instanceof Error ? err : new Error('control tick failed', { cause: err })),
  });
  const stop = (): void => finish();
  // `on`, not `once`: a terminal's Ctrl-C and ros2 launch's forwarded one may both arrive, and a
  // second signal must not kill the process while it flushes (finish() runs once).
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    loop.start();
    await finished;
  } finally {
    await loop.stop();
    await node.stop();
    // Give acknowledgements up to 2 s; what is not acknowledged stays in the spool for the next run.
    if (transport.connected) await Promise.race([node.drained(), new Promise((r) => setTimeout(r, 2000).unref())]);
    await live?.close();
    await transport.close();
    await shield.close();
    if (controller instanceof OnnxPolicyController) await controller.close();
    await state.flushed();
    if (state.lastWriteError !== undefined) console.warn(`state not saved: ${state.lastWriteError}`);
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
    // A model graph stuck for good would make a normal exit wait for its thread forever.
    await exitProcess(0);
  }
  const s = shield.stats();
  console.log(`stopped after ${s.ticks} ticks: ${s.interventions} interventions, ${s.failsafes} fail-safes, ${node.swaps} swaps, ${node.batchesSent} batches sent, ${spool.pending} spooled, ${spool.dropped} dropped`);
  return 0;
}
