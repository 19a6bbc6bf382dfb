// `npm run bench -- <scenario> [args]`: runs bench/<scenario>.ts, which prints one JSON object.
import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const scenarios = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts')
  .map((f) => f.slice(0, -3));
const name = process.argv[2];
if (name === undefined || !scenarios.includes(name)) {
  console.error(`usage: npm run bench -- <scenario>\nscenarios: ${scenarios.join(', ') || '(none yet)'}`);
  process.exit(2);
}
process.argv.splice(2, 1);
await import(pathToFileURL(`${here}/${name}.ts`).href);
