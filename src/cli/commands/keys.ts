import { chmod, mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RShieldError } from '../../core/errors.js';
import { readFile } from 'node:fs/promises';
import { generateSigningKeys, parsePrivateKey } from '../../models/signing.js';
import { LOCAL_SIGNATURE_FILE, signModelDir } from '../../inference/local-model-trust.js';
import { parseCommandArgs, stringOption } from '../args.js';

const HELP = `usage: rshield keys generate --out DIR [--name NAME] [--force]
       rshield keys sign --key FILE MODEL_DIR

Makes an Ed25519 key pair: DIR/NAME.key (private, mode 0600) and DIR/NAME.pub (public).
NAME trainer (default) signs models: give the .key to \`rshield trainer --key\` and the .pub to
\`rshield run --trust-key\`. NAME operator signs commands: the .key to \`rshield cmd --key\`, the
.pub to \`rshield run --operator-key\` (or commands.trustedKeys in the profile). Keep the two
apart: a trainer key cannot disarm a shield, an operator key cannot publish a model.
Prints the key id that signed messages carry.

sign writes MODEL_DIR/model.sig.json: a signature over the card and every file it names, which
\`rshield run\` checks when --require-signed is given or the profile is a real arm's (psm1, psm2;
ROS 2 and MQTT alike). Put the .pub in the profile's models.trustedKeys.`;

const KEY_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** `rshield keys generate`: an Ed25519 key pair for model signing. */
export async function keys(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('keys', argv, { out: { type: 'string' }, name: { type: 'string' }, key: { type: 'string' }, force: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } });
  if (values.help === true) {
    console.log(HELP);
    return 0;
  }
  if (positionals[0] === 'sign') return signDir(positionals, stringOption(values, 'key'));
  if (positionals[0] !== 'generate' || positionals.length !== 1) throw new RShieldError('E_USAGE', `expected 'rshield keys generate --out DIR' or 'rshield keys sign --key FILE MODEL_DIR', got '${positionals.join(' ')}'`);
  const out = stringOption(values, 'out');
  if (out === undefined) throw new RShieldError('E_USAGE', '--out DIR is required (see rshield keys --help)');
  const name = stringOption(values, 'name') ?? 'trainer';
  if (!KEY_NAME.test(name)) throw new RShieldError('E_USAGE', `--name must be letters, digits, '_' or '-' (1-64), got '${name}'`, { option: 'name' });
  const keyPath = join(out, `${name}.key`);
  const pubPath = join(out, `${name}.pub`);
  if (values.force !== true) {
    for (const p of [keyPath, pubPath]) {
      if (await stat(p).then(() => true, () => false)) throw new RShieldError('E_IO', `${p} exists; pass --force to replace it`, { path: p });
    }
  }
  const pair = generateSigningKeys();
  try {
    await mkdir(out, { recursive: true });
    await writeFile(keyPath, pair.privateKeyPem, { mode: 0o600 });
    await chmod(keyPath, 0o600);
    await writeFile(pubPath, pair.publicKeyPem);
  } catch (err) {
    throw new RShieldError('E_IO', `cannot write keys to ${out}: ${(err as Error).message}`, { out });
  }
  console.log(`key id ${pair.keyId}\nprivate ${keyPath}\npublic  ${pubPath}`);
  return 0;
}

/** `rshield keys sign --key FILE DIR`: model.sig.json for a model directory on disk. */
async function signDir(positionals: string[], keyFile: string | undefined): Promise<number> {
  const dir = positionals[1];
  if (positionals.length !== 2 || dir === undefined) throw new RShieldError('E_USAGE', `expected 'rshield keys sign --key FILE MODEL_DIR', got '${positionals.join(' ')}'`);
  if (keyFile === undefined) throw new RShieldError('E_USAGE', '--key FILE (a private key from rshield keys generate) is required to sign');
  const pem = await readFile(keyFile, 'utf8').catch((err: Error) => {
    throw new RShieldError('E_IO', `cannot read --key ${keyFile}: ${err.message}`, { path: keyFile });
  });
  const sig = await signModelDir(dir, parsePrivateKey(pem, keyFile));
  console.log(`signed ${join(dir, LOCAL_SIGNATURE_FILE)} with key ${sig.keyId}`);
  return 0;
}
