// Child process of the ros2 bench playing the robot's controller: on { rateHz, seconds } it
// streams servo_cp goals (fresh header stamps) at that rate and answers { sent, ... } when done.
// It paces as a real fixed-rate controller does — each goal at its own time, none back to back:
// it sleeps (Atomics.wait, finer than Node's 1 ms timers) until shortly before a goal is due,
// then spins to it. Its own process, so its pacing neither delays the bench's receive times nor
// shares an event loop with them.
import { loadRclnodejs } from '../../src/transport/ros2/load-rclnodejs.js';

export interface ControllerRun {
  readonly rateHz: number;
  readonly seconds: number;
}

export interface ControllerReport {
  readonly sent: number;
  /** Goals sent < 0.25 ms after the previous one (a depth-1 input keeps only the newer). */
  readonly sentBackToBack: number;
  /** How late each goal was sent after its due time, ms. */
  readonly lateMs: { readonly p50: number; readonly p99: number; readonly max: number };
  /** Goals sent more than half a period late: the schedule then moves on from that goal (no burst to catch up). */
  readonly slipped: number;
  readonly seconds: number;
}

/** Wall clock in ms with µs resolution, as the bench stamps and receives. */
const nowMs = (): number => performance.timeOrigin + performance.now();
/** Spin this long before each goal instead of sleeping: a sleep wakes up to ~0.1 ms late here. */
const SPIN_MS = 0.3;
const cell = new Int32Array(new SharedArrayBuffer(4));

const rcl = await loadRclnodejs();
await rcl.init();
const node = new rcl.Node('bench_servo_controller');
const pub = node.createPublisher('geometry_msgs/msg/PoseStamped', '/rshield/PSM1/servo_cp', { qos: new rcl.QoS(1, 1, 1, 2) });
node.spin();
// A goal 1 mm from the bench's fixed tip (safe).
const goal = { header: { stamp: { sec: 0, nanosec: 0 }, frame_id: 'PSM1_base' }, pose: { position: { x: 0.051, y: 0.05, z: -0.1 }, orientation: { x: 0, y: 0, z: 0, w: 1 } } };
let lastStampMs = 0;

function stream(r: ControllerRun): ControllerReport {
  const periodMs = 1000 / r.rateHz;
  const total = Math.round(r.rateHz * r.seconds);
  const late = new Float64Array(total);
  let backToBack = 0;
  let slipped = 0;
  const t0 = performance.now() + periodMs;
  let due = t0;
  for (let i = 0; i < total; i++, due += periodMs) {
    const sleep = due - SPIN_MS - performance.now();
    if (sleep > 0) Atomics.wait(cell, 0, 0, sleep);
    while (performance.now() < due);
    let ms = nowMs();
    late[i] = performance.now() - due;
    // Descheduled for longer than half a period: a fixed-rate controller goes on from now
    // rather than sending the goals it missed back to back.
    if ((late[i] as number) > periodMs / 2) {
      slipped++;
      due = performance.now();
    }
    // Stamps must be unique: they are the key that matches a goal to the shield's output.
    if (ms <= lastStampMs) ms = lastStampMs + 0.001;
    if (i > 0 && ms - lastStampMs < 0.25) backToBack++;
    lastStampMs = ms;
    goal.header.stamp.sec = Math.floor(ms / 1000);
    goal.header.stamp.nanosec = Math.round((ms - goal.header.stamp.sec * 1000) * 1e6);
    pub.publish(goal);
  }
  const seconds = (performance.now() - t0 + periodMs) / 1000;
  late.sort();
  const q = (x: number): number => Number((late[Math.min(total - 1, Math.floor(x * total))] ?? Number.NaN).toFixed(3));
  return { sent: total, sentBackToBack: backToBack, slipped, lateMs: { p50: q(0.5), p99: q(0.99), max: q(1) }, seconds: Number(seconds.toFixed(2)) };
}

process.on('message', (m: ControllerRun | { matched: true }) => {
  if ('matched' in m) return void process.send?.({ subscribers: pub.subscriptionCount });
  process.send?.(stream(m));
});
process.on('disconnect', () => {
  node.destroy();
  if (!rcl.isShutdown()) rcl.shutdown();
  process.exit(0);
});
process.send?.({ ready: true });
