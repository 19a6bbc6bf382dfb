import { loadRobotProfile, resolveProfilePath, type RobotProfile } from '../config/profile.js';
import type { SwappableShieldPort } from '../core/shield-port.js';
import type { ModelBundle } from '../models/model-dir.js';
import type { BrokerOptions } from '../transport/mqtt/connect-options.js';
import type { Ros2Online } from './ros2-online.js';
import { ros2ModelTrust } from './ros2-trust.js';
import type { LocalModelTrust } from '../inference/local-model-trust.js';
import type { RosParams } from '../config/ros-params.js';
import type { Clock } from '../core/clock.js';
import { RShieldError } from '../core/errors.js';
import type { ImageFrame } from '../core/image-frame.js';
import { loadModelCard } from '../models/model-dir.js';
import type { ShieldPort } from '../core/shield-port.js';
import { loadRclnodejs } from '../transport/ros2/load-rclnodejs.js';
import { drain, untilStopped } from '../transport/ros2/process-lifetime.js';
import type { RclModule } from '../transport/ros2/rclnodejs-api.js';
import { declareRosParams } from '../transport/ros2/ros-params.js';
import { ShieldNode, type ShieldNodeTap } from '../transport/ros2/shield-node.js';
import type { FoxgloveLive } from './foxglove-live.js';
import { profileScene } from './profile-scene.js';

export interface RunRos2ShieldOptions {
  /** rclnodejs or a stand-in with the same API (tests); default: import rclnodejs. */
  readonly rcl?: RclModule;
  /** ROS arguments (`--ros-args …`), as rcl.init takes them after argv[0..1]. */
  readonly rosArgs?: readonly string[];
  /** Node name before any `-r __node:=` remap (default 'rshield'). */
  readonly nodeName?: string;
  /** Defaults for the ROS parameters; a params file or `-p` overrides them. */
  readonly params?: Partial<RosParams>;
  /** The shield; default: the ONNX Runtime Shield loaded from the `model_dir` parameter. */
  readonly shield?: ShieldPort;
  /** Builds the tap once the profile is known (record: a DemoRecorder). */
  readonly makeTap?: (profile: RobotProfile, params: RosParams) => ShieldNodeTap;
  /** Called after hold, before exit: flush recordings here. */
  readonly beforeExit?: () => void | Promise<void>;
  /** Stops the node as SIGINT would (tests). */
  readonly signal?: AbortSignal;
  readonly clock?: Clock;
  /** `online`: the node's link to the trainer, with the `broker` parameter. */
  readonly onStarted?: (node: ShieldNode, online: Ros2Online | undefined) => void;
  readonly log?: (line: string) => void;
  /** Whether the `broker` parameter starts the online link (default true; `rshield record` streams nothing). */
  readonly online?: boolean;
  /** Broker credentials for the `broker` parameter (default: RSHIELD_MQTT_USERNAME / RSHIELD_MQTT_PASSWORD). */
  readonly brokerAuth?: Omit<BrokerOptions, 'url'>;
  /** Transitions per MQTT batch (default 64). */
  readonly batchSize?: number;
}

interface ClosableShield extends ShieldPort {
  close?(): Promise<void>;
  readonly provider?: string;
  /** An image model's shield takes the camera frames. */
  pushFrame?(frame: ImageFrame): Promise<void>;
  readonly modelVersion?: string;
  readonly epsRisk?: number;
  /** The running model's card: its γ_risk turns on the TD-error sign of drift. */
  readonly card?: { readonly gammaRisk: number };
}

/** The shield of an image model (docs/images.md): needs the profile's camera; trusted like any other model. */
async function loadImageShield(params: RosParams, profile: RobotProfile, trust: LocalModelTrust): Promise<ClosableShield> {
  const { ImageShield } = await import('../inference/image-shield.js');
  const { deadlineForRate } = await import('../inference/shield.js');
  const cam = profile.topics.image;
  if (cam === undefined || profile.imageStaleAfterMs === undefined) {
    throw new RShieldError('E_CONFIG', `${params.model_dir} is an image model, but profile ${profile.name} has no topics.image (and imageStaleAfterMs): the shield needs the camera`, { robot: profile.name });
  }
  return ImageShield.load({
    trust,
    modelDir: params.model_dir,
    robot: profile.env,
    imageStaleAfterMs: profile.imageStaleAfterMs,
    deadlineUs: deadlineForRate(profile.tick.rateHz),
    ...(params.eps_risk >= 0 ? { epsRisk: params.eps_risk } : {}),
  });
}

/**
 * Taps of the node run side by side (a recording, the online link, the live view). Only the hooks
 * some tap has are set: the node decodes messages for `onMessage` only when one is there. The
 * per-tick hooks loop without closures (the tick path allocates nothing of its own).
 */
function joinTaps(...given: readonly (ShieldNodeTap | undefined)[]): ShieldNodeTap | undefined {
  const taps = given.filter((t): t is ShieldNodeTap => t !== undefined);
  if (taps.length <= 1) return taps[0];
  const having = (k: keyof ShieldNodeTap): ShieldNodeTap[] => taps.filter((t) => t[k] !== undefined);
  const message = having('onMessage');
  const tick = having('onTick');
  const state = having('onState');
  const episode = having('onEpisode');
  const hold = having('onHold');
  const faults = having('faults');
  const report = having('report');
  const joined: ShieldNodeTap = {};
  if (message.length > 0) joined.onMessage = (topic, type, m) => {
    for (const t of message) t.onMessage?.(topic, type, m);
  };
  if (tick.length > 0) joined.onTick = (info) => {
    for (const t of tick) t.onTick?.(info);
  };
  if (state.length > 0) joined.onState = (x, y, z) => {
    for (const t of state) t.onState?.(x, y, z);
  };
  if (episode.length > 0) joined.onEpisode = (c) => {
    for (const t of episode) t.onEpisode?.(c);
  };
  if (hold.length > 0) joined.onHold = (r) => {
    for (const t of hold) t.onHold?.(r);
  };
  if (faults.length > 0) joined.faults = () => faults.flatMap((t) => t.faults?.() ?? []);
  if (report.length > 0) joined.report = () => report.flatMap((t) => t.report?.() ?? []);
  return joined;
}

/** A shield that can take model versions (Shield, ImageShield; not record's pass-through). */
function isSwappable(port: ShieldPort): port is SwappableShieldPort<unknown, ModelBundle> {
  const p = port as Partial<SwappableShieldPort>;
  return typeof p.prepare === 'function' && typeof p.swap === 'function' && typeof p.release === 'function' && typeof p.modelVersion === 'string';
}

/** The node's ticks and holds as the live view's decisions. */
function liveTap(live: FoxgloveLive, shield: ClosableShield): ShieldNodeTap {
  let obs: ArrayLike<number> = new Float32Array(3);
  let proposed: ArrayLike<number> = new Float32Array(3);
  const still = new Float32Array(3);
  return {
    onTick: (tick) => {
      obs = tick.obs;
      proposed = tick.proposed;
      live.publish(tick.obs, tick.proposed, { action: tick.executed, qRisk: tick.qRisk, source: tick.source, failsafeReason: null }, shield.modelVersion ?? '');
    },
    onHold: (reason) => live.publish(obs, proposed, { action: still, qRisk: Number.NaN, source: 'failsafe', failsafeReason: reason }, shield.modelVersion ?? ''),
  };
}

async function loadShield(params: RosParams, profile: RobotProfile): Promise<ClosableShield> {
  if (params.model_dir === '') {
    throw new RShieldError('E_USAGE', 'no model: set the model_dir parameter (params file or -p model_dir:=DIR)', { robot: profile.name });
  }
  // Imported here so that record and sim never load ONNX Runtime.
  const { Shield, deadlineForRate } = await import('../inference/shield.js');
  // As on the MQTT path: a real arm runs only a model signed by a key its profile trusts.
  const requireSigned = params.require_signed || profile.kind !== 'sim';
  // An unreadable card is Shield.load's to report, with its trust checks first.
  const card = await loadModelCard(params.model_dir).catch(() => null);
  // The keys that sign the start model are those that sign every later version.
  const { keys } = await ros2ModelTrust(profile, resolveProfilePath(params.profile), params);
  if (card?.image !== undefined) return loadImageShield(params, profile, { requireSigned, keys });
  return Shield.load({
    trust: { requireSigned, keys },
    modelDir: params.model_dir,
    robot: profile.env,
    // The watchdog's deadline, from the profile's tick: a decision later than half a tick is hold.
    deadlineUs: deadlineForRate(profile.tick.rateHz),
    provider: params.provider,
    ...(params.eps_risk >= 0 ? { epsRisk: params.eps_risk } : {}),
    ...(params.worker_spin_us >= 0 ? { workerSpinUs: params.worker_spin_us } : {}),
    ...(params.wake_lead_us >= 0 ? { wakeLeadUs: params.wake_lead_us } : {}),
  });
}

/**
 * The `--transport ros2` path of `rshield run` (and of `rshield record`): starts rclnodejs, reads
 * the ROS parameters, loads the robot profile and the shield, runs the lifecycle node active
 * until SIGINT/SIGTERM, then publishes hold, flushes (beforeExit) and resolves 0.
 * Where rclnodejs cannot be loaded it throws one E_UNAVAILABLE line.
 */
export async function runRos2Shield(opts: RunRos2ShieldOptions = {}): Promise<number> {
  const log = opts.log ?? ((line: string) => console.error(line));
  const rcl = opts.rcl ?? (await loadRclnodejs());
  await rcl.init(undefined, ['node', 'rshield', ...(opts.rosArgs ?? [])]);
  let port: ClosableShield | undefined;
  let shield: ShieldNode | undefined;
  let live: FoxgloveLive | undefined;
  let online: Ros2Online | undefined;
  try {
    const node = new rcl.lifecycle.LifecycleNode(opts.nodeName ?? 'rshield');
    const params = declareRosParams(rcl, node, opts.params);
    const profile = loadRobotProfile(params.profile);
    port = opts.shield ?? (await loadShield(params, profile));
    if (params.foxglove_port >= 0) {
      // Loaded only when asked for: the WebSocket server stays out of every other shield.
      const { FoxgloveLive } = await import('./foxglove-live.js');
      live = await FoxgloveLive.start({ port: params.foxglove_port, host: params.foxglove_host, robot: profile.name, epsRisk: port.epsRisk ?? Number.NaN, scene: profileScene(profile) });
      log(`rshield: Foxglove live view on ${live.url} (open docs/foxglove-layout.json)`);
    }
    const running = port;
    if (params.broker !== '' && opts.online !== false) {
      const swappable: ShieldPort = port;
      if (!isSwappable(swappable)) throw new RShieldError('E_CONFIG', `the broker parameter needs a shield that takes model versions; this one (${port.constructor.name}) does not`, { robot: profile.name });
      const { Ros2Online } = await import('./ros2-online.js');
      online = await Ros2Online.open({
        profile, profileFile: resolveProfilePath(params.profile), params, shield: swappable, log,
        ...(opts.brokerAuth !== undefined ? { auth: opts.brokerAuth } : {}),
        ...(opts.batchSize !== undefined ? { batchSize: opts.batchSize } : {}),
      });
    }
    const tap = joinTaps(opts.makeTap?.(profile, params), online?.tap, live === undefined ? undefined : liveTap(live, port));
    shield = new ShieldNode({
      rcl,
      node,
      profile,
      shield: port,
      settings: {
        ...(params.tick_mode !== '' ? { tickMode: params.tick_mode } : {}),
        ...(params.rate_hz > 0 ? { rateHz: params.rate_hz } : {}),
        ...(params.stale_after_ms > 0 ? { staleAfterMs: params.stale_after_ms } : {}),
      },
      ...(opts.clock ? { clock: opts.clock } : {}),
      ...(tap !== undefined ? { tap } : {}),
      ...(port.pushFrame !== undefined ? { frames: { pushFrame: port.pushFrame.bind(port) } } : {}),
      log,
      ...(port.card !== undefined ? { drift: { gammaRisk: port.card.gammaRisk } } : {}),
      modelVersion: () => running.modelVersion ?? '',
      ...(online !== undefined ? { betweenTicks: online.betweenTicks } : {}),
    });
    online?.attach(shield);
    const stopped = untilStopped(rcl, opts.signal);
    node.spin();
    shield.start();
    online?.start();
    const t = profile.topics;
    log(
      `rshield: shielding ${profile.arm} (${profile.name}): ${t.commandIn.topic} → ${t.commandOut.topic}, ` +
        `${shield.settings.tickMode} ticks, stale after ${shield.settings.staleAfterMs} ms` +
        (port.provider !== undefined ? `, ONNX Runtime on ${port.provider}` : '') +
        (port.pushFrame !== undefined && t.image !== undefined ? `, camera ${t.image.topic} (${t.image.encoding})` : ''),
    );
    opts.onStarted?.(shield, online);
    const why = await stopped;
    log(`rshield: ${why}: hold, flush, exit`);
    shield.hold('shutdown');
    await drain();
    await opts.beforeExit?.();
    await online?.stop();
    return 0;
  } finally {
    await online?.stop();
    await live?.close();
    await port?.close?.();
    if (!rcl.isShutdown()) rcl.shutdown();
  }
}
