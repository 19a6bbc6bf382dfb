import { RShieldError } from '../../core/errors.js';

/** `rshield demo`: placeholder until its issue lands. */
export async function demo(_argv: string[]): Promise<number> {
  await Promise.resolve();
  throw new RShieldError('E_UNAVAILABLE', 'demo is not built yet');
}
