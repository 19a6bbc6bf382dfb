/**
 * The model card (`model.json`): what a model directory holds and how its ONNX files are wired.
 * Models exported by other tools work when their card names their inputs and outputs
 * (DESIGN.md "Public API"). Validated with zod at load (src/models/model-dir.ts reads it); every
 * error names the path and value.
 */
import { isAbsolute, normalize } from 'node:path';
import { z } from 'zod';
import { RShieldError } from '../core/errors.js';
import { RECOVERY_MODES } from '../core/recovery-mode.js';

export const MODEL_CARD_FORMAT = 'rshield-model/1';
export const MODEL_CARD_FILE = 'model.json';

/** A file inside the model directory: a plain relative path that cannot climb out of it. */
const modelFile = z
  .string()
  .min(1)
  .refine((f) => !isAbsolute(f) && !normalize(f).startsWith('..'), { message: 'must be a path inside the model directory' });
const tensorName = z.string().min(1);
const dim = z.number().int().positive();
const finite = z.number().finite();

export const ModelCardSchema = z
  .object({
    format: z.literal(MODEL_CARD_FORMAT),
    robot: z.string().min(1),
    version: z.string().min(1),
    createdAt: z.string().min(1),
    obsDim: dim,
    actDim: dim,
    actLow: z.array(finite),
    actHigh: z.array(finite),
    /** γ_risk of the TD target the critic was trained with (thesis ch. 3, Q_risk definition). */
    gammaRisk: z.number().min(0).max(1),
    /** ε_risk: recovery takes over when Q_risk(s, a_task) > ε_risk. */
    epsRisk: z.number().min(0).max(1),
    /** The robot's fail-safe action (e.g. zero delta = hold); zeros when absent. */
    failsafe: z.array(finite).optional(),
    /** Stay in recovery until Q_risk < ε_risk − hysteresis. */
    hysteresis: z.number().min(0).max(1).default(0),
    /** How the shield recovers: π_rec(s) ('policy', the reference) or the nearest safe action. */
    recoveryMode: z.enum(RECOVERY_MODES).default('policy'),
    critic: z.object({
      file: modelFile,
      inputs: z.object({ obs: tensorName, act: tensorName }),
      output: tensorName,
    }),
    recovery: z.object({ file: modelFile, input: tensorName, output: tensorName }),
    data: z
      .array(z.object({ file: z.string().min(1), sha256: z.string().regex(/^[0-9a-f]{64}$/), transitions: z.number().int().nonnegative() }))
      .optional(),
    metrics: z.record(z.string(), z.unknown()).optional(),
    training: z.record(z.string(), z.unknown()).optional(),
  })
  .superRefine((c, ctx) => {
    const sized: [string, number[] | undefined][] = [
      ['actLow', c.actLow],
      ['actHigh', c.actHigh],
      ['failsafe', c.failsafe],
    ];
    for (const [key, arr] of sized) {
      if (arr !== undefined && arr.length !== c.actDim) {
        ctx.addIssue({ code: 'custom', path: [key], message: `has ${arr.length} values, actDim is ${c.actDim}`, input: arr });
      }
    }
    for (let i = 0; i < Math.min(c.actLow.length, c.actHigh.length); i++) {
      if ((c.actLow[i] as number) > (c.actHigh[i] as number)) {
        ctx.addIssue({ code: 'custom', path: ['actLow', i], message: `${c.actLow[i]} is above actHigh[${i}] = ${c.actHigh[i]}`, input: c.actLow[i] });
      }
    }
  });

/** A validated card (defaults applied). */
export type ModelCard = z.output<typeof ModelCardSchema>;
/** What a writer (e.g. `rshield train`) may pass: defaults not yet applied. */
export type ModelCardInput = z.input<typeof ModelCardSchema>;

function show(v: unknown): string {
  const s = JSON.stringify(v);
  if (s === undefined) return String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/**
 * Validates a parsed card. `source` names it in errors (a path, or e.g. "model update 7").
 * Throws RShieldError E_MODEL listing every issue as `path: message (got value)`.
 */
export function parseModelCard(json: unknown, source: string): ModelCard {
  const r = ModelCardSchema.safeParse(json, { reportInput: true });
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => {
    const path = i.path.length > 0 ? i.path.join('.') : '(card)';
    const got = 'input' in i ? ` (got ${show(i.input)})` : '';
    return `${path}: ${i.message}${got}`;
  });
  throw new RShieldError('E_MODEL', `${source}: invalid model card: ${issues.join('; ')}`, { source, issues });
}
