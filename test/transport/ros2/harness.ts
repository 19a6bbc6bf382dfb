/**
 * Chooses what the ROS 2 contract suites run against: the in-repo fake, or — when ROS_DISTRO is
 * set (a sourced ROS 2 shell with rclnodejs installed) — the real rclnodejs. The suites are the
 * same; only time differs: the fake's clock is advanced by hand and delivers on the next
 * macrotask, the real one runs on the wall clock over DDS. So the suites never sleep to
 * synchronise: they wait for discovery (matched endpoints) before publishing, and for the
 * messages they expect; only "nothing arrives" checks need a quiet period.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { packageRoot, parseRobotProfile, type RobotProfile } from '../../../src/config/profile.js';
import { loadRclnodejs } from '../../../src/transport/ros2/load-rclnodejs.js';
import type { RclLifecycleNode, RclModule, RclNode, RclPublisher, RclSubscription } from '../../../src/transport/ros2/rclnodejs-api.js';
import { createFakeRclnodejs, settle as fakeSettle, type FakeRclnodejs } from './fake-rclnodejs.js';

export interface Ros2Harness {
  readonly kind: 'fake' | 'rclnodejs';
  readonly rcl: RclModule;
  /** The clock the node under test must use, milliseconds. */
  readonly clock: () => number;
  /** Lets `ms` of node time pass (timers fire). */
  advance(ms: number): Promise<void>;
  /** Waits until `done()` holds (what the test expects arrived), or `timeoutMs` passes; the assertions that follow say which. */
  until(done: () => boolean, timeoutMs?: number): Promise<void>;
  /** For "nothing arrives" checks: lets in-flight messages land (real DDS: a quiet period). */
  quiet(): Promise<void>;
  /** Waits for DDS discovery: every publisher matched to a subscription and every subscription to a publisher. Throws on timeout. */
  matched(endpoints: { readonly pubs?: readonly RclPublisher[]; readonly subs?: readonly RclSubscription[] }, timeoutMs?: number): Promise<void>;
  /** Nodes made here are destroyed by close(). */
  node(name: string): RclNode;
  lifecycleNode(name: string): RclLifecycleNode;
  /** Destroys the nodes and shuts rclnodejs down (else its executor keeps the process, and tap, alive). */
  close(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Real DDS in a test run: loopback only, unicast discovery (no multicast on lo), one domain per test process. */
export function isolateRos2(env: NodeJS.ProcessEnv = process.env): void {
  env['CYCLONEDDS_URI'] ??= pathToFileURL(join(packageRoot(), 'test/helpers/cyclonedds-loopback.xml')).href;
  // 1..100 (0 is everyone's default); the pid spreads parallel tap processes.
  env['ROS_DOMAIN_ID'] ??= String(1 + (process.pid % 100));
}

export const hasRos2 = (): boolean => process.env['ROS_DISTRO'] !== undefined;

export async function pollUntil(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > end) return false;
    await sleep(2);
  }
  return true;
}

export async function createHarness(argv: string[] = []): Promise<Ros2Harness> {
  const nodes: RclNode[] = [];
  const track = <N extends RclNode>(n: N): N => (nodes.push(n), n);
  if (hasRos2()) {
    isolateRos2();
    const rcl = await loadRclnodejs();
    if (rcl.isShutdown()) await rcl.init(undefined, ['node', 'test', ...argv]);
    return {
      kind: 'rclnodejs',
      rcl,
      clock: () => performance.now(),
      advance: (ms) => sleep(ms),
      until: async (done, timeoutMs = 3000) => {
        await pollUntil(done, timeoutMs);
      },
      // Same-host DDS delivers in about a millisecond; 150 ms is ample for a message that would come.
      quiet: () => sleep(150),
      matched: (e, timeoutMs = 10_000) => waitMatched(e, timeoutMs, pollUntil),
      node: (name) => track(new rcl.Node(name)),
      lifecycleNode: (name) => track(new rcl.lifecycle.LifecycleNode(name)),
      close: () => {
        for (const n of nodes.splice(0)) n.destroy();
        if (!rcl.isShutdown()) rcl.shutdown();
        return Promise.resolve();
      },
    };
  }
  const rcl: FakeRclnodejs = createFakeRclnodejs();
  await rcl.init(undefined, ['node', 'test', ...argv]);
  return {
    kind: 'fake',
    rcl,
    // Never 0: the core reads a zero time as "never received".
    clock: () => rcl.ros.epochMs + rcl.ros.nowMs,
    advance: (ms) => rcl.ros.advance(ms),
    until: fakeSettle,
    quiet: fakeSettle,
    matched: (e) => waitMatched(e, 0, (done) => Promise.resolve(done())),
    node: (name) => track(new rcl.Node(name)),
    lifecycleNode: (name) => track(new rcl.lifecycle.LifecycleNode(name)),
    close: () => {
      rcl.shutdown();
      return Promise.resolve();
    },
  };
}

async function waitMatched(
  e: { readonly pubs?: readonly RclPublisher[]; readonly subs?: readonly RclSubscription[] },
  timeoutMs: number,
  poll: (done: () => boolean, timeoutMs: number) => Promise<boolean>,
): Promise<void> {
  const pubs = e.pubs ?? [];
  const subs = e.subs ?? [];
  const ok = await poll(() => pubs.every((p) => p.subscriptionCount > 0) && subs.every((s) => s.publisherCount > 0), timeoutMs);
  if (!ok) {
    const lonely = [...pubs.filter((p) => p.subscriptionCount === 0).map((p) => `publisher ${p.topic}`), ...subs.filter((s) => s.publisherCount === 0).map(() => 'a subscription')];
    throw new Error(`DDS discovery: no match after ${timeoutMs} ms for ${lonely.join(', ')}`);
  }
}

let counter = 0;

/** The shipped sim profile with every topic moved under a fresh prefix, so tests never share topics. */
export function testProfile(overrides: (doc: Record<string, unknown>) => void = () => undefined): RobotProfile {
  const prefix = `/rshield_test_${process.pid}_${++counter}`;
  const text = readFileSync(join(packageRoot(), 'hardware/sim/dvrk-reacher.yaml'), 'utf8');
  const doc = parseYaml(text) as Record<string, unknown> & { topics: Record<string, { topic: string }> };
  for (const spec of Object.values(doc.topics)) spec.topic = `${prefix}${spec.topic}`;
  overrides(doc);
  return parseRobotProfile(doc, 'test profile');
}

/** A peer node that plays the robot and the controller and records what the shield publishes. */
export class Peer {
  readonly node: RclNode;
  readonly received = new Map<string, object[]>();
  readonly subs: RclSubscription[] = [];
  readonly pubs: RclPublisher[] = [];

  constructor(h: Ros2Harness, name: string) {
    this.node = h.node(name);
    this.node.spin();
  }

  listen(type: string, topic: string): object[] {
    const list: object[] = [];
    this.received.set(topic, list);
    this.subs.push(this.node.createSubscription(type, topic, {}, (m: object) => list.push(m)));
    return list;
  }

  publisher(type: string, topic: string): RclPublisher {
    const pub = this.node.createPublisher(type, topic);
    this.pubs.push(pub);
    return pub;
  }
}

/** A PoseStamped as a controller or the dVRK sends it. */
export function pose(x: number, y: number, z: number, stamp = { sec: 100, nanosec: 5 }, frame = 'PSM1_base'): object {
  return { header: { stamp, frame_id: frame }, pose: { position: { x, y, z }, orientation: { x: 0, y: 0, z: 0.6, w: 0.8 } } };
}
