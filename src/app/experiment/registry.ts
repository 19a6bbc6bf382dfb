/**
 * The algorithms `rshield experiment` can run. To add one, import it and append it to the
 * list: the runner, `--help` and the workers all read this list.
 */
import { RShieldError } from '../../core/errors.js';
import type { Algorithm } from '../../learn/algorithm.js';
import { scripted, scriptedShielded } from './scripted.js';
import { scriptedOnline } from './scripted-online.js';
import { algorithms as learned } from '../../learn/algorithms/index.js';

/** The scripted controller (unshielded, shielded, shielded and learning online), then SAC with Recovery RL and its baselines. */
export const algorithms: readonly Algorithm[] = [scripted, scriptedShielded, scriptedOnline, ...learned];

/** The algorithm named `name` among `list`, or E_USAGE naming the known ones. */
export function findAlgorithm(name: string, list: readonly Algorithm[] = algorithms): Algorithm {
  const a = list.find((x) => x.name === name);
  if (a === undefined) throw new RShieldError('E_USAGE', `unknown algorithm '${name}' (known: ${list.map((x) => x.name).join(', ')})`, { algo: name });
  return a;
}

/** The registry's algorithms and those of extra modules (each exports an `algorithms` array). */
export async function loadAlgorithms(modules: readonly string[]): Promise<Algorithm[]> {
  const list = [...algorithms];
  for (const m of modules) {
    const mod = (await import(m)) as { algorithms?: unknown };
    if (!Array.isArray(mod.algorithms)) throw new RShieldError('E_USAGE', `${m}: exports no 'algorithms' array`, { module: m });
    list.push(...(mod.algorithms as Algorithm[]));
  }
  return list;
}
