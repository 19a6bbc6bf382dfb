import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: two levels above this file in both src/models and dist/models. */
export const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The shipped model directory of a robot (models/<robot> in the package). */
export function shippedModelDir(robot: string): string {
  return join(packageRoot, 'models', robot);
}
