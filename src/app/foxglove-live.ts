/**
 * A live view of the shield for Foxglove over its WebSocket protocol (@foxglove/ws-protocol on
 * `ws`): Q_risk, the decision (source, fail-safe reason, proposed vs executed action, model
 * version) and a 3-D scene (foxglove.SceneUpdate: constraints, the tool, the proposed and
 * executed steps coloured by risk). Off the tick path: a tick only copies its numbers into the
 * latest-value slots; a timer encodes and sends them (50 Hz, the scene at 10 Hz), and only
 * while a client subscribes. Loopback by default.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import wsProtocol from '@foxglove/ws-protocol';
import { SceneUpdate } from '@foxglove/schemas/jsonschema.js';
import { WebSocketServer } from 'ws';
import type { Decision } from '../core/shield-core.js';

/** What the view shows of one tick: a core Decision, or a ROS 2 hold with its reason ('deactivate', 'shutdown', …). */
export type LiveDecision = Pick<Decision, 'action' | 'qRisk' | 'source'> & { readonly failsafeReason: string | null };
import { RShieldError } from '../core/errors.js';
import type { Scene } from '../envs/scene.js';

const { FoxgloveServer } = wsProtocol;

export const LIVE_TOPICS = { qRisk: '/rshield/q_risk', decision: '/rshield/decision', scene: '/rshield/scene' } as const;

export interface FoxgloveLiveOptions {
  /** 0 picks a free port. */
  readonly port: number;
  /** Default 127.0.0.1: a live view of a robot is not for the whole network unless asked. */
  readonly host?: string;
  readonly robot: string;
  readonly epsRisk: number;
  /** The plane of a simulated robot (constraints, goal); null draws the tool only. */
  readonly scene: Scene | null;
  /** How often the latest tick is sent (default 50 Hz); the scene at a fifth of it. */
  readonly rateHz?: number;
}

const QRISK_SCHEMA = { type: 'object', properties: { q_risk: { type: 'number' }, eps_risk: { type: 'number' }, tick: { type: 'integer' } } };
const DECISION_SCHEMA = {
  type: 'object',
  properties: {
    source: { type: 'string', enum: ['task', 'recovery', 'failsafe'] },
    failsafe_reason: { type: ['string', 'null'] },
    model_version: { type: 'string' },
    proposed: { type: 'array', items: { type: 'number' } },
    executed: { type: 'array', items: { type: 'number' } },
    q_risk: { type: 'number' },
    tick: { type: 'integer' },
  },
};

interface Rgba { r: number; g: number; b: number; a: number }

/** Green below ε, red at 1 (the same scale as the SVG plots). */
function riskRgba(q: number, eps: number): Rgba {
  const t = Math.min(1, Math.max(0, Number.isFinite(q) ? q : 1));
  return t <= eps ? { r: 0.1 + 0.9 * (t / Math.max(eps, 1e-9)), g: 0.6 + 0.18 * (t / Math.max(eps, 1e-9)), b: 0.3, a: 1 } : { r: 1 - 0.2 * ((t - eps) / (1 - eps)), g: 0.78 - 0.7 * ((t - eps) / (1 - eps)), b: 0.15, a: 1 };
}

const pose = (x: number, y: number, z: number): object => ({ position: { x, y, z }, orientation: { x: 0, y: 0, z: 0, w: 1 } });
const time = (ns: bigint): { sec: number; nsec: number } => ({ sec: Number(ns / 1_000_000_000n), nsec: Number(ns % 1_000_000_000n) });

function entity(id: string, ns: bigint, parts: Partial<Record<'cubes' | 'spheres' | 'cylinders' | 'lines' | 'arrows' | 'texts', object[]>>): object {
  return {
    timestamp: time(ns), frame_id: 'world', id, lifetime: { sec: 0, nsec: 0 }, frame_locked: false, metadata: [],
    arrows: [], cubes: [], spheres: [], cylinders: [], lines: [], triangles: [], texts: [], models: [], ...parts,
  };
}

export class FoxgloveLive {
  readonly #server: InstanceType<typeof FoxgloveServer>;
  readonly #wss: WebSocketServer;
  readonly #o: FoxgloveLiveOptions;
  readonly #ids: { qRisk: number; decision: number; scene: number };
  readonly #subscribed = new Set<number>();
  readonly #timer: NodeJS.Timeout;
  readonly #encoder = new TextEncoder();
  // Latest tick, copied in by publish() (no allocation once sized).
  #obs: Float32Array = new Float32Array(0);
  #proposed: Float32Array = new Float32Array(0);
  #executed: Float32Array = new Float32Array(0);
  #q = Number.NaN;
  #source: Decision['source'] = 'task';
  #reason: string | null = null;
  #version = '';
  #ticks = 0;
  #sentTick = 0; // nothing to send before the first tick
  #frames = 0;
  /** Messages sent per topic, for status and tests. */
  readonly sent = { qRisk: 0, decision: 0, scene: 0 };

  private constructor(o: FoxgloveLiveOptions, wss: WebSocketServer) {
    this.#o = o;
    this.#wss = wss;
    this.#server = new FoxgloveServer({ name: `rshield ${o.robot}` });
    const json = (topic: string, schemaName: string, schema: object): number =>
      this.#server.addChannel({ topic, encoding: 'json', schemaName, schema: JSON.stringify(schema), schemaEncoding: 'jsonschema' });
    this.#ids = {
      qRisk: json(LIVE_TOPICS.qRisk, 'rshield.QRisk', QRISK_SCHEMA),
      decision: json(LIVE_TOPICS.decision, 'rshield.Decision', DECISION_SCHEMA),
      scene: json(LIVE_TOPICS.scene, 'foxglove.SceneUpdate', SceneUpdate),
    };
    this.#server.on('subscribe', (id) => {
      this.#subscribed.add(id);
      if (id === this.#ids.scene) this.#sendScene(true);
    });
    this.#server.on('unsubscribe', (id) => this.#subscribed.delete(id));
    wss.on('connection', (conn, req) => this.#server.handleConnection(conn, `${req.socket.remoteAddress}:${req.socket.remotePort}`));
    this.#timer = setInterval(() => this.#flush(), 1000 / (o.rateHz ?? 50));
    this.#timer.unref();
  }

  static async start(o: FoxgloveLiveOptions): Promise<FoxgloveLive> {
    if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) throw new RShieldError('E_USAGE', `--foxglove takes a TCP port (0-65535), got ${o.port}`, { option: 'foxglove' });
    const host = o.host ?? '127.0.0.1';
    const wss = new WebSocketServer({ port: o.port, host, handleProtocols: (protocols) => protocols.has(FoxgloveServer.SUPPORTED_SUBPROTOCOL) ? FoxgloveServer.SUPPORTED_SUBPROTOCOL : false });
    const live = new FoxgloveLive(o, wss);
    try {
      await Promise.race([once(wss, 'listening'), once(wss, 'error').then(([err]) => Promise.reject(err as Error))]);
    } catch (err) {
      clearInterval(live.#timer);
      throw new RShieldError('E_IO', `--foxglove: cannot listen on ${host}:${o.port}: ${(err as Error).message}`, { host, port: o.port }, { cause: err });
    }
    return live;
  }

  get port(): number {
    return (this.#wss.address() as AddressInfo).port;
  }

  get url(): string {
    return `ws://${this.#o.host ?? '127.0.0.1'}:${this.port}`;
  }

  /** One tick: copies its numbers for the next send; nothing is encoded or sent here. */
  publish(obs: ArrayLike<number>, proposed: ArrayLike<number>, d: LiveDecision, modelVersion: string): void {
    if (this.#subscribed.size === 0) return;
    this.#obs = copyInto(this.#obs, obs);
    this.#proposed = copyInto(this.#proposed, proposed);
    this.#executed = copyInto(this.#executed, d.action);
    this.#q = d.qRisk;
    this.#source = d.source;
    this.#reason = d.failsafeReason;
    this.#version = modelVersion;
    this.#ticks++;
  }

  #send(id: number, value: unknown): void {
    this.#server.sendMessage(id, process.hrtime.bigint(), this.#encoder.encode(JSON.stringify(value)));
  }

  #flush(): void {
    if (this.#ticks === this.#sentTick || this.#subscribed.size === 0) return;
    this.#sentTick = this.#ticks;
    if (this.#subscribed.has(this.#ids.qRisk)) {
      this.#send(this.#ids.qRisk, { q_risk: this.#q, eps_risk: this.#o.epsRisk, tick: this.#ticks });
      this.sent.qRisk++;
    }
    if (this.#subscribed.has(this.#ids.decision)) {
      this.#send(this.#ids.decision, { source: this.#source, failsafe_reason: this.#reason, model_version: this.#version, proposed: [...this.#proposed], executed: [...this.#executed], q_risk: this.#q, tick: this.#ticks });
      this.sent.decision++;
    }
    if (++this.#frames % 5 === 0) this.#sendScene(false);
  }

  /** Constraints (when `full`: on subscribe and each second), the tool, and the two steps. */
  #sendScene(full: boolean): void {
    if (!this.#subscribed.has(this.#ids.scene)) return;
    const s = this.#o.scene;
    const ns = process.hrtime.bigint();
    const entities: object[] = [];
    const z = s === null ? 0 : (s.observationAt(0, 0)[2] ?? 0);
    // Sizes in the scene's own units: 1% of the window for the tool.
    const span = s === null ? 1 : Math.max(s.x[1] - s.x[0], s.y[1] - s.y[0]);
    if (s !== null && (full || this.sent.scene % 10 === 0)) {
      const grey = { r: 0.35, g: 0.35, b: 0.35, a: 0.6 };
      const h = span * 0.05;
      const cubes = s.constraints.flatMap((c) => (c.kind === 'rect' ? [{ pose: pose((c.x[0] + c.x[1]) / 2, (c.y[0] + c.y[1]) / 2, z), size: { x: c.x[1] - c.x[0], y: c.y[1] - c.y[0], z: h }, color: grey }] : []));
      const cylinders = s.constraints.flatMap((c) => (c.kind === 'circle' ? [{ pose: pose(c.cx, c.cy, z), size: { x: 2 * c.r, y: 2 * c.r, z: h }, bottom_scale: 1, top_scale: 1, color: grey }] : []));
      const [x0, x1] = s.x;
      const [y0, y1] = s.y;
      const box = { type: 2, pose: pose(0, 0, z), thickness: 2, scale_invariant: true, points: [[x0, y0], [x1, y0], [x1, y1], [x0, y1]].map(([x, y]) => ({ x, y, z })), color: s.boundaryIsConstraint ? { r: 0.1, g: 0.1, b: 0.1, a: 1 } : { r: 0.6, g: 0.6, b: 0.6, a: 1 }, colors: [], indices: [] };
      const goal = { pose: pose(s.goal[0], s.goal[1], z), size: { x: 2 * s.goalRadius, y: 2 * s.goalRadius, z: 2 * s.goalRadius }, color: { r: 0.12, g: 0.47, b: 0.71, a: 0.8 } };
      entities.push(entity('constraints', ns, { cubes, cylinders, lines: [box], spheres: [goal] }));
    }
    if (this.#obs.length > 0) {
      const [px, py] = s === null ? [this.#obs[0] ?? 0, this.#obs[1] ?? 0] : s.point(this.#obs);
      const color = riskRgba(this.#q, this.#o.epsRisk);
      const r = span * 0.01;
      const step = (a: Float32Array, c: Rgba): object => ({ type: 0, pose: pose(0, 0, z), thickness: 3, scale_invariant: true, points: [{ x: px, y: py, z }, { x: px + (a[0] ?? 0), y: py + (a[1] ?? 0), z }], color: c, colors: [], indices: [] });
      entities.push(entity('tool', ns, {
        spheres: [{ pose: pose(px, py, z), size: { x: 2 * r, y: 2 * r, z: 2 * r }, color }],
        lines: [step(this.#proposed, { r: 0.5, g: 0.5, b: 0.5, a: 1 }), step(this.#executed, color)],
        texts: [{ pose: pose(px, py, z + 3 * r), billboard: true, font_size: 14, scale_invariant: true, color, text: `Q_risk ${this.#q.toFixed(2)} ${this.#source}` }],
      }));
    }
    if (entities.length === 0) return;
    this.#send(this.#ids.scene, { deletions: [], entities });
    this.sent.scene++;
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    for (const c of this.#wss.clients) c.terminate();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }
}

function copyInto(dst: Float32Array, src: ArrayLike<number>): Float32Array {
  const out = dst.length === src.length ? dst : new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = src[i] ?? 0;
  return out;
}
