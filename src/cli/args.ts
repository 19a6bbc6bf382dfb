import { parseArgs, type ParseArgsConfig } from 'node:util';
import { RShieldError } from '../core/errors.js';

/** Option table of a command, as node:util parseArgs takes it. */
export type OptionTable = NonNullable<ParseArgsConfig['options']>;

/** Values of a parsed command line: strings for valued options, booleans for flags. */
export interface ParsedArgs {
  readonly values: Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>;
  readonly positionals: string[];
}

/**
 * Parses a command's arguments strictly: an unknown option or a missing value becomes one
 * E_USAGE error naming the option, never a stack trace.
 */
export function parseCommandArgs(command: string, argv: string[], options: OptionTable): ParsedArgs {
  try {
    const { values, positionals } = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
    return { values, positionals };
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    const first = msg.split('\n')[0] ?? msg;
    // parseArgs reads `--n -3` as two options; say how to pass a negative number.
    const ambiguous = /^Option '(--[\w-]+)[^']*' argument is ambiguous/.exec(first);
    const text = ambiguous === null ? first : `${ambiguous[1]} takes a value; a value that starts with '-' is written ${ambiguous[1]}=VALUE`;
    throw new RShieldError('E_USAGE', `${text} (see rshield ${command} --help)`, { command });
  }
}

/** A single string option (the last one when repeated). */
export function stringOption(values: ParsedArgs['values'], name: string): string | undefined {
  const v = values[name];
  if (Array.isArray(v)) {
    const last = v[v.length - 1];
    return typeof last === 'string' ? last : undefined;
  }
  return typeof v === 'string' ? v : undefined;
}

/** A repeatable string option, all values in order. */
export function stringsOption(values: ParsedArgs['values'], name: string): string[] {
  const v = values[name];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string');
}

/** Reads an integer option, naming the option and the bad value on error. */
export function intOption(name: string, value: string | undefined, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) {
    throw new RShieldError('E_USAGE', `--${name} must be an integer ≥ ${min}, got '${value}'`, { option: name, value });
  }
  return n;
}

/** Reads a finite number option, naming the option and the bad value on error. */
export function numberOption(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) {
    throw new RShieldError('E_USAGE', `--${name} must be a number, got '${value}'`, { option: name, value });
  }
  return n;
}

/** A required string option, or one E_USAGE line naming it. */
export function requiredOption(values: ParsedArgs['values'], name: string, command: string): string {
  const v = stringOption(values, name);
  if (v === undefined || v === '') throw new RShieldError('E_USAGE', `--${name} is required (see rshield ${command} --help)`, { option: name });
  return v;
}
