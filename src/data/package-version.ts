import { readFileSync } from 'node:fs';

let cached: string | undefined;

/**
 * The installed rshield version, read once from the package's package.json (two levels up
 * from this file both in `src/data/` and in `dist/data/`). Recorded in dataset metadata so a
 * file says which code wrote it.
 */
export function packageVersion(): string {
  if (cached !== undefined) return cached;
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    cached = typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    cached = 'unknown';
  }
  return cached;
}
