/**
 * The model card (`model.json`): what a model directory holds and how its ONNX files are wired.
 * Models exported by other tools work when their card names their inputs and outputs
 * (DESIGN.md "Public API"). Validated with zod at load (src/models/model-dir.ts reads it); every
 * error names the path and value.
 */
import { isAbsolute, normalize } from 'node:path';
import { z } from 'zod';
import { formatZodIssues } from './zod-issues.js';
import { RShieldError } from '../core/errors.js';
import { RECOVERY_MODES } from '../core/recovery-mode.js';
import { PlannerSettingsSchema } from './planner-settings.js';
import { IMAGE_ENCODINGS } from '../core/image-frame.js';

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
    /** The states the model was trained for (optional): the check batch samples across them. */
    obsLow: z.array(finite).optional(),
    obsHigh: z.array(finite).optional(),
    /** γ_risk of the TD target the critic was trained with (thesis ch. 3, Q_risk definition). */
    gammaRisk: z.number().min(0).max(1),
    /** ε_risk: recovery takes over when Q_risk(s, a_task) > ε_risk. 1 would never recover: refused. */
    epsRisk: z.number().min(0).lt(1, { message: 'must be below 1 (ε_risk 1 never lets recovery act: the shield would be off)' }),
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
    /**
     * The dynamics ensemble of model-based recovery (src/learn/dynamics-ensemble.ts): inputs
     * obs [E, N, obsDim] and act [E, N, actDim], outputs the next state's mean and log-variance
     * [E, N, obsDim], E = `ensemble`.
     */
    dynamics: z
      .object({
        file: modelFile,
        inputs: z.object({ obs: tensorName, act: tensorName }),
        outputs: z.object({ mean: tensorName, logvar: tensorName }),
        ensemble: dim,
      })
      .optional(),
    /**
     * An image model (docs/images.md): critic and recovery also take the camera frame
     * (`critic.onnx`: image, obs, act; `recovery.onnx`: image, obs). The shield runs the split
     * pair instead: `encoder` once per frame (image uint8 [N, H, W, 3] → latent [N, latentDim])
     * and `heads` every tick (latent, obs, act → Q_risk and the recovery action).
     */
    image: z
      .object({
        /** The camera the model was trained on; other sizes are resized in the graph. */
        camera: z.object({ width: dim, height: dim, encoding: z.enum(IMAGE_ENCODINGS) }),
        /** The model's input size after resizing. */
        input: z.object({ width: dim, height: dim }),
        latentDim: dim,
        /** Name of the frame input of critic.onnx, recovery.onnx and the encoder. */
        tensor: tensorName,
      })
      .optional(),
    /** Image models: the frame encoder (input `image.tensor`). */
    encoder: z.object({ file: modelFile, output: tensorName }).optional(),
    /** Image models: the per-tick heads on the newest latent. */
    heads: z
      .object({
        file: modelFile,
        inputs: z.object({ latent: tensorName, obs: tensorName, act: tensorName }),
        outputs: z.object({ qRisk: tensorName, action: tensorName }),
      })
      .optional(),
    /** The CEM planner's settings (src/config/planner-settings.ts); needs `dynamics`. */
    planner: PlannerSettingsSchema.optional(),
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
      const lo = c.actLow[i] as number;
      const hi = c.actHigh[i] as number;
      if (lo > hi) ctx.addIssue({ code: 'custom', path: ['actLow', i], message: `${lo} is above actHigh[${i}] = ${hi}`, input: lo });
      // The fail-safe must be an action the robot accepts as it is: clamping would silently change it.
      const f = c.failsafe?.[i];
      if (f !== undefined && !(f >= lo && f <= hi)) {
        ctx.addIssue({ code: 'custom', path: ['failsafe', i], message: `is outside the action bounds [${lo}, ${hi}]`, input: f });
      }
    }
    if (c.recoveryMode === 'model-based' && (c.dynamics === undefined || c.planner === undefined)) {
      ctx.addIssue({ code: 'custom', path: [c.dynamics === undefined ? 'dynamics' : 'planner'], message: "is required by recoveryMode 'model-based'", input: undefined });
    }
    if (c.planner !== undefined) {
      const p = c.planner;
      if (p.elites > p.population) ctx.addIssue({ code: 'custom', path: ['planner', 'elites'], message: `${p.elites} is more than the population ${p.population}`, input: p.elites });
      if (c.dynamics !== undefined && p.particles % c.dynamics.ensemble !== 0) {
        ctx.addIssue({ code: 'custom', path: ['planner', 'particles'], message: `${p.particles} is not a multiple of the ensemble size ${c.dynamics.ensemble} (TS-∞ keeps each particle on one member)`, input: p.particles });
      }
      const goal = p.goal;
      if (goal !== undefined) {
        if (goal.dims.length !== goal.target.length) ctx.addIssue({ code: 'custom', path: ['planner', 'goal', 'target'], message: `has ${goal.target.length} values for ${goal.dims.length} dims`, input: goal.target });
        goal.dims.forEach((d, i) => {
          if (d >= c.obsDim) ctx.addIssue({ code: 'custom', path: ['planner', 'goal', 'dims', i], message: `${d} is not below obsDim ${c.obsDim}`, input: d });
        });
      }
    }
    if (c.image !== undefined) {
      for (const key of ['encoder', 'heads'] as const) {
        if (c[key] === undefined) ctx.addIssue({ code: 'custom', path: [key], message: "is required by an image model (the card has 'image')", input: undefined });
      }
    }
    if ((c.obsLow === undefined) !== (c.obsHigh === undefined)) {
      ctx.addIssue({ code: 'custom', path: [c.obsLow === undefined ? 'obsLow' : 'obsHigh'], message: 'obsLow and obsHigh go together', input: undefined });
    }
    for (const [key, arr] of [['obsLow', c.obsLow], ['obsHigh', c.obsHigh]] as const) {
      if (arr !== undefined && arr.length !== c.obsDim) ctx.addIssue({ code: 'custom', path: [key], message: `has ${arr.length} values, obsDim is ${c.obsDim}`, input: arr });
    }
    for (let i = 0; c.obsLow !== undefined && c.obsHigh !== undefined && i < Math.min(c.obsLow.length, c.obsHigh.length); i++) {
      if ((c.obsLow[i] as number) > (c.obsHigh[i] as number)) {
        ctx.addIssue({ code: 'custom', path: ['obsLow', i], message: `${c.obsLow[i]} is above obsHigh[${i}] = ${c.obsHigh[i]}`, input: c.obsLow[i] });
      }
    }
  });

/** A validated card (defaults applied). */
export type ModelCard = z.output<typeof ModelCardSchema>;
/** What a writer (e.g. `rshield train`) may pass: defaults not yet applied. */
export type ModelCardInput = z.input<typeof ModelCardSchema>;

/**
 * Validates a parsed card. `source` names it in errors (a path, or e.g. "model update 7").
 * Throws RShieldError E_MODEL listing every issue as `path: message (got value)`.
 */
export function parseModelCard(json: unknown, source: string): ModelCard {
  const r = ModelCardSchema.safeParse(json);
  if (r.success) return r.data;
  const issues = formatZodIssues(r.error, json, '(card)');
  throw new RShieldError('E_MODEL', `${source}: invalid model card: ${issues.join('; ')}`, { source, issues });
}
