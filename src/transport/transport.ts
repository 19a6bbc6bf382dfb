/**
 * The bus every adapter (inproc, mqtt, ros2) offers the shield and the trainer: publish bytes
 * on a topic, receive bytes for a topic filter, know whether the link is up. Deliberately small:
 * payload meaning (JSON, binary batches) lives with the callers, not here.
 */
export interface PublishOptions {
  /** 0: at most once; 1: at least once (acknowledged). */
  readonly qos?: 0 | 1;
  /** The broker keeps the last retained message of a topic for late subscribers. */
  readonly retain?: boolean;
}

/** How a message arrived: `retained` when the broker replayed its stored copy on subscribe. */
export interface MessageInfo {
  readonly retained: boolean;
}

export type MessageHandler = (topic: string, payload: Uint8Array, info: MessageInfo) => void;

export interface Transport {
  /** True while the link to the bus is up. */
  readonly connected: boolean;
  /** Resolves when the message is handed over (QoS 1: acknowledged). Rejects with E_TRANSPORT. */
  publish(topic: string, payload: Uint8Array | string, options?: PublishOptions): Promise<void>;
  /** Subscribes a topic filter (MQTT wildcards `+` and `#`); kept across reconnects. */
  subscribe(filter: string, handler: MessageHandler): Promise<void>;
  /** Called with true on every (re)connection and false on every loss of the link. */
  onConnectionChange(listener: (connected: boolean) => void): void;
  close(): Promise<void>;
}
