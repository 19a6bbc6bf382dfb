// The layer table of docs/architecture.md, checked on the source: every relative import of a
// src/ file points at its own folder or one the table lets it import, and no transport
// adapter imports another. A new import that points the wrong way fails here, by file.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const src = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src');

/** Folder → the folders it may import (docs/architecture.md "Layers"). */
const MAY_IMPORT: Readonly<Record<string, readonly string[]>> = {
  core: [],
  config: ['core'],
  data: ['core', 'config'],
  models: ['core', 'config'],
  nn: ['core'],
  envs: ['core'],
  inference: ['core', 'config', 'models', 'nn'],
  learn: ['core', 'config', 'data', 'models', 'nn'],
  transport: ['core', 'config', 'data', 'models', 'nn', 'envs', 'inference'],
  app: ['core', 'config', 'data', 'models', 'nn', 'envs', 'inference', 'learn', 'transport'],
};

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

const wrong: string[] = [];
const files = tsFiles(src);
for (const file of files) {
  const rel = relative(src, file);
  const layer = rel.includes('/') ? rel.split('/')[0]! : '';
  const allowed = MAY_IMPORT[layer];
  if (allowed === undefined) continue; // cli/ and the entry points may import anything
  for (const m of readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*'(\.[^']+)'/g)) {
    const target = relative(src, normalize(join(dirname(file), m[1]!)));
    const to = target.split('/')[0]!;
    if (to !== layer && !allowed.includes(to)) wrong.push(`${rel} → ${target}`);
    const adapter = rel.split('/')[1];
    if (layer === 'transport' && to === 'transport' && target.split('/').length > 2 && target.split('/')[1] !== adapter && rel.split('/').length > 2) {
      wrong.push(`${rel} → ${target} (one adapter importing another)`);
    }
  }
}

void t.test('no import points the wrong way', (t) => {
  t.ok(files.length > 100, `${files.length} source files read`);
  t.same(wrong, [], 'imports outside the layer table');
  t.end();
});
