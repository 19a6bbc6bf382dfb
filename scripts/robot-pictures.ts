// Writes docs/robot-<name>.svg for every MuJoCo robot (what docs/robots.md shows).
// Usage: node --import tsx scripts/robot-pictures.ts [DIR]   (default docs)
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMujocoRobot, robotNames } from '../src/envs/index.js';
import { robotPicture } from '../src/cli/plots/robot-picture.js';

const dir = process.argv[2] ?? 'docs';
for (const robot of robotNames.filter(isMujocoRobot)) {
  const file = join(dir, `robot-${robot}.svg`);
  writeFileSync(file, await robotPicture(robot));
  console.log(`wrote ${file}`);
}
