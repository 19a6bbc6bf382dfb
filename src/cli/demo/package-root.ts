import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: three levels above this file in both src/cli/demo and dist/cli/demo. */
export const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** The shipped model directory of a robot. */
export function shippedModelDir(robot: string): string {
  return join(packageRoot, 'models', robot);
}
