import { join } from 'node:path';
import { packageRoot } from '../config/profile.js';

/** The shipped model directory of a robot (models/<robot> in the package), wherever the command runs. */
export function shippedModelDir(robot: string): string {
  return join(packageRoot(), 'models', robot);
}
