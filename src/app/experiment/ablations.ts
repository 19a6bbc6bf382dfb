/**
 * Ablations of the thesis (Fig. 7) as typed on the command line: a name, and for
 * `offline-size` a value (`offline-size=1000`). Each algorithm lists the names it understands.
 */
import { RShieldError } from '../../core/errors.js';
import type { Algorithm } from '../../learn/algorithm.js';

export const ABLATIONS = ['no-pretraining', 'no-online', 'no-relabeling', 'offline-size'] as const;
/** Ablations that take `=N`, a positive integer. */
const VALUED: readonly string[] = ['offline-size'];

/** The name before any `=`. */
export function ablationName(text: string): string {
  const i = text.indexOf('=');
  return i < 0 ? text : text.slice(0, i);
}

/** Checks one `--ablate` value: a known name, with `=N` exactly where the ablation takes one. */
export function parseAblation(text: string): string {
  const name = ablationName(text);
  if (!(ABLATIONS as readonly string[]).includes(name)) {
    throw new RShieldError('E_USAGE', `--ablate: unknown ablation '${name}' (known: ${ABLATIONS.join(', ')})`, { option: 'ablate', value: text });
  }
  const value = text.slice(name.length + 1);
  if (VALUED.includes(name)) {
    const n = Number(value);
    if (!text.includes('=') || !Number.isInteger(n) || n < 1) {
      throw new RShieldError('E_USAGE', `--ablate ${name} takes a positive integer: ${name}=N, got '${text}'`, { option: 'ablate', value: text });
    }
    return `${name}=${n}`;
  }
  if (text.includes('=')) throw new RShieldError('E_USAGE', `--ablate ${name} takes no value, got '${text}'`, { option: 'ablate', value: text });
  return name;
}

/** The number given to a valued ablation, or undefined when it is not among `ablations`. */
export function ablationValue(ablations: readonly string[], name: string): number | undefined {
  const hit = ablations.find((a) => ablationName(a) === name);
  return hit === undefined ? undefined : Number(hit.slice(name.length + 1));
}

/** Refuses an ablation the algorithm does not list, naming both. */
export function checkAblations(algo: Algorithm, ablations: readonly string[]): void {
  for (const a of ablations) {
    const name = ablationName(a);
    if (!algo.ablations.includes(name)) {
      const known = algo.ablations.length === 0 ? 'it takes none' : `it takes ${algo.ablations.join(', ')}`;
      throw new RShieldError('E_USAGE', `algorithm '${algo.name}' has no ablation '${name}' (${known})`, { algo: algo.name, ablation: name });
    }
  }
}
