// `rshield cmd` refuses to send what a shield would refuse anyway, and says why.
import t from 'tap';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { cmd } from '../../src/cli/commands/cmd.js';
import { generateSigningKeys } from '../../src/models/signing.js';

void t.test('usage errors name what is missing or wrong', async (t) => {
  const dir = t.testdir({});
  writeFileSync(join(dir, 'operator.pub'), generateSigningKeys().publicKeyPem);
  const base = ['--robot', 'psm1', '--broker', 'mqtt://127.0.0.1:1'];
  await t.rejects(cmd([...base, 'shutdown']), /expected one command of arm, disarm, record-start, record-stop, pin, unpin, rollback, got 'shutdown'/);
  await t.rejects(cmd([...base, 'disarm']), /--key FILE is required: shields obey signed commands only/);
  await t.rejects(cmd(['--broker', 'mqtt://127.0.0.1:1', '--key', 'k', 'disarm']), /--robot R is required/);
  await t.rejects(cmd([...base, '--key', join(dir, 'missing.key'), 'disarm']), /cannot read --key .*missing\.key/);
  await t.rejects(cmd([...base, '--key', join(dir, 'operator.pub'), 'disarm']), /operator\.pub is not a PEM private key/, 'a public key is not a signing key');
});
