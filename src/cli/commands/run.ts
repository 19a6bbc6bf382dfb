import { RShieldError } from '../../core/errors.js';

/** `rshield run`: placeholder until its issue lands. */
export async function run(_argv: string[]): Promise<number> {
  await Promise.resolve();
  throw new RShieldError('E_UNAVAILABLE', 'run is not built yet');
}
