import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { formatZodIssues } from './zod-issues.js';
import { RShieldError } from '../core/errors.js';
import { IMAGE_ENCODINGS } from '../core/image-frame.js';

/**
 * Robot profiles (hardware/*.yaml): what a shield needs to know about one robot — its ROS 2
 * topics and QoS, units and frames, hard limits, the constraint spec that labels violations,
 * staleness and the fail-safe. Parsed once at start-up; the tick reads only the result.
 */

const vec3 = z.tuple([z.number(), z.number(), z.number()]);

/** QoS as rclnodejs can set it (no deadline/lifespan: rclnodejs zeroes them). */
const qosSchema = z.strictObject({
  reliability: z.enum(['reliable', 'best_effort']),
  durability: z.enum(['volatile', 'transient_local']).default('volatile'),
  history: z.enum(['keep_last', 'keep_all']).default('keep_last'),
  depth: z.number().int().min(1).max(1000).default(1),
});

/** A ROS 2 topic name: absolute, or relative to the node's namespace. */
const topicName = z.string().regex(/^\/?[A-Za-z~][A-Za-z0-9_~{}]*(\/[A-Za-z0-9_{}]+)*$/, 'not a valid ROS 2 topic name');

const topicSchema = <T extends string>(type: T) =>
  z.strictObject({ topic: topicName, type: z.literal(type).default(type), qos: qosSchema });

const box = z.strictObject({ min: vec3, max: vec3 }).superRefine((b, ctx) => {
  for (let i = 0; i < 3; i++) {
    if (!(b.min[i]! < b.max[i]!)) {
      ctx.addIssue({ code: 'custom', path: ['max', i], message: `must be greater than min[${i}] = ${b.min[i]}` });
    }
  }
});

/** Stay-out zones, in the base frame and metres. Entering one is a constraint violation, C(s) = 1. */
const zoneSchema = z.discriminatedUnion('shape', [
  z.strictObject({ shape: z.literal('box'), name: z.string().min(1), min: vec3, max: vec3 }),
  z.strictObject({ shape: z.literal('sphere'), name: z.string().min(1), center: vec3, radius: z.number().positive() }),
  z.strictObject({
    shape: z.literal('cylinder'),
    name: z.string().min(1),
    /** Vertical (z-axis) cylinder: centre in x, y; extent in z. */
    center: z.tuple([z.number(), z.number()]),
    radius: z.number().positive(),
    zMin: z.number(),
    zMax: z.number(),
  }),
]);

export const robotProfileSchema = z
  .strictObject({
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'lower-case letters, digits, - and _'),
    description: z.string().default(''),
    /** dvrk-psm: a real dVRK arm; sim: served by `rshield sim` with the same topic names. */
    kind: z.enum(['dvrk-psm', 'sim']),
    /** The arm's name as the dVRK uses it (PSM1, PSM2). */
    arm: z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/),
    /** Simulated robot whose observation layout the models of this robot use (e.g. dvrk-reacher). */
    env: z.string().min(1),
    /** SI, except the navigation robots, whose reference is in abstract units ('unit'; sim only). */
    units: z.strictObject({ length: z.enum(['m', 'unit']), angle: z.literal('rad') }),
    frames: z.strictObject({ base: z.string().min(1), tip: z.string().min(1) }),
    topics: z.strictObject({
      measuredCp: topicSchema('geometry_msgs/msg/PoseStamped'),
      measuredJs: topicSchema('sensor_msgs/msg/JointState'),
      operatingState: topicSchema('crtk_msgs/msg/OperatingState'),
      commandIn: topicSchema('geometry_msgs/msg/PoseStamped'),
      commandOut: topicSchema('geometry_msgs/msg/PoseStamped'),
      hold: topicSchema('std_msgs/msg/Empty'),
      /** The camera; `encoding` is what it sends (the shield reads rgb8, bgr8, mono8 and refuses others here, at start-up). */
      image: z
        .strictObject({
          topic: topicName,
          type: z.literal('sensor_msgs/msg/Image').default('sensor_msgs/msg/Image'),
          qos: qosSchema,
          encoding: z.enum(IMAGE_ENCODINGS).default('rgb8'),
        })
        .optional(),
      episode: topicSchema('std_msgs/msg/String'),
      qRisk: topicSchema('std_msgs/msg/Float64'),
      intervention: topicSchema('std_msgs/msg/Bool'),
      diagnostics: topicSchema('diagnostic_msgs/msg/DiagnosticArray'),
    }),
    tick: z.strictObject({
      /** command: one tick per controller command; timer: a tick every 1/rateHz s on the latest command. */
      mode: z.enum(['command', 'timer']),
      rateHz: z.number().positive().max(2000),
    }),
    /** State older than this (by receive time) is stale: the shield holds. */
    staleAfterMs: z.number().positive().max(10_000),
    /** A camera frame older than this (by capture stamp) is stale: the shield holds. Required with topics.image. */
    imageStaleAfterMs: z.number().positive().max(10_000).optional(),
    limits: z.strictObject({
      /** Hard limits, enforced in every mode (record included): commanded tip positions are clamped into this box. */
      workspace: box,
      /** Largest tip displacement per tick, in units.length (Euclidean). dVRK: servo_cp goals must be reachable in one tick (≤ 0.05 m). */
      maxStepM: z.number().positive(),
    }),
    constraints: z.strictObject({
      /** Leaving this box is a violation (usually a little inside limits.workspace). */
      workspace: box,
      stayOut: z.array(zoneSchema).default([]),
    }),
    failsafe: z.strictObject({ action: z.literal('hold') }),
    /** Which model updates the shield accepts (docs/mqtt.md "Signed models"). */
    models: z
      .strictObject({
        /**
         * Ed25519 public keys of the trainers whose signed versions are accepted: a file path
         * (relative to the profile file), an inline SPKI PEM, or base64 (32-byte raw key or SPKI DER).
         */
        trustedKeys: z.array(z.string().min(1)).default([]),
        /** Accept unsigned versions. Refused unless kind is sim. */
        allowUnsigned: z.boolean().default(false),
      })
      .optional(),
    /** Who may send arm/disarm and recording commands (docs/mqtt.md "Commands"); none: commands are disabled. */
    commands: z
      .strictObject({
        /** Ed25519 public keys of the operators, written like models.trustedKeys. */
        trustedKeys: z.array(z.string().min(1)).default([]),
      })
      .optional(),
  })
  .superRefine((p, ctx) => {
    if (p.kind !== 'sim') {
      // A real arm: SI units, a step it can reach in one tick, signed models only.
      if (p.units.length !== 'm') ctx.addIssue({ code: 'custom', path: ['units', 'length'], message: `must be m for kind ${p.kind} ('unit' is for simulated robots)` });
      if (p.limits.maxStepM > 0.05) ctx.addIssue({ code: 'custom', path: ['limits', 'maxStepM'], message: `must be at most 0.05 m for kind ${p.kind}` });
      if (p.models?.allowUnsigned === true) {
        ctx.addIssue({ code: 'custom', path: ['models', 'allowUnsigned'], message: `unsigned models are for simulated robots only (kind sim), this profile is kind ${p.kind}` });
      }
    }
    if (p.topics.image !== undefined && p.imageStaleAfterMs === undefined) {
      ctx.addIssue({ code: 'custom', path: ['imageStaleAfterMs'], message: 'is required when topics.image is set (how old a camera frame may be)' });
    }
    if (p.topics.commandIn.topic === p.topics.commandOut.topic) {
      ctx.addIssue({ code: 'custom', path: ['topics', 'commandIn', 'topic'], message: 'must differ from topics.commandOut.topic (the shield would feed itself)' });
    }
  });

export type RobotProfile = z.output<typeof robotProfileSchema>;
export type StayOutZone = RobotProfile['constraints']['stayOut'][number];
export type TopicSpec = RobotProfile['topics']['measuredCp'];
export type QosSpec = TopicSpec['qos'];

/** Validates a parsed YAML document. Every issue is reported with its path and the value found. */
export function parseRobotProfile(raw: unknown, source = 'profile'): RobotProfile {
  const result = robotProfileSchema.safeParse(raw);
  if (result.success) return result.data;
  const issues = formatZodIssues(result.error, raw);
  throw new RShieldError('E_CONFIG', `${source}: ${issues.join('; ')}`, { source, issues });
}

/** The package root (holds hardware/), from src/config or dist/src/config. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'hardware'))) return dir;
    dir = dirname(dir);
  }
  return process.cwd();
}

/** Resolves 'psm1' or 'dvrk-reacher' to a shipped profile; anything with a slash or .yaml is a path. */
export function resolveProfilePath(nameOrPath: string): string {
  if (nameOrPath.includes('/') || nameOrPath.endsWith('.yaml') || nameOrPath.endsWith('.yml')) return resolve(nameOrPath);
  const root = packageRoot();
  for (const dir of ['dvrk', 'sim']) {
    const file = join(root, 'hardware', dir, `${nameOrPath}.yaml`);
    if (existsSync(file)) return file;
  }
  throw new RShieldError('E_UNKNOWN_ROBOT', `no robot profile '${nameOrPath}' in hardware/dvrk or hardware/sim`, { robot: nameOrPath });
}

/** Reads and validates a profile file (or a shipped profile by name). */
export function loadRobotProfile(nameOrPath: string): RobotProfile {
  const file = resolveProfilePath(nameOrPath);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new RShieldError('E_IO', `cannot read robot profile ${file}: ${(err as Error).message}`, { file }, { cause: err });
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    const msg = (err as Error).message.split('\n')[0] ?? '';
    throw new RShieldError('E_CONFIG', `${file}: not valid YAML: ${msg}`, { file }, { cause: err });
  }
  return parseRobotProfile(raw, file);
}
