/**
 * An in-repo fake of the rclnodejs 2.x API subset in src/transport/ros2/rclnodejs-api.ts, faithful
 * where the adapter depends on it:
 * - messages are delivered asynchronously (next macrotask) and only to spinning nodes, after a
 *   CDR round trip against the official .msg definitions — so subscribers see what rclnodejs
 *   delivers: Float64Array for float64[], Uint8Array for uint8[], bigint for int64;
 * - a BEST_EFFORT publisher does not reach a RELIABLE subscription (DDS QoS matching);
 * - lifecycle publishers drop messages until activated;
 * - `subscriptionCount` / `publisherCount` count matched endpoints (same type, compatible QoS,
 *   live node); discovery is instant here, so waiting for it costs nothing;
 * - `--ros-args --params-file F` and `-p n:=v` in init's argv become parameter overrides, and only
 *   the `/**` and bare-node-name keys of a params file count, as in rclnodejs (lib/node.js);
 * - timers run on a manual clock (`FakeRos.advance(ms)`), so staleness tests need no sleeping.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { Clock } from '../../../src/core/clock.js';
import { cdrCodec } from '../../../src/transport/ros2/msgs/cdr-codec.js';
import { isRosMsgType } from '../../../src/transport/ros2/msgs/definitions.js';
import type {
  RclClockTime,
  RclLifecycleCallback,
  RclLifecycleNode,
  RclLifecyclePublisher,
  RclLifecycleState,
  RclLogger,
  RclModule,
  RclNode,
  RclParameter,
  RclPubSubOptions,
  RclPublisher,
  RclTimer,
} from '../../../src/transport/ros2/rclnodejs-api.js';

class FakeQoS {
  constructor(
    readonly history = 0,
    readonly depth = 0,
    readonly reliability = 0,
    readonly durability = 0,
  ) {}
}

/** rmw default profile (KEEP_LAST 10, RELIABLE, VOLATILE). */
const DEFAULT_QOS = new FakeQoS(1, 10, 1, 2);

function qosOf(options: RclPubSubOptions | undefined): FakeQoS {
  const q = options?.qos;
  if (q instanceof FakeQoS) return q;
  if (q === 'qos_profile_sensor_data') return new FakeQoS(1, 5, 2, 2);
  return DEFAULT_QOS;
}

class FakeParameter implements RclParameter {
  constructor(
    readonly name: string,
    readonly type: number,
    readonly value: unknown,
  ) {}
}

interface SubEntry {
  readonly node: FakeNode;
  readonly type: string;
  readonly qos: FakeQoS;
  /** isRaw: the callback gets the serialized CDR, as rclnodejs delivers it. */
  readonly raw: boolean;
  readonly callback: (m: never) => void;
  readonly publisherCount: number;
}

/** DDS matching: same type, and no RELIABLE reader behind a BEST_EFFORT writer. */
function matches(pub: FakePublisher, sub: SubEntry): boolean {
  return sub.type === pub.type && !(sub.qos.reliability === 1 && pub.qos.reliability === 2) && !sub.node.destroyed && !pub.node.destroyed;
}

interface TimerEntry extends RclTimer {
  periodMs: number;
  dueMs: number;
  readonly callback: () => void;
  isCanceled: boolean;
}

/** The shared "ROS graph" of one fake process: topics, clock, parameters. */
export class FakeRos {
  /** Manual clock, milliseconds; ROS time is this plus `epochMs`. */
  nowMs = 0;
  epochMs = 1_700_000_000_000;
  readonly subs = new Map<string, SubEntry[]>();
  readonly pubs = new Map<string, FakePublisher[]>();
  readonly timers: TimerEntry[] = [];
  readonly nodes: FakeNode[] = [];
  readonly published: { topic: string; type: string; message: object }[] = [];
  overrides: Record<string, Record<string, unknown>> = {};
  #queue: (() => void)[] = [];
  #flushScheduled = false;

  enqueue(delivery: () => void): void {
    this.#queue.push(delivery);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.#flushScheduled = false;
    const q = this.#queue;
    this.#queue = [];
    for (const d of q) d();
  }

  /** Moves the clock forward, firing due timers in time order, and delivering their messages. */
  async advance(ms: number): Promise<void> {
    const end = this.nowMs + ms;
    for (;;) {
      let next: TimerEntry | undefined;
      for (const t of this.timers) if (!t.isCanceled && t.dueMs <= end && (next === undefined || t.dueMs < next.dueMs)) next = t;
      if (next === undefined) break;
      this.nowMs = Math.max(this.nowMs, next.dueMs);
      next.dueMs += next.periodMs;
      next.callback();
      await settle();
    }
    this.nowMs = end;
    await settle();
  }
}

/** The fake's manual clock as a core Clock. Never 0: the core reads a zero time as "never received". */
export function fakeClock(ros: FakeRos): Clock {
  return { nowMs: () => ros.epochMs + ros.nowMs, monotonicUs: () => (ros.epochMs + ros.nowMs) * 1000 };
}

/** Lets queued deliveries and promise continuations run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((r) => setImmediate(r));
}

class FakePublisher implements RclPublisher {
  constructor(
    protected readonly ros: FakeRos,
    readonly node: FakeNode,
    readonly type: string,
    readonly topic: string,
    readonly qos: FakeQoS,
  ) {
    const list = ros.pubs.get(topic) ?? [];
    list.push(this);
    ros.pubs.set(topic, list);
  }

  get subscriptionCount(): number {
    return (this.ros.subs.get(this.topic) ?? []).filter((s) => matches(this, s)).length;
  }

  /** Deliveries are in-process: everything published is "acknowledged" once delivered. */
  waitForAllAcked(): boolean {
    this.ros.flush();
    return true;
  }

  publish(message: object): void {
    if (!isRosMsgType(this.type)) throw new TypeError(`fake rclnodejs: no definition for ${this.type}`);
    // The round trip both checks the message against its definition (as rclnodejs's
    // serialization would fail) and reshapes it the way rclnodejs delivers it.
    // A Buffer is a message serialized by the caller (rclnodejs publishes it raw): decoding it
    // here checks the caller's CDR against the definition. Copied: callers reuse theirs.
    const codec = cdrCodec(this.type);
    const bytes = message instanceof Uint8Array ? Uint8Array.from(message) : codec.encode(message);
    // Bytes that are not this type reach raw subscriptions only (rmw cannot deserialize them).
    let decoded: object | null = null;
    try {
      decoded = codec.decode<object>(bytes);
    } catch {
      decoded = null;
    }
    if (decoded !== null) this.ros.published.push({ topic: this.topic, type: this.type, message: decoded });
    for (const sub of this.ros.subs.get(this.topic) ?? []) {
      if (!matches(this, sub) || (decoded === null && !sub.raw)) continue;
      this.ros.enqueue(() => {
        if (sub.node.spinning && !sub.node.destroyed) sub.callback((sub.raw ? Buffer.from(bytes) : codec.decode(bytes)) as never);
      });
    }
  }
}

class FakeLifecyclePublisher extends FakePublisher implements RclLifecyclePublisher {
  #active = false;
  activate(): void {
    this.#active = true;
  }
  deactivate(): void {
    this.#active = false;
  }
  isActivated(): boolean {
    return this.#active;
  }
  override publish(message: object): void {
    if (this.#active) super.publish(message);
  }
}

const silentLogger: RclLogger = { info: () => true, warn: () => true, error: () => true };

class FakeNode implements RclNode {
  spinning = false;
  destroyed = false;
  readonly #params = new Map<string, RclParameter>();

  constructor(
    protected readonly ros: FakeRos,
    readonly nodeName: string,
    readonly ns = '/',
  ) {
    ros.nodes.push(this);
  }

  name(): string {
    return this.nodeName;
  }
  namespace(): string {
    return this.ns;
  }

  #resolve(topic: string): string {
    if (topic.startsWith('/')) return topic;
    return `${this.ns === '/' ? '' : this.ns}/${topic}`;
  }

  createPublisher(typeClass: string, topic: string, options?: RclPubSubOptions): RclPublisher {
    return new FakePublisher(this.ros, this, typeClass, this.#resolve(topic), qosOf(options));
  }

  createSubscription(typeClass: string, topic: string, options: RclPubSubOptions | ((m: never) => void), callback?: (m: never) => void): SubEntry {
    const [opts, cb] = typeof options === 'function' ? [undefined, options] : [options, callback];
    if (cb === undefined) throw new TypeError('fake rclnodejs: createSubscription needs a callback');
    const name = this.#resolve(topic);
    const ros = this.ros;
    const entry: SubEntry = {
      node: this,
      type: typeClass,
      qos: qosOf(opts),
      raw: opts?.isRaw === true,
      callback: cb,
      get publisherCount() {
        return (ros.pubs.get(name) ?? []).filter((p) => matches(p, entry)).length;
      },
    };
    const list = this.ros.subs.get(name) ?? [];
    list.push(entry);
    this.ros.subs.set(name, list);
    return entry;
  }

  createTimer(period: bigint, callback: () => void): RclTimer {
    if (typeof period !== 'bigint') throw new TypeError('fake rclnodejs: timer period must be a bigint of nanoseconds');
    const periodMs = Number(period) / 1e6;
    const timer: TimerEntry = {
      periodMs,
      dueMs: this.ros.nowMs + periodMs,
      callback: () => {
        if (this.spinning && !this.destroyed) callback();
      },
      isCanceled: false,
      cancel() {
        this.isCanceled = true;
      },
    };
    this.ros.timers.push(timer);
    return timer;
  }

  declareParameter(parameter: RclParameter): RclParameter {
    const over = this.ros.overrides['/**']?.[parameter.name] ?? this.ros.overrides[this.nodeName]?.[parameter.name];
    let p = parameter;
    if (over !== undefined) {
      const value = typeof over === 'number' && Number.isInteger(over) && parameter.type === 2 ? BigInt(over) : over;
      p = new FakeParameter(parameter.name, parameter.type, value);
    }
    this.#params.set(p.name, p);
    return p;
  }

  getParameter(name: string): RclParameter {
    const p = this.#params.get(name);
    if (p === undefined) throw new Error(`fake rclnodejs: parameter '${name}' was not declared`);
    return p;
  }

  now(): RclClockTime {
    const t = this.ros.epochMs + this.ros.nowMs;
    return { toMsg: () => ({ sec: Math.floor(t / 1000), nanosec: Math.round((t % 1000) * 1e6) }) };
  }

  getLogger(): RclLogger {
    return silentLogger;
  }

  spin(): void {
    this.spinning = true;
  }

  destroy(): void {
    this.destroyed = true;
    this.spinning = false;
  }
}

const STATES = {
  unconfigured: { id: 1, label: 'unconfigured' },
  inactive: { id: 2, label: 'inactive' },
  active: { id: 3, label: 'active' },
  finalized: { id: 4, label: 'finalized' },
} as const satisfies Record<string, RclLifecycleState>;

class FakeLifecycleNode extends FakeNode implements RclLifecycleNode {
  currentState: RclLifecycleState = STATES.unconfigured;
  readonly #callbacks = new Map<string, RclLifecycleCallback>();

  createLifecyclePublisher(typeClass: string, topic: string, options?: RclPubSubOptions): RclLifecyclePublisher {
    const resolved = topic.startsWith('/') ? topic : `${this.ns === '/' ? '' : this.ns}/${topic}`;
    return new FakeLifecyclePublisher(this.ros, this, typeClass, resolved, qosOf(options));
  }

  registerOnConfigure(cb: RclLifecycleCallback): void {
    this.#callbacks.set('configure', cb);
  }
  registerOnActivate(cb: RclLifecycleCallback): void {
    this.#callbacks.set('activate', cb);
  }
  registerOnDeactivate(cb: RclLifecycleCallback): void {
    this.#callbacks.set('deactivate', cb);
  }
  registerOnCleanup(cb: RclLifecycleCallback): void {
    this.#callbacks.set('cleanup', cb);
  }
  registerOnShutdown(cb: RclLifecycleCallback): void {
    this.#callbacks.set('shutdown', cb);
  }

  #transition(name: string, from: readonly RclLifecycleState[], to: RclLifecycleState): RclLifecycleState {
    if (!from.includes(this.currentState)) throw new Error(`fake rclnodejs: cannot ${name} from ${this.currentState.label}`);
    const code = this.#callbacks.get(name)?.(this.currentState) ?? 97;
    if (code === 97) this.currentState = to;
    return this.currentState;
  }

  configure(): RclLifecycleState {
    return this.#transition('configure', [STATES.unconfigured], STATES.inactive);
  }
  activate(): RclLifecycleState {
    return this.#transition('activate', [STATES.inactive], STATES.active);
  }
  deactivate(): RclLifecycleState {
    return this.#transition('deactivate', [STATES.active], STATES.inactive);
  }
  shutdown(): RclLifecycleState {
    return this.#transition('shutdown', [STATES.unconfigured, STATES.inactive, STATES.active], STATES.finalized);
  }
}

/** Reads `--ros-args … --params-file F … -p n:=v` as rcl does, into per-key override tables. */
function parseRosArgs(argv: readonly string[]): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  let inRos = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--ros-args') inRos = true;
    else if (a === '--') inRos = false;
    else if (inRos && a === '--params-file') {
      const doc = parseYaml(readFileSync(argv[++i]!, 'utf8')) as Record<string, { ros__parameters?: Record<string, unknown> }>;
      for (const [key, v] of Object.entries(doc)) Object.assign((out[key] ??= {}), v.ros__parameters ?? {});
    } else if (inRos && (a === '-p' || a === '--param')) {
      const [name, value] = argv[++i]!.split(':=') as [string, string];
      (out['/**'] ??= {})[name] = parseYaml(value) as unknown;
    }
  }
  return out;
}

/** Strips `--ros-args … [--]` as rclnodejs.removeROSArgs does. */
function removeROSArgs(argv: string[]): string[] {
  const out: string[] = [];
  let inRos = false;
  for (const a of argv) {
    if (a === '--ros-args') inRos = true;
    else if (inRos && a === '--') inRos = false;
    else if (!inRos) out.push(a);
  }
  return out;
}

export interface FakeRclnodejs extends RclModule {
  readonly ros: FakeRos;
  signalHandlersRemoved: boolean;
}

/** A fresh fake rclnodejs module with its own graph and clock. */
export function createFakeRclnodejs(): FakeRclnodejs {
  const ros = new FakeRos();
  let shut = true;
  const mod: FakeRclnodejs = {
    ros,
    signalHandlersRemoved: false,
    init(_context?: unknown, argv: string[] = process.argv) {
      ros.overrides = parseRosArgs(argv);
      shut = false;
      return Promise.resolve();
    },
    shutdown() {
      for (const n of ros.nodes) n.destroy();
      shut = true;
    },
    isShutdown: () => shut,
    removeSignalHandlers() {
      mod.signalHandlersRemoved = true;
    },
    removeROSArgs,
    Node: class extends FakeNode {
      constructor(name: string, namespace?: string) {
        super(ros, name, namespace);
      }
    },
    QoS: FakeQoS,
    Parameter: FakeParameter,
    lifecycle: {
      LifecycleNode: class extends FakeLifecycleNode {
        constructor(name: string, namespace?: string) {
          super(ros, name, namespace);
        }
      },
    },
  };
  return mod;
}
