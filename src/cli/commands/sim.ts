import { RShieldError } from '../../core/errors.js';

/** `rshield sim`: placeholder until its issue lands. */
export async function sim(_argv: string[]): Promise<number> {
  await Promise.resolve();
  throw new RShieldError('E_UNAVAILABLE', 'sim is not built yet');
}
