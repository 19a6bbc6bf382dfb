import { RShieldError } from '../../core/errors.js';

/** `rshield train`: placeholder until its issue lands. */
export async function train(_argv: string[]): Promise<number> {
  await Promise.resolve();
  throw new RShieldError('E_UNAVAILABLE', 'train is not built yet');
}
