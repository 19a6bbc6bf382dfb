import { RShieldError } from '../../core/errors.js';

/** `rshield status`: placeholder until its issue lands. */
export async function status(_argv: string[]): Promise<number> {
  await Promise.resolve();
  throw new RShieldError('E_UNAVAILABLE', 'status is not built yet');
}
