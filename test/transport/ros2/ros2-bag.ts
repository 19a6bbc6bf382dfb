/**
 * The real `ros2 bag` CLI against an MCAP file: `info` parsed into topics, and `play` into
 * subscribers of this process. Play starts paused and resumes once every subscriber has
 * matched the player's publishers (DDS discovery), so nothing is lost to a race; it waits for
 * reliable acknowledgement before it exits. Needs a sourced ROS 2 and real rclnodejs.
 */
import { execFile, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { McapStreamReader, type McapTypes } from '@mcap/core';
import type { Test } from 'tap';
import { promisify } from 'node:util';
import { loadRclnodejs } from '../../../src/transport/ros2/load-rclnodejs.js';
import type { RclNode } from '../../../src/transport/ros2/rclnodejs-api.js';
import { pollUntil } from './harness.js';

const exec = promisify(execFile);

/** A spinning rclnodejs node for this test, destroyed (and rclnodejs shut down) at its end. */
export async function listener(t: Test, name = 'bag_listener'): Promise<RclNode> {
  const rcl = await loadRclnodejs();
  await rcl.init();
  const node = new rcl.Node(name);
  node.spin();
  t.teardown(() => {
    node.destroy();
    if (!rcl.isShutdown()) rcl.shutdown();
  });
  return node;
}

export interface BagTopic {
  readonly type: string;
  readonly count: number;
  readonly format: string;
}

export interface BagInfo {
  readonly storage: string;
  readonly messages: number;
  readonly topics: ReadonlyMap<string, BagTopic>;
}

/** `ros2 bag info PATH`, parsed. */
export async function bagInfo(path: string): Promise<BagInfo> {
  const { stdout } = await exec('ros2', ['bag', 'info', path]);
  const topics = new Map<string, BagTopic>();
  for (const m of stdout.matchAll(/Topic: (\S+) \| Type: (\S+) \| Count: (\d+) \| Serialization Format: (\S+)/g)) {
    topics.set(m[1]!, { type: m[2]!, count: Number(m[3]), format: m[4]! });
  }
  return {
    storage: /Storage id:\s+(\S+)/.exec(stdout)?.[1] ?? '',
    messages: Number(/Messages:\s+(\d+)/.exec(stdout)?.[1] ?? NaN),
    topics,
  };
}

export interface PlayResult {
  readonly code: number | null;
  readonly output: string;
  /** Messages received per topic. */
  readonly received: ReadonlyMap<string, number>;
}

/**
 * `ros2 bag play PATH` into new subscriptions of `node` on `topics` (topic → type), until each
 * topic of `expected` received its count (or 60 s pass: a loaded machine starts the Python CLI slowly); `args` go to play (e.g. --remap).
 */
export async function playBag(node: RclNode, path: string, topics: Readonly<Record<string, string>>, expected: ReadonlyMap<string, number>, args: readonly string[] = []): Promise<PlayResult> {
  const received = new Map<string, number>();
  const subs = Object.entries(topics).map(([topic, type]) => {
    received.set(topic, 0);
    return node.createSubscription(type, topic, {}, () => received.set(topic, (received.get(topic) ?? 0) + 1));
  });
  const proc = spawn('ros2', ['bag', 'play', '--start-paused', '--disable-keyboard-controls', '--wait-for-all-acked', '10000', ...args, path], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  proc.stdout.on('data', (b: Buffer) => (output += b.toString()));
  proc.stderr.on('data', (b: Buffer) => (output += b.toString()));
  const exited = new Promise<number | null>((r) => proc.on('close', (code) => r(code)));
  try {
    if (!(await pollUntil(() => subs.every((s) => s.publisherCount > 0) || proc.exitCode !== null, 60_000))) {
      throw new Error(`ros2 bag play: publishers never matched ${Object.keys(topics).join(', ')}\n${output}`);
    }
    if (proc.exitCode === null) await exec('ros2', ['service', 'call', '/rosbag2_player/resume', 'rosbag2_interfaces/srv/Resume']);
    await pollUntil(() => [...expected].every(([topic, n]) => (received.get(topic) ?? 0) >= n), 60_000);
    return { code: await exited, output, received };
  } finally {
    if (proc.exitCode === null) proc.kill('SIGINT');
  }
}

export interface Written {
  readonly type: string;
  readonly encoding: string;
  count: number;
}

/** Channel → schema name, encoding and message count, as the file holds them. */
export async function written(path: string): Promise<Map<string, Written>> {
  const reader = new McapStreamReader();
  reader.append(await readFile(path));
  const schemas = new Map<number, McapTypes.Schema>();
  const byId = new Map<number, Written>();
  const out = new Map<string, Written>();
  for (let r; (r = reader.nextRecord()); ) {
    if (r.type === 'Schema') schemas.set(r.id, r);
    else if (r.type === 'Channel' && !byId.has(r.id)) {
      const w = { type: schemas.get(r.schemaId)?.name ?? '?', encoding: r.messageEncoding, count: 0 };
      byId.set(r.id, w);
      out.set(r.topic, w);
    } else if (r.type === 'Message') byId.get(r.channelId)!.count++;
  }
  return out;
}

/** Asserts that `ros2 bag info` lists every channel of the file with its type and count, in CDR. */
export async function infoMatchesFile(t: Test, path: string): Promise<Map<string, Written>> {
  const want = await written(path);
  const info = await bagInfo(path);
  t.equal(info.storage, 'mcap');
  t.same([...info.topics.keys()].sort(), [...want.keys()].sort(), 'ros2 bag info lists every channel');
  for (const [topic, w] of want) {
    t.same(info.topics.get(topic), { type: w.type, count: w.count, format: 'cdr' }, `${topic}: ${w.type}, ${w.count} messages, cdr`);
  }
  t.equal(info.messages, [...want.values()].reduce((n, w) => n + w.count, 0));
  return want;
}
