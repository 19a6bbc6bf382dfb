import { RShieldError } from '../../core/errors.js';

/** `rshield keys`: placeholder until its issue lands. */
export async function keys(_argv: string[]): Promise<number> {
  await Promise.resolve();
  throw new RShieldError('E_UNAVAILABLE', 'keys is not built yet');
}
