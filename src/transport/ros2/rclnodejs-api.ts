/**
 * The subset of the rclnodejs 2.x API this adapter uses, typed here so that rclnodejs stays an
 * optional dependency (imported only by load-rclnodejs.ts) and so that an in-repo fake
 * (test/transport/ros2/fake-rclnodejs.ts) can stand in for it with the same call signatures.
 * Signatures follow rclnodejs 2.2.0 types/*.d.ts and lib/*.js.
 */

/** builtin_interfaces/msg/Time as rclnodejs delivers it. */
export interface RosTime {
  sec: number;
  nanosec: number;
}

export interface RosHeader {
  stamp: RosTime;
  frame_id: string;
}

export interface RclClockTime {
  toMsg(): RosTime;
}

/** The opaque QoS object of rclnodejs (`new QoS(history, depth, reliability, durability)`). */
export type RclQoS = object;

export interface RclPubSubOptions {
  qos?: RclQoS | string;
  /** rclnodejs default true: numeric arrays arrive as typed arrays. */
  enableTypedArray?: boolean;
  /** The callback receives the serialized CDR (a Buffer) instead of a message object. */
  isRaw?: boolean;
}

export interface RclPublisher {
  /** A Buffer is published as is: serialized CDR with its encapsulation header (msgs/cdr-out.ts). */
  publish(message: object): void;
  readonly topic: string;
  /** Subscriptions DDS has matched to this publisher (0 until discovery completes). */
  readonly subscriptionCount: number;
  /**
   * Blocks until every matched RELIABLE subscription acknowledged what was published, or the
   * timeout (nanoseconds) passes; true when all was acknowledged.
   */
  waitForAllAcked(timeoutNs: bigint): boolean;
}

export interface RclLifecyclePublisher extends RclPublisher {
  activate(): void;
  deactivate(): void;
  isActivated(): boolean;
}

export interface RclSubscription {
  /** Publishers DDS has matched to this subscription (0 until discovery completes). */
  readonly publisherCount: number;
}

export interface RclTimer {
  cancel(): void;
  readonly isCanceled: boolean;
}

export interface RclParameter {
  readonly name: string;
  readonly type: number;
  readonly value: unknown;
}

export interface RclLogger {
  info(message: string): boolean | void;
  warn(message: string): boolean | void;
  error(message: string): boolean | void;
}

export interface RclNode {
  name(): string;
  namespace(): string;
  createPublisher(typeClass: string, topic: string, options?: RclPubSubOptions): RclPublisher;
  createSubscription(typeClass: string, topic: string, options: RclPubSubOptions, callback: (message: never) => void): RclSubscription;
  createTimer(period: bigint, callback: () => void): RclTimer;
  declareParameter(parameter: RclParameter): unknown;
  getParameter(name: string): RclParameter;
  now(): RclClockTime;
  getLogger(): RclLogger;
  spin(timeout?: number): void;
  destroy(): void;
}

/** lifecycle_msgs/msg/State as rclnodejs reports it. */
export interface RclLifecycleState {
  readonly id: number;
  readonly label: string;
}

export type RclLifecycleCallback = (previousState: RclLifecycleState) => number;

export interface RclLifecycleNode extends RclNode {
  createLifecyclePublisher(typeClass: string, topic: string, options?: RclPubSubOptions): RclLifecyclePublisher;
  registerOnConfigure(callback: RclLifecycleCallback): void;
  registerOnActivate(callback: RclLifecycleCallback): void;
  registerOnDeactivate(callback: RclLifecycleCallback): void;
  registerOnCleanup(callback: RclLifecycleCallback): void;
  registerOnShutdown(callback: RclLifecycleCallback): void;
  configure(): unknown;
  activate(): unknown;
  deactivate(): unknown;
  shutdown(): unknown;
  readonly currentState: RclLifecycleState;
}

export interface RclQoSClass {
  new (history?: number, depth?: number, reliability?: number, durability?: number): RclQoS;
}

export interface RclModule {
  init(context?: unknown, argv?: string[]): Promise<void>;
  shutdown(context?: unknown): void;
  isShutdown(context?: unknown): boolean;
  removeSignalHandlers(): void;
  removeROSArgs(argv: string[]): string[];
  Node: new (nodeName: string, namespace?: string) => RclNode;
  QoS: RclQoSClass;
  Parameter: new (name: string, type: number, value: unknown) => RclParameter;
  lifecycle: {
    LifecycleNode: new (nodeName: string, namespace?: string) => RclLifecycleNode;
  };
}

/** rcl QoS policy numbers (rmw/types.h), what rclnodejs's QoS constructor takes. */
export const QOS_HISTORY = { keep_last: 1, keep_all: 2 } as const;
export const QOS_RELIABILITY = { reliable: 1, best_effort: 2 } as const;
export const QOS_DURABILITY = { transient_local: 1, volatile: 2 } as const;

/** rcl_interfaces ParameterType numbers; the .d.ts declares a const enum, so use plain numbers. */
export const PARAMETER_TYPE = { bool: 1, integer: 2, double: 3, string: 4 } as const;

/** lifecycle_msgs CallbackReturn codes. */
export const CALLBACK_RETURN = { success: 97, failure: 98, error: 99 } as const;
