// The MQTT commands as a user runs them: keys generate, status --once --json, usage errors.
import t from 'tap';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isRShieldError } from '../../src/core/errors.js';
import { parsePrivateKey, parsePublicKey } from '../../src/models/signing.js';
import { keys } from '../../src/cli/commands/keys.js';
import { run } from '../../src/cli/commands/run.js';
import { status } from '../../src/cli/commands/status.js';
import { startBroker } from '../helpers/broker.js';
import { shieldNode, tempDir } from '../transport/mqtt/harness.js';

async function capture(fn: () => Promise<number>): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => void lines.push(a.join(' '));
  try {
    return { code: await fn(), out: lines.join('\n') };
  } finally {
    console.log = log;
  }
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    return isRShieldError(err) ? `${err.code} ${err.message}` : String(err);
  }
}

void t.test('keys generate writes a usable pair, private key 0600, and refuses to overwrite', async (t) => {
  const dir = await tempDir(t, 'rshield-keys-');
  const { code: rc, out } = await capture(() => keys(['generate', '--out', dir]));
  t.equal(rc, 0);
  t.match(out, /key id [0-9a-f]{16}/);
  t.equal((await stat(join(dir, 'trainer.key'))).mode & 0o777, 0o600);
  parsePrivateKey(await readFile(join(dir, 'trainer.key'), 'utf8'));
  parsePublicKey(await readFile(join(dir, 'trainer.pub'), 'utf8'));
  t.match(await code(keys(['generate', '--out', dir])), /^E_IO .*exists; pass --force/);
  t.match(await code(keys(['make'])), /^E_USAGE/);
});

void t.test('run and status refuse bad options with one-line usage errors', async (t) => {
  t.match(await code(run(['--robot', 'dvrk-reacher', '--broker', 'mqtt://127.0.0.1:1'])), /^E_USAGE .*--sim/);
  t.match(await code(run(['--robot', 'dvrk-reacher', '--sim', '--broker', 'not a url'])), /^E_USAGE .*--broker must be a URL/);
  t.match(await code(run(['--robot', 'a/b', '--sim', '--broker', 'mqtt://127.0.0.1:1'])), /^E_USAGE .*cannot be a topic level/);
  t.match(await code(status([])), /^E_USAGE .*--broker URL is required/);
});

void t.test('status --once --json lists the shields on a broker from their retained status', async (t) => {
  const broker = await startBroker();
  t.teardown(() => broker.stop());
  const { node, timers } = await shieldNode(t, broker.url);
  node.armed = false;
  node.publishStatus();
  void timers;
  const { code: rc, out } = await capture(() => status(['--broker', broker.url, '--robot', 'line', '--once', '--json', '--wait', '400']));
  t.equal(rc, 0);
  const rows = JSON.parse(out) as { robot: string; state: string; modelVersion: string; tickRateHz: number | null; interventionRate: number | null }[];
  t.equal(rows.length, 1);
  t.equal(rows[0]?.state, 'online');
  t.equal(rows[0]?.modelVersion, 'v0');
  t.equal((rows[0] as { armed?: boolean }).armed, false, 'the latest retained status');
});
