/**
 * The ROS 2 shield in the online loop (docs/ros2.md "Online: shield and trainer"): with the
 * `broker` parameter the shield node gets an OnlineLink (src/transport/mqtt/online-link.ts).
 * Executed ticks are labelled as `rshield record` labels them (EpisodeLabeler: c = C(s′) from
 * the profile's constraints, a violation ends an episode) and streamed to the trainer through the
 * on-disk spool; signed model versions from the trainer are verified, prepared beside the running
 * model and swapped in between ticks; status and telemetry go to the broker, the link's state to
 * /diagnostics. The broker being down, at start or later, never holds up a tick.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RobotProfile } from '../config/profile.js';
import { listParam, type RosParams } from '../config/ros-params.js';
import { systemClock, type Clock, type Timer } from '../core/clock.js';
import { RShieldError } from '../core/errors.js';
import type { SwappableShieldPort } from '../core/shield-port.js';
import { CommandGuard } from '../models/command-guard.js';
import type { ModelBundle } from '../models/model-dir.js';
import { ShieldState, defaultStateDir } from '../models/shield-state.js';
import { keyIdOf } from '../models/signing.js';
import { profileOperatorKeys, readPublicKeyFiles, uniqueKeys } from '../models/trust.js';
import { ros2ModelTrust } from './ros2-trust.js';
import type { BrokerOptions } from '../transport/mqtt/connect-options.js';
import { ModelReceiver } from '../transport/mqtt/model-transfer.js';
import { MqttTransport } from '../transport/mqtt/mqtt-transport.js';
import { OnlineLink, offlineStatus } from '../transport/mqtt/online-link.js';
import { TransitionSpool } from '../transport/mqtt/spool.js';
import { robotTopics } from '../transport/mqtt/topics.js';
import { EpisodeLabeler } from '../transport/ros2/episode-labeler.js';
import type { ShieldNode, ShieldNodeTap } from '../transport/ros2/shield-node.js';

/** The ROS 2 shield's sizes: the tip position and its displacement. */
const DIM = 3;

/** Log lines of one kind said this often, then only counted (a flood must not flood the log). */
const LOGGED_REFUSALS = 5;

export interface Ros2OnlineOptions {
  readonly profile: RobotProfile;
  /** The profile's file: key paths in it are relative to it. */
  readonly profileFile: string;
  readonly params: RosParams;
  /** The running shield: takes model versions. */
  readonly shield: SwappableShieldPort<unknown, ModelBundle>;
  /** Credentials for params.broker (the URL); default from RSHIELD_MQTT_USERNAME / RSHIELD_MQTT_PASSWORD. */
  readonly auth?: Omit<BrokerOptions, 'url'>;
  readonly log: (line: string) => void;
  /** Telemetry's clock and beat; tests pass their own. */
  readonly clock?: Clock;
  readonly timer?: Timer;
  /** Transitions per batch (default 64). */
  readonly batchSize?: number;
}

/** The online side of one ROS 2 shield, made before its node and attached to it. */
export class Ros2Online {
  readonly link: OnlineLink;
  /** The node's tap: labels executed ticks into the link, reports the link on /diagnostics. */
  readonly tap: ShieldNodeTap;
  readonly #transport: MqttTransport;
  readonly #state: ShieldState;
  readonly #spool: TransitionSpool;
  readonly #labeler: EpisodeLabeler;
  readonly #log: (line: string) => void;
  readonly #url: string;
  #node: ShieldNode | undefined;
  #swapping = false;
  #stopped = false;

  private constructor(link: OnlineLink, transport: MqttTransport, state: ShieldState, spool: TransitionSpool, labeler: EpisodeLabeler, log: (line: string) => void, url: string) {
    this.link = link;
    this.#transport = transport;
    this.#state = state;
    this.#spool = spool;
    this.#labeler = labeler;
    this.#log = log;
    this.#url = url;
    const l = labeler;
    this.tap = {
      onState: (x, y, z) => l.state(x, y, z),
      onTick: (tick) => l.tick(tick.obs, tick.executed),
      onHold: () => l.hold(),
      onEpisode: (command) => l.episode(command),
      faults: () => link.faults(),
      report: () => [...link.report(), ['online_episodes', String(l.episodes)], ['online_violations', String(l.violations)]],
    };
  }

  /** Opens the state, spool and model receiver and starts connecting (never waits for the broker). */
  static async open(o: Ros2OnlineOptions): Promise<Ros2Online> {
    const { profile, params, shield, log } = o;
    if (params.broker === '') throw new RShieldError('E_USAGE', 'the online link needs the broker parameter', { robot: profile.name });
    // The trainer, the model card and the topic tree name the robot by the model's robot (the profile's env).
    const robot = profile.env;
    const trust = await ros2ModelTrust(profile, o.profileFile, params);
    const operatorKeys = uniqueKeys(profileOperatorKeys(profile, o.profileFile), await readPublicKeyFiles('operator_keys', listParam(params.operator_keys)));
    const state = await ShieldState.open(params.state_dir !== '' ? params.state_dir : defaultStateDir(profile.name), profile.name);
    const spoolDir = params.spool_dir !== '' ? params.spool_dir : join(tmpdir(), 'rshield-spool', profile.name);
    const spool = await TransitionSpool.open({ dir: spoolDir, maxBatches: 10_000, maxBytes: 512 * 1024 * 1024 });
    const receiver = new ModelReceiver({
      robot,
      obsDim: DIM,
      actDim: DIM,
      trustedKeys: trust.keys,
      allowUnsigned: trust.allowUnsigned,
      // The newest sequence outlives the process: a version older than one accepted before a restart stays refused.
      startSequence: state.data.modelSequence,
      ...(state.data.modelVersion !== '' ? { startVersion: state.data.modelVersion } : {}),
      onAccepted: (sequence, version) => state.update({ modelSequence: sequence, modelVersion: version }),
      stagingDir: join(spoolDir, '..', `rshield-models-${profile.name}-${process.pid}`),
      ...(params.model_store !== '' ? { storeDir: params.model_store } : {}),
    });
    const username = o.auth?.username ?? process.env['RSHIELD_MQTT_USERNAME'];
    const password = o.auth?.password ?? process.env['RSHIELD_MQTT_PASSWORD'];
    const transport = MqttTransport.connect({
      url: params.broker,
      ...(username !== undefined ? { username } : {}),
      ...(password !== undefined ? { password } : {}),
      clientId: `rshield-ros2-${profile.name}-${process.pid}`,
      will: { topic: robotTopics(robot).status, payload: offlineStatus(robot), retain: true, qos: 1 },
    });
    const commands = new CommandGuard({
      robot,
      operatorKeys,
      clock: systemClock,
      seen: state.data.commandNonces,
      remember: (seen) => void state.update({ commandNonces: [...seen] }),
    });
    // The link asks the node (attached later) for the arm state and drift.
    const host: { online?: Ros2Online } = {};
    const node = (): ShieldNode | undefined => host.online?.node;
    const link = new OnlineLink({
      robot,
      obsDim: DIM,
      actDim: DIM,
      shield,
      transport,
      spool,
      receiver,
      commands,
      ...(params.model_dir !== '' ? { startModelDir: params.model_dir } : {}),
      ...(o.clock !== undefined ? { clock: o.clock } : {}),
      ...(o.timer !== undefined ? { timer: o.timer } : {}),
      ...(o.batchSize !== undefined ? { batchSize: o.batchSize } : {}),
      arm: {
        armed: () => node()?.active ?? false,
        ignoredBecause: `the ROS 2 shield is armed by its lifecycle state (ros2 lifecycle set /rshield activate | deactivate), not by an MQTT command`,
      },
      drift: () => node()?.drift().stats ?? { transitions: 0, violations: 0, missedViolations: 0, tdErrorRms: null, suspected: false },
    });
    const startEpochNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
    // Streaming from the start: every executed tick out of violation begins or continues an episode.
    const labeler = new EpisodeLabeler({ sink: link, constraints: profile.constraints, nowNs: () => startEpochNs + process.hrtime.bigint(), autostart: true });
    const online = new Ros2Online(link, transport, state, spool, labeler, log, params.broker);
    host.online = online;
    online.#logEvents(trust, operatorKeys.map(keyIdOf), spoolDir, state.file);
    return online;
  }

  get node(): ShieldNode | undefined {
    return this.#node;
  }

  /** The node whose ticks are labelled and whose lifecycle is the arm state. */
  attach(node: ShieldNode): void {
    this.#node = node;
  }

  /** The node's betweenTicks hook: a prepared version goes in (Shield.swap installs it before the next decision). */
  readonly betweenTicks = (): void => {
    if (!this.link.swapPending || this.#swapping) return;
    this.#swapping = true;
    this.link
      .applyPendingSwap()
      .catch((err: unknown) => this.#log(`rshield: model swap failed: ${err instanceof Error ? err.message : String(err)}`))
      .finally(() => (this.#swapping = false));
  };

  /** Subscribes (queued while the broker is down) and starts telemetry; a refused subscription is logged, shielding goes on. */
  start(): void {
    this.link.start().catch((err: unknown) => this.#log(`rshield: online link: ${err instanceof Error ? err.message : String(err)} (shielding goes on)`));
  }

  /** Closes the open episode, flushes the spool, says offline, gives acknowledgements up to `drainMs`, disconnects. */
  async stop(drainMs = 2000): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#labeler.finish();
    await this.link.stop();
    if (this.#transport.connected) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([this.link.drained(), new Promise((r) => (timer = setTimeout(r, drainMs)))]);
      clearTimeout(timer);
    }
    await this.#transport.close({ force: !this.#transport.connected });
    await this.#state.flushed();
    if (this.#state.lastWriteError !== undefined) this.#log(`rshield: state not saved: ${this.#state.lastWriteError}`);
    const l = this.link;
    this.#log(`rshield: online: ${l.transitionsCollected} transitions, ${l.batchesSent} batches sent, ${this.#spool.pending} spooled, ${l.swaps} swaps, ${l.swapFailures} versions refused`);
  }

  #logEvents(trust: { keys: readonly unknown[]; allowUnsigned: boolean }, operatorIds: readonly string[], spoolDir: string, stateFile: string): void {
    const log = this.#log;
    const link = this.link;
    log(
      `rshield: online with ${this.#url} as ${link.robot}: transitions to ${link.topics.transitions} (spool ${spoolDir}), model versions from ${link.topics.model} ` +
        `(${trust.keys.length > 0 ? `signed by ${trust.keys.length} trusted key${trust.keys.length > 1 ? 's' : ''}` : 'no trusted key: signed versions are refused'}, unsigned ${trust.allowUnsigned ? 'accepted' : 'refused'}); ` +
        `commands ${operatorIds.length > 0 ? `signed by ${operatorIds.join(', ')}` : 'disabled (no operator key)'}; state ${stateFile}`,
    );
    let up = false;
    this.#transport.onConnectionChange((connected) => {
      if (connected !== up) log(connected ? `rshield: connected to ${this.#url}` : `rshield: lost ${this.#url} (reconnecting; shielding goes on, transitions wait in the spool)`);
      up = connected;
    });
    link.on('prepared', (v) => log(`rshield: model ${v} verified and prepared; swapped in between ticks`));
    link.on('swapped', (v) => log(`rshield: model ${v} swapped in`));
    let refused = 0;
    link.on('swapFailed', (v, why) => {
      if (++refused <= LOGGED_REFUSALS) log(`rshield: model ${v} refused: ${why}${refused === LOGGED_REFUSALS ? ' (further refusals counted only, on /diagnostics)' : ''}`);
    });
    let cmdRefused = 0;
    link.on('cmdRefused', (_why, reason) => {
      if (++cmdRefused <= LOGGED_REFUSALS) log(`rshield: ${reason}${cmdRefused === LOGGED_REFUSALS ? ' (further refusals counted only)' : ''}`);
    });
    link.on('cmdIgnored', (cmd, why) => log(`rshield: ${cmd.cmd} ignored: ${why}`));
    link.on('cmd', (cmd) => {
      if (cmd.cmd !== 'arm' && cmd.cmd !== 'disarm') log(`rshield: ${cmd.cmd}${cmd.id !== undefined ? ` (id ${cmd.id})` : ''}`);
    });
    link.on('diskFault', (reason) => log(`rshield: transition spool stopped writing: ${reason} (shielding goes on)`));
  }
}
