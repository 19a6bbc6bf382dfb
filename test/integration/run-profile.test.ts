// `rshield run --sim` takes the model trust from the robot's profile (--profile, or the shipped
// hardware/sim/R.yaml) in addition to --trust-key.
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml, stringify } from 'yaml';
import { run } from '../../src/cli/commands/run.js';
import { packageRoot } from '../../src/config/profile.js';
import { isRShieldError } from '../../src/core/errors.js';
import { generateSigningKeys } from '../../src/models/signing.js';
import { startBroker } from '../helpers/broker.js';

async function capture(fn: () => Promise<number>): Promise<{ code: number | string; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const [log, warn] = [console.log, console.warn];
  console.log = (...a: unknown[]) => void out.push(a.join(' '));
  console.warn = (...a: unknown[]) => void err.push(a.join(' '));
  try {
    return { code: await fn(), out: out.join('\n'), err: err.join('\n') };
  } catch (e) {
    return { code: isRShieldError(e) ? `${e.code} ${e.message}` : String(e), out: out.join('\n'), err: err.join('\n') };
  } finally {
    console.log = log;
    console.warn = warn;
  }
}

function profile(dir: string, name: string, shipped: string, models: unknown): string {
  const d = parseYaml(readFileSync(join(packageRoot(), shipped), 'utf8')) as Record<string, unknown>;
  d['models'] = models;
  const file = join(dir, name);
  writeFileSync(file, stringify(d));
  return file;
}

void t.test('the profile trusts a trainer key and --trust-key adds another; unsigned stays refused', async (t) => {
  const broker = await startBroker();
  t.teardown(() => broker.stop());
  const [lab, extra] = [generateSigningKeys(), generateSigningKeys()];
  const dir = t.testdir({ keys: { 'lab.pub': lab.publicKeyPem, 'extra.pub': extra.publicKeyPem } });
  const file = profile(dir, 'reacher.yaml', 'hardware/sim/dvrk-reacher.yaml', { trustedKeys: ['keys/lab.pub'] });
  const base = ['--robot', 'dvrk-reacher', '--sim', '--broker', broker.url, '--ticks', '3', '--rate', '500', '--spool', join(dir, 'spool'), '--state', join(dir, 'state')];
  const r = await capture(() => run([...base, '--profile', file, '--trust-key', join(dir, 'keys', 'extra.pub')]));
  t.equal(r.code, 0, r.err);
  t.match(r.out, new RegExp(`model updates: signed by ${lab.keyId}, ${extra.keyId}, unsigned refused \\(from profile .*reacher\\.yaml, --trust-key\\)`));

  // The shipped profile (no models section) grants nothing: only the --allow-unsigned flag.
  const d = await capture(() => run([...base, '--allow-unsigned']));
  t.equal(d.code, 0, d.err);
  t.match(d.out, /model updates: no trusted key, unsigned accepted \(from profile .*hardware\/sim\/dvrk-reacher\.yaml, --allow-unsigned\)/);

  const s = await capture(() => run([...base, '--profile', profile(dir, 'unsigned.yaml', 'hardware/sim/dvrk-reacher.yaml', { allowUnsigned: true })]));
  t.equal(s.code, 0, s.err);
  t.match(s.out, /model updates: no trusted key, unsigned accepted/, 'a sim profile may allow unsigned models');
});

void t.test('a profile of another robot, or one allowing unsigned models on hardware, is refused before anything runs', async (t) => {
  const dir = t.testdir({});
  const base = ['--robot', 'dvrk-reacher', '--sim', '--broker', 'mqtt://127.0.0.1:1', '--ticks', '1'];
  const other = await capture(() => run([...base, '--profile', join(packageRoot(), 'hardware/sim/nav1.yaml')]));
  t.match(other.code, /^E_CONFIG .*nav1\.yaml describes robot 'nav1', not 'dvrk-reacher'/);
  const hw = await capture(() => run([...base, '--profile', profile(dir, 'psm.yaml', 'hardware/dvrk/psm1.yaml', { allowUnsigned: true })]));
  t.match(hw.code, /^E_CONFIG .*models\.allowUnsigned: unsigned models are for simulated robots only/);
  const missing = await capture(() => run([...base, '--profile', profile(dir, 'nokey.yaml', 'hardware/sim/dvrk-reacher.yaml', { trustedKeys: ['nope.pub'] })]));
  t.match(missing.code, /^E_IO .*models\.trustedKeys\[0\]: cannot read key file/);
});
