import { RShieldError } from '../../core/errors.js';

/** `rshield trainer`: placeholder until its issue lands. */
export async function trainer(_argv: string[]): Promise<number> {
  await Promise.resolve();
  throw new RShieldError('E_UNAVAILABLE', 'trainer is not built yet');
}
