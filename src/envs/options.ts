import { RShieldError } from '../core/errors.js';

/** Options every robot accepts in createEnv: a seed plus robot-specific parameters. */
export interface EnvOptions {
  seed?: number;
  [param: string]: unknown;
}

/**
 * Resolves a robot's options once at construction (STYLE.md 5): unknown parameter names are
 * an error that lists the known ones, so a typo ("lenght") never silently runs the default.
 */
export class OptionReader {
  constructor(
    private readonly robot: string,
    private readonly opts: EnvOptions,
    known: readonly string[],
  ) {
    const allowed = new Set(['seed', ...known]);
    for (const key of Object.keys(opts)) {
      if (opts[key] !== undefined && !allowed.has(key)) {
        throw new RShieldError(
          'E_CONFIG',
          `${robot}: unknown option '${key}' (known: ${[...allowed].join(', ')})`,
          { robot, option: key },
        );
      }
    }
  }

  seed(): number {
    const s = this.opts.seed;
    if (s === undefined) return 0;
    if (typeof s !== 'number' || !Number.isInteger(s)) {
      throw this.bad('seed', s, 'an integer');
    }
    return s;
  }

  number(key: string, fallback: number, range?: readonly [number, number]): number {
    const v = this.opts[key];
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw this.bad(key, v, 'a finite number');
    if (range && (v < range[0] || v > range[1])) throw this.bad(key, v, `a number in [${range[0]}, ${range[1]}]`);
    return v;
  }

  integer(key: string, fallback: number, range: readonly [number, number]): number {
    const v = this.number(key, fallback, range);
    if (!Number.isInteger(v)) throw this.bad(key, v, `an integer in [${range[0]}, ${range[1]}]`);
    return v;
  }

  boolean(key: string, fallback: boolean): boolean {
    const v = this.opts[key];
    if (v === undefined) return fallback;
    if (typeof v !== 'boolean') throw this.bad(key, v, 'true or false');
    return v;
  }

  oneOf<T extends string>(key: string, values: readonly T[], fallback: T): T {
    const v = this.opts[key];
    if (v === undefined) return fallback;
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
      throw this.bad(key, v, `one of ${values.join(', ')}`);
    }
    return v as T;
  }

  /** A list of finite numbers whose length is one of `lengths`, or undefined when absent. */
  numbers(key: string, lengths: readonly number[]): number[] | undefined {
    const v = this.opts[key];
    if (v === undefined) return undefined;
    const arr = ArrayBuffer.isView(v) ? Array.from(v as unknown as ArrayLike<number>) : v;
    if (
      !Array.isArray(arr) ||
      !lengths.includes(arr.length) ||
      !arr.every((x): x is number => typeof x === 'number' && Number.isFinite(x))
    ) {
      throw this.bad(key, v, `a list of ${lengths.join(' or ')} finite numbers`);
    }
    return arr;
  }

  private bad(key: string, value: unknown, expected: string): RShieldError {
    return new RShieldError(
      'E_CONFIG',
      `${this.robot}: option '${key}' is ${describe(value)}, expected ${expected}`,
      { robot: this.robot, option: key, value },
    );
  }
}

function describe(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`;
  if (Array.isArray(v)) return `[${v.map((x) => String(x)).join(', ')}]`;
  return String(v);
}
