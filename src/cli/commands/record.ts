import { RShieldError } from '../../core/errors.js';

/** `rshield record`: placeholder until its issue lands. */
export async function record(_argv: string[]): Promise<number> {
  await Promise.resolve();
  throw new RShieldError('E_UNAVAILABLE', 'record is not built yet');
}
