// `rshield run --sim` across a restart: the newest accepted model sequence is kept in the state
// folder, so an older, validly signed version replayed right after the restart is still refused;
// `rshield cmd` disarms and arms the running shield, a replayed or unsigned command does not.
import t from 'tap';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../src/cli/commands/run.js';
import { cmd } from '../../src/cli/commands/cmd.js';
import { keys as keysCommand } from '../../src/cli/commands/keys.js';
import { generateSigningKeys, parsePrivateKey } from '../../src/models/signing.js';
import { readModelDir } from '../../src/models/model-dir.js';
import { buildModelMessages } from '../../src/transport/mqtt/model-transfer.js';
import { robotTopics } from '../../src/transport/mqtt/topics.js';
import { packageRoot } from '../../src/config/profile.js';
import { STATE_FILE } from '../../src/models/shield-state.js';
import { startBroker } from '../helpers/broker.js';
import { client } from '../transport/mqtt/harness.js';

const ROBOT = 'dvrk-reacher';
const topics = robotTopics(ROBOT);

/** Console lines of everything running in this process while `fn` runs. */
async function captured<T>(fn: () => Promise<T>): Promise<{ value: T; lines: string[] }> {
  const lines: string[] = [];
  const [log, warn, error] = [console.log, console.warn, console.error];
  console.log = console.warn = console.error = (...a: unknown[]) => void lines.push(a.join(' '));
  try {
    return { value: await fn(), lines };
  } finally {
    [console.log, console.warn, console.error] = [log, warn, error];
  }
}

void t.test('the newest model sequence and the command nonces survive a restart; a captured command replayed after the restart is refused', async (t) => {
  const broker = await startBroker();
  t.teardown(() => broker.stop());
  const dir = t.testdir({});
  const trainer = generateSigningKeys();
  writeFileSync(join(dir, 'trainer.pub'), trainer.publicKeyPem);
  const keyOut = await captured(() => keysCommand(['generate', '--out', join(dir, 'keys'), '--name', 'operator']));
  t.equal(keyOut.value, 0);
  t.match(keyOut.lines.join('\n'), /private .*operator\.key/);
  const state = join(dir, 'state');
  const bundle = await readModelDir(join(packageRoot(), 'models', ROBOT));
  const versionMessages = (v: string, sequence: number): string[] =>
    buildModelMessages({ card: { ...bundle.card, version: v }, files: bundle.files }, { robot: ROBOT, sequence, signer: parsePrivateKey(trainer.privateKeyPem), transfer: 'inline', chunkBytes: 256 * 1024 }).map((m) => JSON.stringify(m));
  const trainerLink = client(t, broker.url);
  await trainerLink.waitConnected();
  const watcher = client(t, broker.url);
  await watcher.waitConnected();
  let online: () => void = () => undefined;
  await watcher.subscribe(topics.status, (_t, p) => {
    if (Buffer.from(p).toString().includes('"state":"online"')) online();
  });
  const shieldRun = (ticks: number): Promise<number> =>
    run(['--robot', ROBOT, '--sim', '--broker', broker.url, '--ticks', String(ticks), '--rate', '200', '--spool', join(dir, 'spool'), '--state', state,
      '--trust-key', join(dir, 'trainer.pub'), '--operator-key', join(dir, 'keys', 'operator.pub')]);
  // What an eavesdropper on the broker captures.
  const captured_: Uint8Array[] = [];
  await watcher.subscribe(topics.cmd, (_t, p) => void captured_.push(Uint8Array.from(p)));
  const whenOnline = (): Promise<void> => new Promise((resolve) => (online = resolve));
  const sendCmd = (c: string, id: string): Promise<number> => cmd(['--robot', ROBOT, '--broker', broker.url, '--key', join(dir, 'keys', 'operator.key'), '--id', id, c]);

  // First run: version 5 is accepted; a signed disarm then arm take effect.
  const first = await captured(async () => {
    const up = whenOnline();
    const running = shieldRun(500);
    await up;
    for (const m of versionMessages('v5', 5)) await trainerLink.publish(topics.model, m, { qos: 1 });
    t.equal(await sendCmd('disarm', 'op-1'), 0);
    return running;
  });
  const out1 = first.lines.join('\n');
  t.equal(first.value, 0, out1);
  t.match(out1, /commands: signed by [0-9a-f]{16}; retained, stale and replayed ones refused/);
  t.match(out1, /model v5 swapped in/);
  t.match(out1, /DISARMED: the controller drives the robot unshielded \(key [0-9a-f]{16}, id op-1\)/);
  t.match(out1, /sent disarm to rshield\/v1\/dvrk-reacher\/cmd/);
  const saved = JSON.parse(readFileSync(join(state, STATE_FILE), 'utf8')) as { modelSequence: number; modelVersion: string; commandNonces: unknown[] };
  t.same([saved.modelSequence, saved.modelVersion, saved.commandNonces.length], [5, 'v5', 1], 'sequence and the nonce on disk');
  t.equal(statSync(state).mode & 0o777, 0o700, 'in a private folder');

  // Second run: version 3 (validly signed, older) is refused right after the restart; 6 goes through.
  const second = await captured(async () => {
    const up = whenOnline();
    const running = shieldRun(500);
    await up;
    for (const m of versionMessages('v3', 3)) await trainerLink.publish(topics.model, m, { qos: 1 });
    for (const m of versionMessages('v6', 6)) await trainerLink.publish(topics.model, m, { qos: 1 });
    await trainerLink.publish(topics.cmd, JSON.stringify({ v: 1, cmd: 'disarm' }), { qos: 1 });
    t.ok(captured_.length >= 1, 'the signed disarm of the first run was captured');
    await trainerLink.publish(topics.cmd, captured_[0]!, { qos: 1 });
    return running;
  });
  const out2 = second.lines.join('\n');
  t.equal(second.value, 0, out2);
  t.match(out2, /state .*shield-state\.json \(newest model sequence 5\)/);
  t.match(out2, /model v3 refused: model v3 has sequence 3, below 5 of v5: an older or replayed version is refused/);
  t.match(out2, /model v6 swapped in/);
  t.match(out2, /command disarm refused: unsigned/, 'an unsigned command is said');
  t.match(out2, /command disarm \(id op-1\) refused: replayed nonce [0-9a-f]{12}… \(already obeyed\)/, 'the replay is named');
  t.notMatch(out2, /DISARMED/, 'neither is obeyed');
  t.equal((JSON.parse(readFileSync(join(state, STATE_FILE), 'utf8')) as { modelSequence: number }).modelSequence, 6);
});
