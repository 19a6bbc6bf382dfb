/**
 * zod schemas of every JSON payload on the rshield MQTT topic tree (docs/mqtt.md). Receivers
 * `safeParse` each message; an invalid one is dropped and counted, never half-applied.
 */
import { z } from 'zod';
import { formatZodIssues } from './zod-issues.js';

const robotName = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);
const count = z.number().int().nonnegative();
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex digits (sha256)');

/** `status` (retained). The broker publishes the `offline` form as the shield's last will. */
export const statusPayload = z.discriminatedUnion('state', [
  z.object({
    v: z.literal(1),
    state: z.literal('online'),
    robot: robotName,
    armed: z.boolean(),
    recording: z.boolean(),
    modelVersion: z.string().max(128),
    provider: z.string().max(64),
    startedAt: z.number(),
    lastSwapError: z.string().max(1000).optional(),
    /** Set once the transition spool hit a disk error and stopped writing (shielding goes on). */
    diskError: z.string().max(1000).optional(),
    /** When `armed` last changed (ms), and by which command: key id and the operator's id. */
    armedChangedAt: z.number().optional(),
    armedBy: z.string().max(200).optional(),
    /** Commands refused (retained, unsigned, unknown key, stale, replayed, over the rate, ...). */
    commandsRefused: count.optional(),
    lastCommandRefusal: z.string().max(1000).optional(),
    /** The version an operator pinned (`pin`, or `rollback`): updates are refused until `unpin`. */
    pinned: z.string().max(128).optional(),
  }),
  z.object({ v: z.literal(1), state: z.literal('offline'), robot: robotName }),
]);
export type StatusPayload = z.infer<typeof statusPayload>;

/** `telemetry`, once a second. Counts are cumulative since start; the viewer derives rates. */
export const telemetryPayload = z.object({
  v: z.literal(1),
  robot: robotName,
  time: z.number(),
  ticks: count,
  tickP50Us: z.number().nonnegative(),
  tickP99Us: z.number().nonnegative(),
  interventions: count,
  failsafes: count,
  /** Fail-safes by reason (stale, non-finite, deadline, …), the non-zero ones. */
  failsafesByReason: z.record(z.string().max(32), count).optional(),
  provider: z.string().max(64),
  modelVersion: z.string().max(128),
  armed: z.boolean(),
  recording: z.boolean(),
  swaps: count,
  swapFailures: count,
  transitionsSpooled: count,
  transitionsDropped: count,
  invalidMessages: count,
  /** Commands refused by the command guard (cumulative). */
  commandsRefused: count.optional(),
  /** The inference watchdog (docs/shield.md "Watchdog"), cumulative over swaps; absent in-thread. */
  watchdog: z.object({ late: count, busy: count, replacements: count, stuck: z.boolean() }).optional(),
  /**
   * Does the critic still fit the robot (src/core/drift-monitor.ts), since the running model was
   * installed: violations right after a task action it rated safe, RMS TD error of its decisions.
   */
  drift: z
    .object({ transitions: count, violations: count, missedViolations: count, tdErrorRms: z.number().nonnegative().nullable(), suspected: z.boolean() })
    .optional(),
});
export type TelemetryPayload = z.infer<typeof telemetryPayload>;

/**
 * `cmd`: operator commands, signed by a trusted operator key (src/models/command-signing.ts):
 * robot, issuedAt (wall-clock ms) and nonce are inside the signed text, so a captured command
 * cannot be replayed or sent to another robot. The signing fields are optional here so that an
 * unsigned command is refused by the command guard with that reason, not as malformed.
 * `id` lets an operator match the change in the next status.
 */
export const cmdPayload = z.object({
  v: z.literal(1),
  cmd: z.enum(['arm', 'disarm', 'record-start', 'record-stop', 'pin', 'unpin', 'rollback']),
  id: z.string().max(64).optional(),
  robot: robotName.optional(),
  issuedAt: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).optional(),
  nonce: z.string().regex(/^[0-9a-f]{16,64}$/, 'expected 16-64 lowercase hex digits').optional(),
  /** sha256 (hex, first 16) of the operator's SPKI public key. */
  keyId: z.string().regex(/^[0-9a-f]{16}$/).optional(),
  /** Ed25519 signature (base64) over the command signing message. */
  signature: z.string().max(200).optional(),
});
export type CmdPayload = z.infer<typeof cmdPayload>;

/** The card travels with its model; the shield's own loader checks the rest of it. */
export const announcedCard = z.looseObject({
  robot: robotName,
  version: z.string().min(1).max(128),
  obsDim: z.number().int().positive(),
  actDim: z.number().int().positive(),
});

/**
 * A file of a model directory as its card names it (e.g. critic.onnx, or a PyTorch export's
 * q.onnx): a relative path of plain segments, never absolute, never '.' or '..'.
 */
export const modelFileName = z
  .string()
  .max(200)
  .regex(/^[A-Za-z0-9_-][A-Za-z0-9._-]*(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$/, 'must be a relative file name of letters, digits, ., _ and - (no leading dot)')
  .refine((f) => f !== 'model.json', 'must not be the card itself');
export type ModelFileName = z.infer<typeof modelFileName>;

const maxModelFileBytes = 64 * 1024 * 1024;
/** Chunks one file may be sent in (a receiver allocates a slot per chunk when announced). */
export const MAX_CHUNKS_PER_FILE = 4096;

/** `model`, kind 'announce': a signed new version. Bytes follow as chunks or sit in the shield's model store by hash. */
export const modelAnnounce = z.object({
  v: z.literal(1),
  kind: z.literal('announce'),
  robot: robotName,
  version: z.string().min(1).max(128),
  /** Signed publish sequence: a shield refuses a version at or below the one it runs. */
  sequence: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  card: announcedCard,
  files: z
    .array(z.object({ name: modelFileName, sha256: sha256Hex, bytes: z.number().int().positive().max(maxModelFileBytes) }))
    .min(1)
    .max(16)
    .refine((fs) => new Set(fs.map((f) => f.name)).size === fs.length, 'each file is listed once'),
  transfer: z.discriminatedUnion('mode', [
    z.object({ mode: z.literal('inline'), chunkBytes: z.number().int().positive().max(1024 * 1024) }),
    z.object({ mode: z.literal('hash') }),
  ]),
  /** Ed25519 signature (base64) over the canonical signing message (model-signing.ts). */
  signature: z.string().max(200).optional(),
  /** sha256 (hex, first 16) of the signer's SPKI public key. */
  keyId: z.string().regex(/^[0-9a-f]{16}$/).optional(),
});
export type ModelAnnounce = z.infer<typeof modelAnnounce>;

/** `model`, kind 'chunk': part `index` of `total` of one file of an announced version. */
export const modelChunk = z.object({
  v: z.literal(1),
  kind: z.literal('chunk'),
  version: z.string().min(1).max(128),
  file: modelFileName,
  index: z.number().int().nonnegative(),
  total: z.number().int().positive().max(MAX_CHUNKS_PER_FILE),
  data: z.base64(),
});
export type ModelChunk = z.infer<typeof modelChunk>;

export const modelMessage = z.discriminatedUnion('kind', [modelAnnounce, modelChunk]);
export type ModelMessage = z.infer<typeof modelMessage>;

/** Parses a JSON payload against a schema: the value, or a one-line reason naming paths. */
export function parseJsonPayload<T>(schema: z.ZodType<T>, bytes: Uint8Array): { ok: true; value: T } | { ok: false; reason: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (err) {
    return { ok: false, reason: `not JSON: ${err instanceof Error ? err.message : String(err)}` };
  }
  const r = schema.safeParse(raw);
  if (r.success) return { ok: true, value: r.data };
  const issues = formatZodIssues(r.error, raw);
  return { ok: false, reason: issues.join('; ') };
}
