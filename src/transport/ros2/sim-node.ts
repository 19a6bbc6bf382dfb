import type { RobotProfile } from '../../config/profile.js';
import { hasCamera, type CameraEnv } from '../../envs/render/camera-env.js';
import { imageMessage, type ImageMessage } from './msgs/image-message.js';
import type { Env } from '../../core/types.js';
import type { PoseStampedMsg } from './shield-node.js';
import { toRclQos } from './qos.js';
import type { RclModule, RclNode, RclPublisher, RclTimer } from './rclnodejs-api.js';

/** Frame rate of a simulated camera (a 30 Hz endoscope camera). */
export const SIM_CAMERA_HZ = 30;

/** PSM joint names as the dVRK publishes them in measured_js. */
const PSM_JOINTS = ['outer_yaw', 'outer_pitch', 'outer_insertion', 'outer_roll', 'outer_wrist_pitch', 'outer_wrist_yaw'];

export interface SimPsmOptions {
  readonly rcl: RclModule;
  readonly node: RclNode;
  readonly profile: RobotProfile;
  /** The simulated robot: obs = tip xyz in metres, action = displacement (dvrk-reacher). */
  readonly env: Env;
  /** State publish rate (the dVRK default is 100 Hz, `dvrk_system -p 0.01`). */
  readonly rateHz?: number;
  readonly seed?: number;
  /** Seconds an ended episode (violation, success, horizon) stays visible before the env resets (default 1). */
  readonly endPauseS?: number;
  readonly log?: (line: string) => void;
}

/**
 * A simulated PSM with the dVRK's topic names and types: publishes measured_cp (PoseStamped),
 * measured_js (JointState) and setpoint_cp at a fixed rate and operating_state (ENABLED,
 * homed); each servo_cp goal is one env step toward it (the env clips it to its action bounds,
 * as a real goal must be reachable in one tick); hold stops motion. When an episode ends
 * (violation, success, horizon) the arm rests there for `endPauseS`, ignoring goals, so the
 * shield and recorders see the final state; then the env resets into a new episode.
 */
export class SimPsm {
  readonly #opts: SimPsmOptions;
  readonly #tip = new Float64Array(3);
  readonly #action = new Float32Array(3);
  readonly #cp: PoseStampedMsg;
  readonly #js: { header: PoseStampedMsg['header']; name: string[]; position: Float64Array; velocity: Float64Array; effort: Float64Array };
  readonly #cpPub: RclPublisher;
  readonly #jsPub: RclPublisher;
  readonly #opPub: RclPublisher;
  readonly #timers: RclTimer[] = [];
  /** The camera's publisher and message (a camera robot with an image topic), else null. */
  readonly #cam: { pub: RclPublisher; msg: ImageMessage & { data: Uint8Array }; env: CameraEnv; every: number } | null = null;
  #stateTicks = 0;
  #episode = 0;
  /** State-timer ticks left before an ended episode resets; -1 while an episode runs. */
  #resetIn = -1;
  readonly #pauseTicks: number;
  steps = 0;
  holds = 0;
  violations = 0;
  holding = false;

  constructor(opts: SimPsmOptions) {
    this.#opts = opts;
    const { rcl, node, profile } = opts;
    const t = profile.topics;
    this.#cp = {
      header: { stamp: { sec: 0, nanosec: 0 }, frame_id: profile.frames.base },
      pose: { position: { x: 0, y: 0, z: 0 }, orientation: { x: 0, y: 0, z: 0, w: 1 } },
    };
    this.#js = {
      header: { stamp: { sec: 0, nanosec: 0 }, frame_id: '' },
      name: PSM_JOINTS,
      position: new Float64Array(PSM_JOINTS.length),
      velocity: new Float64Array(PSM_JOINTS.length),
      effort: new Float64Array(PSM_JOINTS.length),
    };
    // The dVRK publishes RELIABLE; subscribers pick their own QoS.
    this.#cpPub = node.createPublisher(t.measuredCp.type, t.measuredCp.topic, { qos: toRclQos(rcl, { ...t.measuredCp.qos, reliability: 'reliable' }) });
    this.#jsPub = node.createPublisher(t.measuredJs.type, t.measuredJs.topic, { qos: toRclQos(rcl, { ...t.measuredJs.qos, reliability: 'reliable' }) });
    this.#opPub = node.createPublisher(t.operatingState.type, t.operatingState.topic, { qos: toRclQos(rcl, t.operatingState.qos) });
    if (t.image !== undefined && hasCamera(opts.env)) {
      const c = opts.env.camera;
      const msg = imageMessage({ width: c.width, height: c.height, encoding: c.encoding, step: c.width * 3, data: new Uint8Array(c.width * c.height * 3) }, 0n, 'camera');
      // The camera runs at about 30 Hz, every few state ticks.
      const every = Math.max(1, Math.round((opts.rateHz ?? 100) / SIM_CAMERA_HZ));
      this.#cam = { pub: node.createPublisher(t.image.type, t.image.topic, { qos: toRclQos(rcl, { ...t.image.qos, reliability: 'reliable' }) }), msg, env: opts.env, every };
    }
    node.createSubscription(t.commandOut.type, t.commandOut.topic, { qos: toRclQos(rcl, t.commandOut.qos) }, (m: PoseStampedMsg) => this.#onServo(m));
    node.createSubscription(t.hold.type, t.hold.topic, { qos: toRclQos(rcl, t.hold.qos) }, () => this.#onHold());
    this.#reset();
    const rate = opts.rateHz ?? 100;
    this.#pauseTicks = Math.max(1, Math.round(rate * (opts.endPauseS ?? 1)));
    this.#timers.push(node.createTimer(BigInt(Math.round(1e9 / rate)), () => this.#onStateTimer()));
    // operating_state is an event topic on the dVRK; re-sent each second so late joiners see it.
    this.#timers.push(node.createTimer(1_000_000_000n, () => this.#publishOperatingState()));
  }

  get tip(): Float64Array {
    return this.#tip;
  }

  #reset(): void {
    const obs = this.#opts.env.reset(this.#opts.seed === undefined ? undefined : this.#opts.seed + this.#episode);
    for (let i = 0; i < 3; i++) this.#tip[i] = obs[i]!;
  }

  #onStateTimer(): void {
    if (this.#resetIn > 0 && --this.#resetIn === 0) {
      this.#resetIn = -1;
      this.#episode++;
      this.#reset();
    }
    this.publishState();
  }

  #onServo(m: PoseStampedMsg): void {
    if (this.#resetIn > 0) return; // the episode ended: the arm rests where it stopped until the reset
    const p = m.pose.position;
    this.#action[0] = p.x - this.#tip[0]!;
    this.#action[1] = p.y - this.#tip[1]!;
    this.#action[2] = p.z - this.#tip[2]!;
    if (!this.#action.every(Number.isFinite)) return; // the dVRK would reject it in IK
    this.holding = false;
    const r = this.#opts.env.step(this.#action);
    this.steps++;
    for (let i = 0; i < 3; i++) this.#tip[i] = r.obs[i]!;
    this.#cp.pose.orientation = m.pose.orientation;
    if (r.violation) {
      this.violations++;
      this.#opts.log?.(`sim: violation at (${[...r.obs].map((v) => v.toFixed(4)).join(', ')}), episode ${this.#episode}`);
    }
    if (r.done) this.#resetIn = this.#pauseTicks;
  }

  #onHold(): void {
    this.holds++;
    this.holding = true;
  }

  /** Publishes measured_cp and measured_js for the current tip. */
  publishState(): void {
    const stamp = this.#opts.node.now().toMsg();
    const [x, y, z] = [this.#tip[0]!, this.#tip[1]!, this.#tip[2]!];
    this.#cp.header.stamp = stamp;
    this.#cp.pose.position.x = x;
    this.#cp.pose.position.y = y;
    this.#cp.pose.position.z = z;
    this.#cpPub.publish(this.#cp);
    // A remote-centre-of-motion arm: yaw and pitch about the RCM (base origin), insertion = distance.
    const q = this.#js.position;
    q[0] = Math.atan2(x, -z);
    q[1] = Math.atan2(-y, Math.hypot(x, z));
    q[2] = Math.hypot(x, y, z);
    this.#js.header.stamp = stamp;
    this.#jsPub.publish(this.#js);
    const cam = this.#cam;
    if (cam !== null && this.#stateTicks++ % cam.every === 0) {
      cam.env.camera.render(this.#tip, cam.msg.data);
      cam.msg.header.stamp = stamp;
      cam.pub.publish(cam.msg);
    }
  }

  #publishOperatingState(): void {
    this.#opPub.publish({ header: { stamp: this.#opts.node.now().toMsg(), frame_id: '' }, state: 'ENABLED', is_homed: true, is_busy: false });
  }

  start(): void {
    this.#publishOperatingState();
    this.publishState();
  }

  close(): void {
    for (const t of this.#timers) t.cancel();
  }
}

export interface SimControllerOptions {
  readonly rcl: RclModule;
  readonly node: RclNode;
  readonly profile: RobotProfile;
  /** The robot's scripted "existing controller" (createController('dvrk-reacher')). */
  readonly controller: { act(obs: Float32Array): Float32Array; reset(seed?: number): void };
  /** Command rate (the CRTK servo_cp example streams at 200 Hz). */
  readonly rateHz?: number;
}

/**
 * The scripted controller as a ROS 2 node, for launches without hardware: reads measured_cp,
 * publishes servo_cp goals (tip + its action) on the profile's commandIn topic — where a real
 * controller's remapped output would arrive.
 */
export class SimController {
  readonly #obs = new Float32Array(3);
  #haveState = false;
  readonly #goal: PoseStampedMsg;
  readonly #timer: RclTimer;
  sent = 0;

  constructor(opts: SimControllerOptions) {
    const { rcl, node, profile } = opts;
    const t = profile.topics;
    this.#goal = {
      header: { stamp: { sec: 0, nanosec: 0 }, frame_id: profile.frames.base },
      pose: { position: { x: 0, y: 0, z: 0 }, orientation: { x: 0, y: 0, z: 0, w: 1 } },
    };
    const pub = node.createPublisher(t.commandIn.type, t.commandIn.topic, { qos: toRclQos(rcl, t.commandIn.qos) });
    node.createSubscription(t.measuredCp.type, t.measuredCp.topic, { qos: toRclQos(rcl, t.measuredCp.qos) }, (m: PoseStampedMsg) => {
      this.#obs[0] = m.pose.position.x;
      this.#obs[1] = m.pose.position.y;
      this.#obs[2] = m.pose.position.z;
      this.#haveState = true;
    });
    this.#timer = node.createTimer(BigInt(Math.round(1e9 / (opts.rateHz ?? 50))), () => {
      if (!this.#haveState) return;
      const a = opts.controller.act(this.#obs);
      const p = this.#goal.pose.position;
      p.x = this.#obs[0]! + a[0]!;
      p.y = this.#obs[1]! + a[1]!;
      p.z = this.#obs[2]! + a[2]!;
      this.#goal.header.stamp = node.now().toMsg();
      pub.publish(this.#goal);
      this.sent++;
    });
  }

  close(): void {
    this.#timer.cancel();
  }
}
