import { RShieldError } from '../../core/errors.js';

/** `rshield collect`: placeholder until its issue lands. */
export async function collect(_argv: string[]): Promise<number> {
  await Promise.resolve();
  throw new RShieldError('E_UNAVAILABLE', 'collect is not built yet');
}
