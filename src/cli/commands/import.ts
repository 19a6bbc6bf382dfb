import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { RShieldError } from '../../core/errors.js';
import { TransitionWriter, specMeta } from '../../data/transition-writer.js';
import { createEnv, knownRobot, prepareRobot, robotNames } from '../../envs/index.js';
import { parseCommandArgs, stringOption, type OptionTable } from '../args.js';

const options: OptionTable = {
  robot: { type: 'string' },
  format: { type: 'string' },
  out: { type: 'string' },
  force: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

const HELP = [
  'usage: rshield import --robot R --out FILE.mcap [--format rrl|mesa] [--force] IN.pkl [IN.pkl …]',
  '',
  'Converts offline data pickled by the reference implementations into an MCAP dataset',
  '(docs/datasets.md): Recovery RL\'s list of (s, a, c, s\', mask) tuples, or MESA\'s',
  '(s, a, c, s\', mask, mc_return), of numpy arrays or lists. Episodes are recovered from the',
  'stream (a mask of 0, or a row that does not start where the last one ended). Nothing in a',
  'pickle runs: only numpy arrays and plain values are built, anything else is refused.',
  '',
  'options:',
  `  --robot R          the simulated robot the data is from: ${robotNames.join(', ')}`,
  '  --out FILE.mcap    output file; its directory must exist',
  '  --format rrl|mesa  5- or 6-tuples (default: what the first file holds)',
  '  --force            overwrite FILE if it exists',
].join('\n');

/** Pickles larger than this are refused unread (the reference's largest is ~100 MB). */
const MAX_PICKLE_BYTES = 2 * 1024 ** 3 - 1;

/** `rshield import`: reference-format pickles of D_offline into one MCAP dataset. */
export async function importData(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('import', argv, options);
  if (values.help === true) {
    console.log(HELP);
    return 0;
  }
  const robot = knownRobot(required(stringOption(values, 'robot'), 'robot'));
  const out = required(stringOption(values, 'out'), 'out');
  const formatText = stringOption(values, 'format');
  if (formatText !== undefined && formatText !== 'rrl' && formatText !== 'mesa') throw new RShieldError('E_USAGE', `--format must be rrl or mesa, got '${formatText}'`, { option: 'format' });
  let format: 'rrl' | 'mesa' | undefined = formatText;
  if (positionals.length === 0) throw new RShieldError('E_USAGE', 'give one or more pickle files to import (see rshield import --help)');
  if (existsSync(out) && values.force !== true) throw new RShieldError('E_IO', `--out '${out}' ${statSync(out).isDirectory() ? 'is a directory' : 'exists (pass --force to overwrite it)'}`, { path: out });
  // Loaded here: only this command reads pickles.
  const { parseReferencePickle, referenceTransitions } = await import('../../data/reference-pickle.js');
  await prepareRobot(robot);
  const probe = createEnv(robot);
  const { spec } = probe;
  probe.close?.();
  // Every file is read and checked before the output is created: a bad one leaves nothing half-written.
  const files: { path: string; rows: ReturnType<typeof parseReferencePickle>['rows'] }[] = [];
  for (const path of positionals) {
    const size = statSync(path, { throwIfNoEntry: false });
    if (size === undefined || !size.isFile()) throw new RShieldError('E_IO', `${path}: not a file`, { path });
    if (size.size > MAX_PICKLE_BYTES) throw new RShieldError('E_DATA', `${path}: ${size.size} bytes, over the ${MAX_PICKLE_BYTES} this reads`, { path });
    const parsed = parseReferencePickle(await readFile(path), path, format);
    format = parsed.format;
    const first = parsed.rows[0]!;
    if (first.obs.length !== spec.obsDim || first.act.length !== spec.actDim) {
      throw new RShieldError('E_DATA', `${path}: states have ${first.obs.length} and actions ${first.act.length} values; ${robot} has ${spec.obsDim} and ${spec.actDim}`, { path });
    }
    files.push({ path, rows: parsed.rows });
  }
  const writer = TransitionWriter.open(out, {
    ...specMeta(spec),
    generator: `rshield import (${format} pickles: ${positionals.map((p) => basename(p)).join(', ')})`,
    seed: 0,
    requested: files.reduce((n, f) => n + f.rows.length, 0),
    params: {},
  });
  let episodes = 0;
  let violations = 0;
  try {
    for (const f of files) {
      const ts = referenceTransitions(f.rows, episodes);
      for (const t of ts) {
        writer.write(t);
        if (t.cost > 0) violations++;
      }
      episodes = (ts.at(-1)?.episode ?? episodes - 1) + 1;
    }
  } finally {
    writer.close();
  }
  console.log(`import: wrote ${writer.count} transitions (${violations} violations, ${episodes} episodes) of ${robot} from ${files.length} ${format} pickle${files.length === 1 ? '' : 's'} to ${out}`);
  return 0;
}

function required(value: string | undefined, name: string): string {
  if (value === undefined || value === '') throw new RShieldError('E_USAGE', `--${name} is required (see rshield import --help)`, { option: name });
  return value;
}
