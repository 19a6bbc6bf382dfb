import type { RobotProfile } from '../../config/profile.js';
import { systemClock, type Clock } from '../../core/clock.js';
import { DriftMonitor, type DriftOptions, type DriftStats } from '../../core/drift-monitor.js';
import { checkInputs, isStale, type FailsafeReason } from '../../core/failsafe.js';
import type { ActionSource, Decision } from '../../core/shield-core.js';
import type { ShieldPort } from '../../core/shield-port.js';
import type { ImageFrame } from '../../core/image-frame.js';
import { frameOfMessage, type ImageMessage } from './msgs/image-message.js';
import { ConstraintLabeler } from './constraints.js';
import { diagnosticsMessage, zeroCounters, type ShieldCounters } from './diagnostics.js';
import { clampStepNorm, clampToBox } from './limits.js';
import type { RosMsgType } from './msgs/definitions.js';
import { BoolCdr, Float64Cdr, PoseStampedCdr } from './msgs/cdr-out.js';
import { cdrCodec } from './msgs/cdr-codec.js';
import { PoseStampedReader } from './msgs/pose-stamped-reader.js';
import { toRclQos } from './qos.js';
import {
  CALLBACK_RETURN,
  type RclLifecycleNode,
  type RclLifecyclePublisher,
  type RclModule,
  type RclPublisher,
  type RclTimer,
  type RosHeader,
} from './rclnodejs-api.js';

/** geometry_msgs/PoseStamped as rclnodejs delivers it. */
export interface PoseStampedMsg {
  header: RosHeader;
  pose: { position: { x: number; y: number; z: number }; orientation: { x: number; y: number; z: number; w: number } };
}

/**
 * Why the node published hold: a fail-safe reason of the core (src/core/failsafe.ts: 'stale'
 * for no, old or zero-stamped state, 'non-finite', 'inference-error', or the shield's own), or a
 * lifecycle stop — not a failure, but the arm must hold all the same.
 */
export type HoldReason = FailsafeReason | 'deactivate' | 'shutdown';

/** One executed tick, for recorders. Arrays are reused: copy what you keep. */
export interface TickInfo {
  /** Tip position the decision was made on, metres, base frame. */
  readonly obs: Float32Array;
  /** The controller's proposed displacement. */
  readonly proposed: Float32Array;
  /** The displacement sent (after the shield and the hard limits). */
  readonly executed: Float32Array;
  readonly source: ActionSource;
  readonly qRisk: number;
}

/** Hooks for `rshield record` (and anything else that watches the node). */
export interface ShieldNodeTap {
  /** Every message received or published on a profile topic. */
  onMessage?(topic: string, type: RosMsgType, message: object): void;
  onTick?(tick: TickInfo): void;
  /** The tip position of every valid measured_cp (metres, base frame), without decoding a message for the tap. */
  onState?(x: number, y: number, z: number): void;
  /** Text of a message on the profile's episode topic ('start', 'stop'). */
  onEpisode?(command: string): void;
  onHold?(reason: HoldReason): void;
  /** Faults of the tap itself (a recording that hit a full disk), shown on /diagnostics. */
  faults?(): readonly string[];
  /** Key / value pairs of the tap's own state for /diagnostics (the online link: model version, swaps, spool). */
  report?(): readonly (readonly [string, string])[];
}

export interface ShieldNodeSettings {
  readonly tickMode: 'command' | 'timer';
  readonly rateHz: number;
  readonly staleAfterMs: number;
}

export interface ShieldNodeOptions {
  readonly rcl: RclModule;
  /** A lifecycle node made by the caller (so parameters could be read from it first). */
  readonly node: RclLifecycleNode;
  readonly profile: RobotProfile;
  readonly shield: ShieldPort;
  /** Defaults: the profile's tick and staleAfterMs. */
  readonly settings?: Partial<ShieldNodeSettings>;
  /** State age is measured on `monotonicUs`; injected so tests drive staleness. Default: the system clock. */
  readonly clock?: Clock;
  readonly tap?: ShieldNodeTap;
  /** Receives each frame of the profile's image topic (an image model's shield); its promise is not awaited. */
  readonly frames?: { pushFrame(frame: ImageFrame): Promise<void> };
  /** Lines about arm-state changes (lifecycle activate / deactivate); default: none. */
  readonly log?: (line: string) => void;
  /** Critic drift detection (src/core/drift-monitor.ts); γ_risk of the model enables the TD-error sign. */
  readonly drift?: DriftOptions;
  /** The running model's version: drift is judged afresh when it changes (default: never changes). */
  readonly modelVersion?: () => string;
  /**
   * Called at each tick before its decision and at the 1 Hz diagnostics beat, never while a
   * decision is in flight: where a prepared model version is swapped in (the online link).
   */
  readonly betweenTicks?: () => void;
}

const DIAGNOSTICS_PERIOD_NS = 1_000_000_000n;

/**
 * The shield as a ROS 2 managed (lifecycle) node. configure: subscriptions and publishers;
 * activate: commands flow; deactivate/shutdown: hold. Each tick (a controller command, or a timer)
 * turns the latest measured tip position and the controller's servo_cp goal into
 * (obs, proposed displacement), asks the shield (a core ShieldPort), applies the hard limits (largest step,
 * workspace box) and publishes servo_cp — or publishes hold when state is stale or invalid.
 * The tick path allocates nothing of its own: messages are preallocated and mutated.
 */
export class ShieldNode {
  readonly node: RclLifecycleNode;
  readonly profile: RobotProfile;
  readonly settings: ShieldNodeSettings;
  readonly counters: ShieldCounters = zeroCounters();
  /** Messages received on the profile's image topic. */
  framesReceived = 0;

  readonly #rcl: RclModule;
  readonly #shield: ShieldPort;
  readonly #clock: Clock;
  readonly #tap: ShieldNodeTap;
  readonly #frames: ShieldNodeOptions['frames'];

  /** measured_cp and servo_cp arrive serialized (raw subscriptions) and are read in place here. */
  readonly #poseIn = new PoseStampedReader();

  // Latest state (measured_cp).
  readonly #pos = new Float64Array(3);
  #stateRxMs = Number.NEGATIVE_INFINITY;
  #stateStampMs = 0;
  #stateValid = false;
  #operatingState = 'unknown';

  // Latest controller command (servo_cp goal).
  readonly #goal = new Float64Array(3);
  #goalRxMs = Number.NEGATIVE_INFINITY;

  // Tick scratch, reused.
  readonly #obs = new Float32Array(3);
  readonly #proposed = new Float32Array(3);
  readonly #executed = new Float32Array(3);
  /** The state the decision is made on, in float64 (obs is its float32 copy for the model). */
  readonly #tickPos = new Float64Array(3);
  readonly #step = new Float64Array(3);
  readonly #target = new Float64Array(3);
  readonly #decideOpts = { stateStampMs: 0 };
  readonly #tickInfo: { obs: Float32Array; proposed: Float32Array; executed: Float32Array; source: ActionSource; qRisk: number };

  // Outgoing messages, reused: the objects for taps, their CDR bytes for the wire (published raw).
  readonly #servoMsg: PoseStampedMsg;
  readonly #qRiskMsg = { data: 0 };
  readonly #interventionMsg = { data: false };
  readonly #holdMsg = {};
  readonly #servoCdr: PoseStampedCdr;
  readonly #qRiskCdr = new Float64Cdr();
  readonly #interventionCdr = new BoolCdr();

  #servoPub: RclLifecyclePublisher | undefined;
  #qRiskPub: RclLifecyclePublisher | undefined;
  #interventionPub: RclLifecyclePublisher | undefined;
  #holdPub: RclPublisher | undefined;
  #diagPub: RclPublisher | undefined;
  readonly #timers: RclTimer[] = [];

  #active = false;
  #inFlight = false;
  #pending = false;
  #holding = false;
  #holdReason: HoldReason | '' = '';
  #lastQRisk = Number.NaN;
  /**
   * The arm state of this node is its lifecycle state: active = the controller's goals go through
   * the shield, inactive = hold. Changes are logged and on /diagnostics. Who may change it is ROS 2's
   * business (lifecycle services; SROS 2 access control), not an rshield command.
   */
  #armChanges = 0;
  #lastArmChange = 'none';
  readonly #log: (line: string) => void;

  /**
   * Drift: each executed step from a state out of violation is one transition, labelled as
   * `rshield record` labels it (episode-labeler.ts): s′ is the tip at the next tick, c = C(s′)
   * from the profile's constraints, a violation ends it. Pending until that next tick.
   */
  readonly #drift: DriftMonitor;
  readonly #constraints: ConstraintLabeler;
  readonly #modelVersion: () => string;
  readonly #betweenTicks: (() => void) | undefined;
  #driftVersion: string;
  #driftPending = false;
  #driftQ = Number.NaN;
  #driftRatedSafe = false;
  #tickFromSafeState = false;

  readonly #onDecision = (d: Decision): void => this.#apply(d);
  readonly #onDecideError = (err: unknown): void => {
    this.#inFlight = false;
    this.counters.decideErrors++;
    this.#lastError = err;
    this.#failsafe('inference-error');
  };
  #lastError: unknown = undefined;

  constructor(options: ShieldNodeOptions) {
    this.#rcl = options.rcl;
    this.node = options.node;
    this.profile = options.profile;
    this.#shield = options.shield;
    this.#clock = options.clock ?? systemClock;
    this.#tap = options.tap ?? {};
    this.#frames = options.frames;
    this.#log = options.log ?? (() => undefined);
    this.#drift = new DriftMonitor(options.drift);
    this.#constraints = new ConstraintLabeler(options.profile.constraints);
    this.#modelVersion = options.modelVersion ?? (() => '');
    this.#betweenTicks = options.betweenTicks;
    this.#driftVersion = this.#modelVersion();
    this.settings = {
      tickMode: options.settings?.tickMode ?? options.profile.tick.mode,
      rateHz: options.settings?.rateHz ?? options.profile.tick.rateHz,
      staleAfterMs: options.settings?.staleAfterMs ?? options.profile.staleAfterMs,
    };
    this.#tickInfo = { obs: this.#obs, proposed: this.#proposed, executed: this.#executed, source: 'task', qRisk: Number.NaN };
    this.#servoMsg = {
      header: { stamp: { sec: 0, nanosec: 0 }, frame_id: options.profile.frames.base },
      pose: { position: { x: 0, y: 0, z: 0 }, orientation: { x: 0, y: 0, z: 0, w: 1 } },
    };
    this.#servoCdr = new PoseStampedCdr(options.profile.frames.base);
    const ok = (): number => CALLBACK_RETURN.success;
    this.node.registerOnConfigure(() => (this.#configure(), ok()));
    this.node.registerOnActivate(() => (this.#activate(), ok()));
    this.node.registerOnDeactivate(() => (this.#deactivate('deactivate'), ok()));
    this.node.registerOnCleanup(() => (this.#cleanup(), ok()));
    this.node.registerOnShutdown(() => (this.#deactivate('shutdown'), ok()));
  }

  get active(): boolean {
    return this.#active;
  }

  get holding(): boolean {
    return this.#holding;
  }

  get holdReason(): HoldReason | '' {
    return this.#holdReason;
  }

  get lastError(): unknown {
    return this.#lastError;
  }

  /** configure → activate, as `ros2 lifecycle set` would; the CLI runs the node active. */
  start(): void {
    this.node.configure();
    this.node.activate();
  }

  /** Publishes the fail-safe at once (signals, fatal errors). */
  hold(reason: HoldReason): void {
    this.#holding = false;
    this.#failsafe(reason);
  }

  #configure(): void {
    const { rcl, node, profile } = { rcl: this.#rcl, node: this.node, profile: this.profile };
    const t = profile.topics;
    const sub = (spec: typeof t.measuredCp | typeof t.measuredJs | typeof t.operatingState | typeof t.episode, cb: (m: never) => void): void => {
      node.createSubscription(spec.type, spec.topic, { qos: toRclQos(rcl, spec.qos) }, cb);
    };
    // The two per-tick inputs are taken raw: no rclnodejs message objects per message.
    const raw = (spec: typeof t.measuredCp, cb: (b: Buffer) => void): void => {
      node.createSubscription(spec.type, spec.topic, { qos: toRclQos(rcl, spec.qos), isRaw: true }, cb);
    };
    raw(t.measuredCp, (b) => this.#onState(b));
    raw(t.commandIn, (b) => this.#onCommand(b));
    sub(t.operatingState, (m: { state: string }) => {
      this.#operatingState = m.state;
      this.#tap.onMessage?.(t.operatingState.topic, t.operatingState.type, m);
    });
    sub(t.episode, (m: { data: string }) => {
      this.#tap.onMessage?.(t.episode.topic, t.episode.type, m);
      const command = m.data.trim().toLowerCase();
      if (command === 'start' || command === 'stop') this.#breakDriftChain();
      this.#tap.onEpisode?.(command);
    });
    const tap = this.#tap.onMessage?.bind(this.#tap);
    if (tap !== undefined) sub(t.measuredJs, (m: object) => tap(t.measuredJs.topic, t.measuredJs.type, m));
    const img = t.image;
    const frames = this.#frames;
    if (img !== undefined && (tap !== undefined || frames !== undefined)) {
      node.createSubscription(img.type, img.topic, { qos: toRclQos(rcl, img.qos) }, (m: ImageMessage) => {
        this.framesReceived++;
        if (frames !== undefined) void frames.pushFrame(frameOfMessage(m));
        tap?.(img.topic, img.type, m);
      });
    }
    const lpub = (spec: typeof t.commandOut | typeof t.qRisk | typeof t.intervention): RclLifecyclePublisher =>
      node.createLifecyclePublisher(spec.type, spec.topic, { qos: toRclQos(rcl, spec.qos) });
    this.#servoPub = lpub(t.commandOut);
    this.#qRiskPub = lpub(t.qRisk);
    this.#interventionPub = lpub(t.intervention);
    // hold and diagnostics are plain publishers: the fail-safe must work in every lifecycle state.
    this.#holdPub = node.createPublisher(t.hold.type, t.hold.topic, { qos: toRclQos(rcl, t.hold.qos) });
    this.#diagPub = node.createPublisher(t.diagnostics.type, t.diagnostics.topic, { qos: toRclQos(rcl, t.diagnostics.qos) });
    if (this.settings.tickMode === 'timer') {
      const periodNs = BigInt(Math.round(1e9 / this.settings.rateHz));
      this.#timers.push(node.createTimer(periodNs, () => this.#tick()));
    }
    this.#timers.push(node.createTimer(DIAGNOSTICS_PERIOD_NS, () => this.#watchdog()));
  }

  #activate(): void {
    // Commands start flowing again: a new episode for the shield (hysteresis cleared).
    this.#shield.resetEpisode();
    this.#servoPub?.activate();
    this.#qRiskPub?.activate();
    this.#interventionPub?.activate();
    this.#active = true;
    this.#armChanged('active: controller goals go through the shield');
  }

  #armChanged(what: string): void {
    this.#armChanges++;
    const t = this.node.now().toMsg();
    this.#lastArmChange = `${what} (ROS time ${t.sec}.${String(t.nanosec).padStart(9, '0').slice(0, 3)})`;
    this.#log(`rshield: lifecycle ${this.#lastArmChange}`);
  }

  #deactivate(reason: HoldReason): void {
    if (this.#active || reason === 'shutdown') this.hold(reason);
    if (this.#active) this.#armChanged(`inactive (${reason}): holding`);
    this.#active = false;
    this.#servoPub?.deactivate();
    this.#qRiskPub?.deactivate();
    this.#interventionPub?.deactivate();
  }

  #cleanup(): void {
    for (const timer of this.#timers) timer.cancel();
    this.#timers.length = 0;
  }

  /** Whether `b` is a PoseStamped (read into #poseIn); a message that is not one is counted and ignored. */
  #readPose(b: Buffer): boolean {
    if (this.#poseIn.read(b)) return true;
    this.counters.malformed++;
    return false;
  }

  /** The message as rclnodejs would have delivered it, for a tap (recording); decoded only then. */
  #tapPose(spec: { topic: string; type: RosMsgType }, b: Buffer): void {
    this.#tap.onMessage?.(spec.topic, spec.type, cdrCodec(spec.type).decode<object>(b));
  }

  #onState(b: Buffer): void {
    if (!this.#readPose(b)) return;
    const m = this.#poseIn;
    const p = m.position;
    this.#pos[0] = p.x;
    this.#pos[1] = p.y;
    this.#pos[2] = p.z;
    this.#stateRxMs = this.#nowMs();
    this.counters.states++;
    // The dVRK sends a zero stamp for invalid data (e.g. no instrument): never act on it.
    this.#stateValid = m.sec !== 0 || m.nanosec !== 0;
    this.#stateStampMs = m.sec * 1e3 + m.nanosec / 1e6;
    if (this.#stateValid) this.#tap.onState?.(p.x, p.y, p.z);
    if (this.#tap.onMessage !== undefined) this.#tapPose(this.profile.topics.measuredCp, b);
  }

  #onCommand(b: Buffer): void {
    if (!this.#readPose(b)) return;
    const m = this.#poseIn;
    const p = m.position;
    this.#goal[0] = p.x;
    this.#goal[1] = p.y;
    this.#goal[2] = p.z;
    this.#goalRxMs = this.#nowMs();
    this.counters.commands++;
    // The controller's orientation and stamp pass through; the shield decides on position only.
    const out = this.#servoMsg;
    const o = m.orientation;
    out.pose.orientation.x = o.x;
    out.pose.orientation.y = o.y;
    out.pose.orientation.z = o.z;
    out.pose.orientation.w = o.w;
    out.header.stamp.sec = m.sec;
    out.header.stamp.nanosec = m.nanosec;
    this.#servoCdr.orientation(o.x, o.y, o.z, o.w);
    this.#servoCdr.stamp(m.sec, m.nanosec);
    if (this.#tap.onMessage !== undefined) this.#tapPose(this.profile.topics.commandIn, b);
    if (this.settings.tickMode === 'command') this.#tick();
  }

  /** Monotonic milliseconds: state age must not jump with the wall clock. */
  #nowMs(): number {
    return this.#clock.monotonicUs() / 1000;
  }

  /**
   * Whether the state cannot be acted on now, in the core's terms (failsafe.ts): none received
   * (non-finite receive time), older than staleAfterMs, or a zero stamp — which the dVRK sends
   * for invalid data (e.g. no instrument). Counts which.
   */
  #stateStale(now: number): boolean {
    if (isStale(this.#stateRxMs, now, this.settings.staleAfterMs)) {
      this.counters.staleState++;
      return true;
    }
    if (!this.#stateValid) {
      this.counters.invalidState++;
      return true;
    }
    return false;
  }

  #tick(): void {
    if (!this.#active) return;
    if (this.#inFlight) {
      this.#pending = true;
      return;
    }
    this.#betweenTicks?.();
    const now = this.#nowMs();
    // Timer mode re-sends the latest goal only while the controller is still talking.
    if (this.#goalRxMs === Number.NEGATIVE_INFINITY) return;
    if (this.settings.tickMode === 'timer' && now - this.#goalRxMs > this.settings.staleAfterMs) return;
    this.counters.ticks++;
    if (this.#stateStale(now)) {
      this.#failsafe('stale');
      return;
    }
    for (let i = 0; i < 3; i++) {
      this.#tickPos[i] = this.#pos[i]!;
      this.#obs[i] = this.#pos[i]!;
      this.#proposed[i] = this.#goal[i]! - this.#pos[i]!;
    }
    const bad = checkInputs(this.#obs, this.#proposed, 3, 3);
    if (bad !== null) {
      this.counters.nonFinite++;
      this.#failsafe(bad);
      return;
    }
    this.#observeDrift();
    this.#decideOpts.stateStampMs = this.#stateStampMs;
    this.#inFlight = true;
    let result: Promise<Decision> | Decision;
    try {
      result = this.#shield.decide(this.#obs, this.#proposed, this.#decideOpts);
    } catch (err) {
      this.#onDecideError(err);
      return;
    }
    if (result instanceof Promise) result.then(this.#onDecision, this.#onDecideError);
    else this.#apply(result);
  }

  #apply(d: Decision): void {
    this.#inFlight = false;
    if (d.source === 'failsafe') {
      this.counters.failsafe++;
      this.#failsafe(d.failsafeReason ?? 'inference-error');
    } else if (this.#active) {
      if (d.source === 'task') this.counters.task++;
      else this.counters.recovery++;
      this.#publishStep(d);
    }
    if (this.#pending) {
      this.#pending = false;
      this.#tick();
    }
  }

  #publishStep(d: Decision): void {
    const step = this.#step;
    const target = this.#target;
    for (let i = 0; i < 3; i++) step[i] = d.action[i]!;
    if (clampStepNorm(step, this.profile.limits.maxStepM)) this.counters.clippedSteps++;
    for (let i = 0; i < 3; i++) target[i] = this.#tickPos[i]! + step[i]!;
    if (clampToBox(target, this.profile.limits.workspace)) this.counters.clampedToWorkspace++;
    const pos = this.#servoMsg.pose.position;
    pos.x = target[0]!;
    pos.y = target[1]!;
    pos.z = target[2]!;
    for (let i = 0; i < 3; i++) this.#executed[i] = target[i]! - this.#tickPos[i]!;
    this.#servoCdr.position(pos.x, pos.y, pos.z);
    this.#servoPub!.publish(this.#servoCdr.buffer);
    this.#holding = false;
    this.#holdReason = '';
    this.#lastQRisk = d.qRisk;
    if (this.#tickFromSafeState) {
      this.#driftPending = true;
      this.#driftQ = d.qRisk;
      this.#driftRatedSafe = d.source === 'task';
    }
    this.#qRiskMsg.data = d.qRisk;
    this.#qRiskCdr.set(d.qRisk);
    this.#qRiskPub!.publish(this.#qRiskCdr.buffer);
    this.#interventionMsg.data = d.source !== 'task';
    this.#interventionCdr.set(this.#interventionMsg.data);
    this.#interventionPub!.publish(this.#interventionCdr.buffer);
    const t = this.profile.topics;
    if (this.#tap.onMessage !== undefined) {
      this.#tap.onMessage(t.commandOut.topic, t.commandOut.type, this.#servoMsg);
      this.#tap.onMessage(t.qRisk.topic, t.qRisk.type, this.#qRiskMsg);
      this.#tap.onMessage(t.intervention.topic, t.intervention.type, this.#interventionMsg);
    }
    if (this.#tap.onTick !== undefined) {
      this.#tickInfo.source = d.source;
      this.#tickInfo.qRisk = d.qRisk;
      this.#tap.onTick(this.#tickInfo);
    }
  }

  /**
   * Labels the step decided at the last tick with the state this tick decides on (s′), and
   * notes whether this tick's step starts out of violation (a step from inside one is not a
   * transition, as in `rshield record`). A new model version starts the judgement afresh.
   */
  #observeDrift(): void {
    this.#checkModelVersion();
    const p = this.#tickPos;
    const violated = this.#constraints.violated(p[0]!, p[1]!, p[2]!) !== null;
    if (this.#driftPending) {
      this.#driftPending = false;
      this.#drift.observe(this.#driftQ, this.#driftRatedSafe, violated, violated);
    }
    this.#tickFromSafeState = !violated;
  }

  #checkModelVersion(): void {
    const version = this.#modelVersion();
    if (version === this.#driftVersion) return;
    this.#driftVersion = version;
    this.#drift.reset();
    this.#driftPending = false;
  }

  /** A hold, an episode start or stop: the arm did not (or no longer) execute the pending step. */
  #breakDriftChain(): void {
    this.#driftPending = false;
    this.#tickFromSafeState = false;
    this.#drift.interrupt();
  }

  /** Drift since the running model was installed (the same numbers /diagnostics shows). */
  drift(): { stats: DriftStats; signs: string[] } {
    this.#checkModelVersion();
    return { stats: this.#drift.snapshot(), signs: this.#drift.signs() };
  }

  /**
   * Publishes hold once per entry into the fail-safe; commands are not forwarded while holding.
   * While holding, the reason follows the latest cause (a deadline miss, then stale state: stale).
   */
  #failsafe(reason: HoldReason): void {
    this.#breakDriftChain();
    if (this.#holding) {
      this.#holdReason = reason;
      return;
    }
    this.#holding = true;
    this.#holdReason = reason;
    this.#holdPub?.publish(this.#holdMsg);
    this.#tap.onMessage?.(this.profile.topics.hold.topic, this.profile.topics.hold.type, this.#holdMsg);
    this.#tap.onHold?.(reason);
  }

  /** 1 Hz: hold when state went stale with no command to notice it, and report on /diagnostics. */
  #watchdog(): void {
    // A version prepared while the controller is quiet goes in now, not at its next command.
    if (!this.#inFlight) this.#betweenTicks?.();
    const now = this.#nowMs();
    if (this.#active && !this.#holding && this.#goalRxMs !== Number.NEGATIVE_INFINITY && this.#stateStale(now)) this.#failsafe('stale');
    this.#diagPub?.publish(
      diagnosticsMessage(this.node.now().toMsg(), {
        name: `rshield: ${this.profile.arm} shield`,
        hardwareId: this.profile.arm,
        active: this.#active,
        holding: this.#holding,
        holdReason: this.#holdReason,
        operatingState: this.#operatingState,
        lastQRisk: this.#lastQRisk,
        stateAgeMs: now - this.#stateRxMs,
        counters: this.counters,
        commandOutSubscribers: this.#servoPub?.subscriptionCount ?? 0,
        faults: this.#tap.faults?.() ?? [],
        values: this.#tap.report?.() ?? [],
        armChanges: this.#armChanges,
        lastArmChange: this.#lastArmChange,
        drift: this.drift(),
      }),
    );
  }
}
