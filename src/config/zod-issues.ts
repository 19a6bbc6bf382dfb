/**
 * The one way zod issues are printed (STYLE.md 6): every issue, its path (`a.b[2].c`), and the
 * value found there, so "invalid input" never reaches a user without the field and the value.
 */
import type { z } from 'zod';

/** `a.b[2].c`; `root` when the issue is about the whole document. */
export function formatIssuePath(path: readonly PropertyKey[], root = '(root)'): string {
  let s = '';
  for (const key of path) s += typeof key === 'number' ? `[${key}]` : s === '' ? String(key) : `.${String(key)}`;
  return s === '' ? root : s;
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = raw;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

/** A value as JSON, cut at 60 characters (a bad array of 10,000 numbers stays readable). */
function show(v: unknown): string {
  if (v === undefined) return 'missing';
  if (typeof v === 'bigint' || typeof v === 'symbol' || typeof v === 'function') return typeof v === 'bigint' ? `${v}` : typeof v;
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** `path: message (got value)` for every issue; `input` is the document that was parsed. */
export function formatZodIssues(error: z.ZodError, input: unknown, root = '(root)'): string[] {
  return error.issues.map((i) => `${formatIssuePath(i.path, root)}: ${i.message} (got ${show(valueAt(input, i.path))})`);
}
