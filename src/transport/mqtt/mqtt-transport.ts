/**
 * The Transport over an MQTT broker (mqtt.js). Connecting never blocks the caller: the shield
 * starts ticking with the broker down and mqtt.js keeps reconnecting. Subscriptions survive
 * reconnects; the last will is set at connect time.
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { RShieldError } from '../../core/errors.js';
import type { MessageHandler, PublishOptions, Transport } from '../transport.js';

export interface MqttTransportOptions {
  /** mqtt://host:port (or mqtts://, ws://). */
  readonly url: string;
  readonly clientId?: string;
  readonly username?: string;
  readonly password?: string;
  /** Published by the broker when this client drops without a clean disconnect. */
  readonly will?: { readonly topic: string; readonly payload: string; readonly retain: boolean; readonly qos: 0 | 1 };
  /** false keeps the broker-side session (queued QoS 1 messages) across disconnects; needs a fixed clientId. */
  readonly clean?: boolean;
  readonly reconnectPeriodMs?: number;
  readonly connectTimeoutMs?: number;
}

/** How long a graceful close waits for in-flight QoS ≥ 1 publishes to be acknowledged. */
export const CLOSE_GRACE_MS = 2000;

/** MQTT topic filter match with `+` (one level) and `#` (the rest). */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    const level = f[i];
    if (level === '#') return true;
    if (i >= t.length) return false;
    if (level !== '+' && level !== t[i]) return false;
  }
  return f.length === t.length;
}

export class MqttTransport implements Transport {
  private readonly client: MqttClient;
  private readonly handlers: { filter: string; handler: MessageHandler }[] = [];
  private readonly listeners: ((connected: boolean) => void)[] = [];
  private lastErr: Error | undefined;
  private closed = false;

  private constructor(client: MqttClient) {
    this.client = client;
    client.on('connect', () => this.listeners.forEach((l) => l(true)));
    client.on('close', () => this.listeners.forEach((l) => l(false)));
    // mqtt.js emits 'error' for refused connections (bad credentials, ...): keep it, never crash.
    client.on('error', (err) => {
      this.lastErr = err;
    });
    client.on('message', (topic, payload, packet) => {
      // MQTT 3.1.1 §3.3.1.3: the flag is set only on a stored message sent because of a new subscription.
      const info = { retained: packet.retain };
      for (const h of this.handlers) if (topicMatches(h.filter, topic)) h.handler(topic, payload, info);
    });
  }

  /** Starts connecting and returns at once; see `waitConnected`. */
  static connect(options: MqttTransportOptions): MqttTransport {
    const opts: IClientOptions = {
      clean: options.clean ?? true,
      reconnectPeriod: options.reconnectPeriodMs ?? 1000,
      connectTimeout: options.connectTimeoutMs ?? 5000,
      protocolVersion: 4,
      ...(options.clientId !== undefined ? { clientId: options.clientId } : {}),
      ...(options.username !== undefined ? { username: options.username } : {}),
      ...(options.password !== undefined ? { password: options.password } : {}),
      ...(options.will !== undefined ? { will: { ...options.will } } : {}),
    };
    let client: MqttClient;
    try {
      client = mqtt.connect(options.url, opts);
    } catch (err) {
      throw new RShieldError('E_TRANSPORT', `cannot connect to broker ${options.url}: ${(err as Error).message}`, { broker: options.url });
    }
    return new MqttTransport(client);
  }

  get connected(): boolean {
    return this.client.connected;
  }

  /** The last error mqtt.js reported (e.g. "Connection refused: Not authorized"). */
  get lastError(): Error | undefined {
    return this.lastErr;
  }

  /** Resolves on the next successful connection (at once when connected); rejects on a refused one. */
  async waitConnected(): Promise<void> {
    if (this.client.connected) return;
    await new Promise<void>((resolve, reject) => {
      const onConnect = (): void => {
        this.client.off('error', onError);
        resolve();
      };
      const onError = (err: Error): void => {
        // Refusals by the broker (auth, ACL) are final; socket errors are retried by mqtt.js.
        if ('code' in err && typeof err.code === 'number') {
          this.client.off('connect', onConnect);
          reject(new RShieldError('E_TRANSPORT', `broker refused the connection: ${err.message}`, { code: err.code }));
        }
      };
      this.client.once('connect', onConnect);
      this.client.on('error', onError);
    });
  }

  /** waitConnected, or E_TRANSPORT naming `url` (and mqtt.js's last error) after `ms`: for one-shot commands. */
  async waitConnectedWithin(ms: number, url: string): Promise<void> {
    let giveUp: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.waitConnected(),
      new Promise((_, reject) => {
        giveUp = setTimeout(() => reject(new RShieldError('E_TRANSPORT', `no connection to ${url} within ${ms / 1000} s${this.lastErr !== undefined ? `: ${this.lastErr.message}` : ''}`)), ms);
      }),
    ]).finally(() => clearTimeout(giveUp));
  }

  async publish(topic: string, payload: Uint8Array | string, options: PublishOptions = {}): Promise<void> {
    try {
      await this.client.publishAsync(topic, typeof payload === 'string' ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength), {
        qos: options.qos ?? 0,
        retain: options.retain ?? false,
      });
    } catch (err) {
      throw new RShieldError('E_TRANSPORT', `publish to ${topic} failed: ${(err as Error).message}`, { topic });
    }
  }

  async subscribe(filter: string, handler: MessageHandler): Promise<void> {
    this.handlers.push({ filter, handler });
    if (!this.client.connected) {
      // Subscribed on connect: mqtt.js queues it and resubscribes after every reconnect.
      this.client.subscribe(filter, { qos: 1 });
      return;
    }
    try {
      await this.client.subscribeAsync(filter, { qos: 1 });
    } catch (err) {
      throw new RShieldError('E_TRANSPORT', `subscribe to ${filter} failed: ${(err as Error).message}`, { topic: filter });
    }
  }

  onConnectionChange(listener: (connected: boolean) => void): void {
    this.listeners.push(listener);
  }

  /** Disconnects cleanly (no last will). `force` drops in-flight messages. */
  /**
   * Disconnects. A graceful close waits for the QoS ≥ 1 publishes in flight to be acknowledged,
   * at most `graceMs` (default CLOSE_GRACE_MS), then ends the connection anyway: mqtt.js's own
   * graceful end stops reconnecting and then waits for those acknowledgements without a bound,
   * so with the broker away (or just back, not yet reconnected) it never returned. What was
   * not acknowledged is the caller's to keep (the spool deletes a batch only on its PUBACK).
   */
  async close(options: { force?: boolean; graceMs?: number } = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const c = this.client;
    const inFlight = (): boolean => Object.keys(c.outgoing).length > 0;
    if (options.force !== true && c.connected && inFlight()) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          c.off('outgoingEmpty', done);
          c.off('close', done);
          resolve();
        };
        const timer = setTimeout(done, options.graceMs ?? CLOSE_GRACE_MS);
        c.on('outgoingEmpty', done);
        c.on('close', done);
      });
    }
    await c.endAsync(options.force === true || !c.connected || inFlight());
  }
}
