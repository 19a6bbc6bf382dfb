/**
 * What `rshield experiment` writes and reads back: one episode per JSONL line (the
 * EpisodeResult of src/learn/algorithm.ts) and the marker of a finished run.
 */
import { z } from 'zod';
import { formatZodIssues } from './zod-issues.js';

export const episodeResultSchema = z.strictObject({
  episode: z.number().int().min(0),
  success: z.boolean(),
  violation: z.boolean(),
  steps: z.number().int().min(0),
  recoverySteps: z.number().int().min(0),
  recoveryViolation: z.boolean(),
  return: z.number(),
});

export const runDoneSchema = z.strictObject({
  robot: z.string(),
  algo: z.string(),
  seed: z.number().int(),
  episodes: z.number().int().min(1),
  ablations: z.array(z.string()),
  seconds: z.number().min(0),
  finishedAt: z.string(),
});
export type RunDone = z.infer<typeof runDoneSchema>;

/** Parses `raw` with `schema`, or returns every issue as `path: message (got value)`. */
export function parseRecord<T>(schema: z.ZodType<T>, raw: unknown): { ok: true; value: T } | { ok: false; issues: string[] } {
  const r = schema.safeParse(raw);
  return r.success ? { ok: true, value: r.data } : { ok: false, issues: formatZodIssues(r.error, raw) };
}
