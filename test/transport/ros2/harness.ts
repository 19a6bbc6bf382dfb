/**
 * Chooses what the ROS 2 contract suites run against: the in-repo fake, or — when ROS_DISTRO is
 * set (a sourced ROS 2 shell with rclnodejs installed) — the real rclnodejs. The suites are the
 * same; only time differs: the fake's clock is advanced by hand, the real one by waiting.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { packageRoot, parseRobotProfile, type RobotProfile } from '../../../src/config/profile.js';
import { loadRclnodejs } from '../../../src/transport/ros2/load-rclnodejs.js';
import type { RclModule, RclNode } from '../../../src/transport/ros2/rclnodejs-api.js';
import { createFakeRclnodejs, settle as fakeSettle, type FakeRclnodejs } from './fake-rclnodejs.js';

export interface Ros2Harness {
  readonly kind: 'fake' | 'rclnodejs';
  readonly rcl: RclModule;
  /** The clock the node under test must use, milliseconds. */
  readonly clock: () => number;
  /** Lets `ms` of node time pass (timers fire). */
  advance(ms: number): Promise<void>;
  /** Lets in-flight messages arrive. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function createHarness(argv: string[] = []): Promise<Ros2Harness> {
  if (process.env['ROS_DISTRO'] !== undefined) {
    const rcl = await loadRclnodejs();
    if (rcl.isShutdown()) await rcl.init(undefined, ['node', 'test', ...argv]);
    return {
      kind: 'rclnodejs',
      rcl,
      clock: () => performance.now(),
      advance: (ms) => sleep(ms),
      settle: () => sleep(150),
      close: () => Promise.resolve(),
    };
  }
  const rcl: FakeRclnodejs = createFakeRclnodejs();
  await rcl.init(undefined, ['node', 'test', ...argv]);
  return {
    kind: 'fake',
    rcl,
    clock: () => rcl.ros.nowMs,
    advance: (ms) => rcl.ros.advance(ms),
    settle: fakeSettle,
    close: () => {
      rcl.shutdown();
      return Promise.resolve();
    },
  };
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

  constructor(rcl: RclModule, name: string) {
    this.node = new rcl.Node(name);
    this.node.spin();
  }

  listen(type: string, topic: string): object[] {
    const list: object[] = [];
    this.received.set(topic, list);
    this.node.createSubscription(type, topic, {}, (m: object) => list.push(m));
    return list;
  }

  publisher(type: string, topic: string): { publish(m: object): void } {
    return this.node.createPublisher(type, topic);
  }
}

/** A PoseStamped as a controller or the dVRK sends it. */
export function pose(x: number, y: number, z: number, stamp = { sec: 100, nanosec: 5 }, frame = 'PSM1_base'): object {
  return { header: { stamp, frame_id: frame }, pose: { position: { x, y, z }, orientation: { x: 0, y: 0, z: 0.6, w: 0.8 } } };
}
