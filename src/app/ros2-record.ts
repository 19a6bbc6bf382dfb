import { systemClock, type Clock } from '../core/clock.js';
import { RShieldError } from '../core/errors.js';
import { PassThroughShield } from '../core/shield-port.js';
import { resolveProfilePath } from '../config/profile.js';
import { CommandGuard } from '../models/command-guard.js';
import { ShieldState, defaultStateDir } from '../models/shield-state.js';
import { profileOperatorKeys, readPublicKeyFiles, uniqueKeys } from '../models/trust.js';
import { keyIdOf } from '../models/signing.js';
import { join } from 'node:path';
import { EpisodeCommands } from '../transport/mqtt/episode-commands.js';
import type { BrokerOptions } from '../transport/mqtt/connect-options.js';
import { openDemoRecording, type DemoRecording } from '../transport/ros2/open-demo-recording.js';
import type { RclModule } from '../transport/ros2/rclnodejs-api.js';
import type { ShieldNode } from '../transport/ros2/shield-node.js';
import type { MqttTransport } from '../transport/mqtt/mqtt-transport.js';
import { runRos2Shield } from './ros2-shield.js';

export interface RecordSession {
  readonly shield: ShieldNode;
  readonly recording: DemoRecording;
  /** The MQTT `cmd` subscriber, with --broker. */
  readonly commands: EpisodeCommands | undefined;
  /** Resolves once the `cmd` subscription is acknowledged (at once without --broker). */
  readonly subscribed: Promise<void>;
}

export interface RunRecordOptions {
  readonly rcl?: RclModule;
  readonly rosArgs?: readonly string[];
  /** Profile name or path (else the `profile` parameter). */
  readonly profile?: string;
  /** MCAP output (else the `record_out` parameter). */
  readonly out?: string;
  readonly autostart?: boolean;
  /** Also take record-start / record-stop from rshield/v1/<profile name>/cmd on this broker. */
  readonly broker?: BrokerOptions;
  /** Public keys of the operators whose signed record-start / record-stop are obeyed (beside the profile's commands.trustedKeys). */
  readonly operatorKeyFiles?: readonly string[];
  /**
   * Where the command nonces it obeyed are kept across restarts (with `broker`; default
   * $XDG_STATE_HOME/rshield/R/record, apart from the shield's own state).
   */
  readonly stateDir?: string;
  readonly signal?: AbortSignal;
  readonly clock?: Clock;
  readonly onStarted?: (session: RecordSession) => void;
  /** Recorder lines (default: stderr, prefixed 'rshield record: '). */
  readonly log?: (line: string) => void;
  /** The node's own lines (default: stderr). */
  readonly nodeLog?: (line: string) => void;
}

/**
 * `rshield record` (docs/ros2.md "Recording demos"): the shield node in pass-through with the
 * profile's hard limits, a DemoRecorder as its tap, episodes from the profile's ROS episode topic
 * and, with a broker, from the MQTT `cmd` topic. Exits 0 on SIGINT/SIGTERM after flushing.
 */
export async function runRecord(opts: RunRecordOptions): Promise<number> {
  const log = opts.log ?? ((line: string) => console.error(`rshield record: ${line}`));
  let transport: MqttTransport | undefined;
  const extraOperatorKeys = await readPublicKeyFiles('--operator-key', opts.operatorKeyFiles ?? []);
  if (opts.broker !== undefined) {
    // Loaded only with --broker: a plain ROS recording needs no MQTT client.
    const { MqttTransport } = await import('../transport/mqtt/mqtt-transport.js');
    const url = opts.broker.url;
    transport = MqttTransport.connect({ ...opts.broker, clientId: `rshield-record-${process.pid}` });
    let up = false;
    transport.onConnectionChange((connected) => {
      if (connected !== up) log(connected ? `connected to ${url}` : `lost ${url} (reconnecting; the ROS episode topic still works)`);
      up = connected;
    });
  }
  let recording: DemoRecording | undefined;
  let commands: EpisodeCommands | undefined;
  let subscribed: Promise<void> = Promise.resolve();
  let state: ShieldState | undefined;
  try {
    return await runRos2Shield({
      ...(opts.rcl ? { rcl: opts.rcl } : {}),
      ...(opts.rosArgs ? { rosArgs: opts.rosArgs } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.clock ? { clock: opts.clock } : {}),
      ...(opts.nodeLog ? { log: opts.nodeLog } : {}),
      nodeName: 'rshield_record',
      // Its --broker carries episode commands only: a recording streams nothing to a trainer.
      online: false,
      params: { ...(opts.profile !== undefined ? { profile: opts.profile } : {}), ...(opts.out !== undefined ? { record_out: opts.out } : {}) },
      shield: new PassThroughShield(3),
      makeTap: (p, params) => {
        if (params.record_out === '') throw new RShieldError('E_USAGE', 'no output: pass --out FILE.mcap (or the record_out parameter)');
        const rec = openDemoRecording(params.record_out, p, { ...(opts.autostart !== undefined ? { autostart: opts.autostart } : {}), log });
        recording = rec;
        log(`writing ${params.record_out}`);
        if (transport !== undefined) {
          const operatorKeys = uniqueKeys(profileOperatorKeys(p, resolveProfilePath(params.profile)), extraOperatorKeys);
          const guard = new CommandGuard({ robot: p.name, operatorKeys, clock: systemClock });
          const cmds = new EpisodeCommands({ transport, robot: p.name, onEpisode: (c) => rec.tap.onEpisode(c), guard, log });
          commands = cmds;
          // The nonces obeyed before a restart are loaded before the topic is subscribed, so a
          // command the last run obeyed is refused as replayed. The subscription is made once
          // connected, so `subscribed` means acknowledged by the broker (mqtt.js renews it on
          // every reconnect); a broker that refuses the connection turns commands off.
          const client = transport;
          subscribed = (async () => {
            state = await ShieldState.open(opts.stateDir ?? join(defaultStateDir(p.name), 'record'), p.name);
            const s = state;
            guard.restore(s.data.commandNonces, (seen) => void s.update({ commandNonces: [...seen] }));
            await client.waitConnected();
            await cmds.start();
          })();
          subscribed.catch((err: unknown) => log(`${cmds.topic}: commands off (recording goes on from the ROS topic): ${err instanceof Error ? err.message : String(err)}`));
          log(
            operatorKeys.length > 0
              ? `episodes also from MQTT ${cmds.topic} (record-start / record-stop signed by ${operatorKeys.map(keyIdOf).join(', ')})`
              : `MQTT ${cmds.topic}: commands disabled, no operator key (--operator-key, or commands.trustedKeys in the profile)`,
          );
        }
        return rec.tap;
      },
      beforeExit: () => {
        recording?.close();
        if (commands !== undefined) log(commands.summary());
      },
      onStarted: (shield) => {
        if (recording !== undefined) opts.onStarted?.({ shield, recording, commands, subscribed });
      },
    });
  } finally {
    recording?.close();
    // Nothing is published: no need to wait for in-flight messages (and a subscription queued
    // while the broker is down would hold a graceful close forever).
    await transport?.close({ force: true });
    await state?.flushed();
    if (state?.lastWriteError !== undefined) log(`state not saved: ${state.lastWriteError}`);
  }
}
