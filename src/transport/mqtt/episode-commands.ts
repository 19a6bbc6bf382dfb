/**
 * `rshield record --broker`: episodes started and stopped from the MQTT `cmd` topic
 * (record-start / record-stop), beside the profile's ROS episode topic. Every message passes
 * the command guard (signed by a trusted operator key, fresh, not replayed, not retained); a
 * refused one is counted and ignored, never half-applied.
 */
import type { CommandGuard } from '../../models/command-guard.js';
import type { Transport } from '../transport.js';
import { robotTopics } from './topics.js';

export interface EpisodeCommandOptions {
  readonly transport: Transport;
  /** The robot's name on the broker (topic level of rshield/v1/<robot>/cmd). */
  readonly robot: string;
  /** Called with 'start' or 'stop', as a message on the ROS episode topic would be. */
  readonly onEpisode: (command: 'start' | 'stop') => void;
  readonly guard: CommandGuard;
  readonly log?: (line: string) => void;
}

/** Refused payloads logged one by one before the log goes quiet (they are still counted). */
const LOGGED_INVALID = 5;

export class EpisodeCommands {
  readonly topic: string;
  /** record-start / record-stop applied. */
  applied = 0;
  /** Valid commands that mean nothing to a recorder (arm, disarm: it runs in pass-through). */
  ignored = 0;
  /** Payloads refused by the guard (invalid, retained, unsigned, stale, replayed, ...). */
  invalid = 0;
  readonly #opts: EpisodeCommandOptions;
  readonly #log: (line: string) => void;

  constructor(opts: EpisodeCommandOptions) {
    this.#opts = opts;
    this.#log = opts.log ?? (() => undefined);
    this.topic = robotTopics(opts.robot).cmd;
  }

  /** Subscribes; resolves once the broker acknowledged (or at once while offline: subscribed on connect). */
  async start(): Promise<void> {
    await this.#opts.transport.subscribe(this.topic, (_topic, payload, info) => this.handle(payload, info.retained));
  }

  /** One `cmd` message. */
  handle(payload: Uint8Array, retained = false): void {
    const r = this.#opts.guard.check(payload, retained);
    if (!r.ok) {
      this.invalid++;
      if (this.invalid <= LOGGED_INVALID) this.#log(`message on ${this.topic} refused (${this.invalid}${this.invalid === LOGGED_INVALID ? ', further ones counted only' : ''}): ${r.reason}`);
      return;
    }
    const c = r.cmd;
    const id = `${c.id !== undefined ? ` (id ${c.id})` : ''}, key ${r.keyId}`;
    switch (c.cmd) {
      case 'record-start':
      case 'record-stop':
        this.applied++;
        this.#log(`${c.cmd} from ${this.topic}${id}`);
        this.#opts.onEpisode(c.cmd === 'record-start' ? 'start' : 'stop');
        return;
      case 'arm':
      case 'disarm':
      case 'pin':
      case 'unpin':
      case 'rollback':
        this.ignored++;
        this.#log(`${c.cmd} from ${this.topic}${id} ignored: the recorder runs in pass-through, with no model`);
        return;
    }
  }

  /** One line for the exit summary. */
  summary(): string {
    return `${this.topic}: ${this.applied} applied, ${this.ignored} ignored, ${this.invalid} refused`;
  }
}
