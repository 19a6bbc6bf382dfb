import { z } from 'zod';
import { RShieldError } from '../core/errors.js';
import { formatZodIssues } from '../config/zod-issues.js';

/** Name of the MCAP metadata record that describes a transitions dataset. */
export const DATASET_METADATA_NAME = 'rshield';
/** Format of the transitions channel and of this record; bumped on incompatible changes. */
export const DATASET_FORMAT = 'rshield-transitions/1';

/** What a dataset file says about itself (its `rshield` metadata record). */
export interface DatasetMeta {
  readonly robot: string;
  readonly obsDim: number;
  readonly actDim: number;
  readonly actLow: Float32Array;
  readonly actHigh: Float32Array;
  /** Which generator (or recorder) produced the transitions, e.g. `nav1 offline rollouts`. */
  readonly generator: string;
  readonly seed: number;
  /** Transitions asked for; a generator may yield fewer (episodes that end early). */
  readonly requested: number;
  /** rshield version that wrote the file. */
  readonly version: string;
  /** ISO 8601 time the file was created. */
  readonly created: string;
  readonly obsNames: readonly string[];
  readonly units: string;
  /** Robot parameters the data was generated with (e.g. nav `B`, cartpole `length`); MESA tells datasets apart by them. */
  readonly params: Readonly<Record<string, unknown>>;
  /** The MESA task the data belongs to, when it was collected as part of a task family. */
  readonly task?: DatasetTask;
}

/** Which member of a task family (src/envs/task-family.ts) a dataset was collected on. */
export interface DatasetTask {
  readonly family: string;
  readonly index: number;
  readonly split: 'train' | 'test';
}

/** Encodes the metadata as MCAP's string map: numbers in decimal, vectors as JSON arrays. */
export function encodeDatasetMeta(meta: DatasetMeta): Record<string, string> {
  return {
    format: DATASET_FORMAT,
    robot: meta.robot,
    obs_dim: String(meta.obsDim),
    act_dim: String(meta.actDim),
    act_low: JSON.stringify(Array.from(meta.actLow)),
    act_high: JSON.stringify(Array.from(meta.actHigh)),
    obs_names: JSON.stringify(meta.obsNames),
    units: meta.units,
    params: JSON.stringify(meta.params),
    generator: meta.generator,
    seed: String(meta.seed),
    requested_transitions: String(meta.requested),
    rshield_version: meta.version,
    created: meta.created,
    ...(meta.task === undefined ? {} : { task: JSON.stringify(meta.task) }),
  };
}

const intString = z.string().regex(/^-?\d+$/, 'expected an integer').transform(Number);
const jsonNumbers = z.string().transform((s, ctx) => {
  try {
    const v: unknown = JSON.parse(s);
    if (Array.isArray(v) && v.every((x) => typeof x === 'number')) return v;
  } catch {
    // reported below
  }
  ctx.addIssue({ code: 'custom', message: 'expected a JSON array of numbers' });
  return z.NEVER;
});
const jsonStrings = z.string().transform((s, ctx) => {
  try {
    const v: unknown = JSON.parse(s);
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v;
  } catch {
    // reported below
  }
  ctx.addIssue({ code: 'custom', message: 'expected a JSON array of strings' });
  return z.NEVER;
});

const taskSchema = z.object({ family: z.string().min(1), index: z.number().int().nonnegative(), split: z.enum(['train', 'test']) });

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

const schema = z.object({
  format: z.literal(DATASET_FORMAT),
  robot: z.string().min(1),
  obs_dim: intString.pipe(z.number().int().positive()),
  act_dim: intString.pipe(z.number().int().positive()),
  act_low: jsonNumbers,
  act_high: jsonNumbers,
  obs_names: jsonStrings.optional(),
  units: z.string().optional(),
  params: z.string().transform((s, ctx) => {
    try {
      const v: unknown = JSON.parse(s);
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
    } catch {
      // reported below
    }
    ctx.addIssue({ code: 'custom', message: 'expected a JSON object' });
    return z.NEVER;
  }).optional(),
  generator: z.string(),
  seed: intString,
  requested_transitions: intString.pipe(z.number().int().nonnegative()),
  rshield_version: z.string(),
  created: z.string(),
  task: z.string().transform((s, ctx) => {
    const parsed = taskSchema.safeParse(safeJson(s));
    if (parsed.success) return parsed.data;
    ctx.addIssue({ code: 'custom', message: 'expected a JSON object {family, index, split: train|test}' });
    return z.NEVER;
  }).optional(),
});

/** Validates a file's `rshield` metadata record; errors name the file and every bad key. */
export function decodeDatasetMeta(values: ReadonlyMap<string, string>, file: string): DatasetMeta {
  const record = Object.fromEntries(values);
  const parsed = schema.safeParse(record);
  if (!parsed.success) {
    const issues = formatZodIssues(parsed.error, record, '(record)').join('; ');
    throw new RShieldError('E_DATA', `${file}: bad '${DATASET_METADATA_NAME}' metadata: ${issues}`, { file });
  }
  const m = parsed.data;
  for (const [key, v] of [['act_low', m.act_low], ['act_high', m.act_high]] as const) {
    if (v.length !== m.act_dim) {
      throw new RShieldError('E_DATA', `${file}: metadata ${key} has ${v.length} values, act_dim is ${m.act_dim}`, { file });
    }
  }
  return {
    robot: m.robot,
    obsDim: m.obs_dim,
    actDim: m.act_dim,
    actLow: Float32Array.from(m.act_low),
    actHigh: Float32Array.from(m.act_high),
    generator: m.generator,
    seed: m.seed,
    requested: m.requested_transitions,
    version: m.rshield_version,
    created: m.created,
    obsNames: m.obs_names ?? [],
    units: m.units ?? '',
    params: m.params ?? {},
    ...(m.task === undefined ? {} : { task: m.task }),
  };
}
