// The shield's persisted state: private folder, atomic replace, refusals that name the file.
import t from 'tap';
import { chmod, mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ShieldState, STATE_FILE } from '../../src/models/shield-state.js';

void t.test('state survives a reopen; the folder is 0700 and the file 0600', async (t) => {
  const dir = join(t.testdir(), 'state');
  const s = await ShieldState.open(dir, 'psm1');
  t.equal(s.data.modelSequence, 0, 'a fresh state accepts any sequence');
  await s.update({ modelSequence: 42, modelVersion: 'v42' });
  await s.update({ commandNonces: [{ nonce: 'ab'.repeat(8), issuedAt: 5 }] });
  t.equal((await stat(dir)).mode & 0o777, 0o700);
  t.equal((await stat(join(dir, STATE_FILE))).mode & 0o777, 0o600);
  t.same(await readdir(dir), [STATE_FILE], 'no temporary file is left behind');
  const again = await ShieldState.open(dir, 'psm1');
  t.same([again.data.modelSequence, again.data.modelVersion, again.data.commandNonces.length], [42, 'v42', 1]);
});

void t.test('a failed write keeps the previous state whole', async (t) => {
  const dir = join(t.testdir(), 'state');
  const s = await ShieldState.open(dir, 'psm1');
  await s.update({ modelSequence: 7, modelVersion: 'v7' });
  await chmod(dir, 0o500); // no new files: the temporary file cannot be created, as on a full disk
  t.teardown(() => chmod(dir, 0o700).catch(() => undefined));
  if (process.getuid?.() === 0) return void t.pass('root writes anyway: skipped');
  await s.update({ modelSequence: 8, modelVersion: 'v8' });
  t.equal(s.writeFailures, 1);
  t.match(s.lastWriteError, new RegExp(`cannot write ${join(dir, STATE_FILE).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: EACCES`));
  await chmod(dir, 0o700);
  t.equal((JSON.parse(await readFile(join(dir, STATE_FILE), 'utf8')) as { modelSequence: number }).modelSequence, 7, 'still the last whole state');
});

void t.test('refused: a folder others may write, a corrupt file, another robot\'s state', async (t) => {
  const root = t.testdir();
  const open = join(root, 'open');
  await mkdir(open);
  await chmod(open, 0o777);
  await t.rejects(ShieldState.open(open, 'psm1'), /state folder .*open is writable by other users \(mode 777\)/);
  const bad = join(root, 'bad');
  await mkdir(bad, { mode: 0o700 });
  await writeFile(join(bad, STATE_FILE), '{"v":1,"robot":"psm1","modelSeq');
  await t.rejects(ShieldState.open(bad, 'psm1'), /shield-state\.json is not JSON .*delete it to accept any signed model version once/);
  await writeFile(join(bad, STATE_FILE), JSON.stringify({ v: 1, robot: 'psm1', modelSequence: -1, modelVersion: '', commandNonces: [] }));
  await t.rejects(ShieldState.open(bad, 'psm1'), /modelSequence/);
  await writeFile(join(bad, STATE_FILE), JSON.stringify({ v: 1, robot: 'psm2', modelSequence: 1, modelVersion: 'a', commandNonces: [] }));
  await t.rejects(ShieldState.open(bad, 'psm1'), /is the state of robot 'psm2', not 'psm1'/);
});
