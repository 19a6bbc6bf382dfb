// The profile's `models:` section: trusted trainer keys (paths relative to the profile, inline
// PEM, base64) and unsigned models for simulated robots only.
import t from 'tap';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml, stringify } from 'yaml';
import { loadModelTrust, mergeModelTrust, profileModelTrust } from '../../src/models/trust.js';
import { packageRoot, parseRobotProfile } from '../../src/config/profile.js';
import { generateSigningKeys, parsePublicKey } from '../../src/models/signing.js';

const doc = (file: string): Record<string, unknown> => parseYaml(readFileSync(join(packageRoot(), file), 'utf8')) as Record<string, unknown>;

/** Writes a copy of a shipped profile with a `models:` section into dir; returns its path. */
function profileWith(dir: string, shipped: string, models: unknown, name = 'robot.yaml'): string {
  const d = doc(shipped);
  d['models'] = models;
  const file = join(dir, name);
  writeFileSync(file, stringify(d));
  return file;
}

void t.test('trusted keys as a path relative to the profile, inline PEM, base64 raw and base64 DER', (t) => {
  const [a, b, c, d] = [generateSigningKeys(), generateSigningKeys(), generateSigningKeys(), generateSigningKeys()];
  const dir = t.testdir({ profiles: { keys: { 'trainer.pub': a.publicKeyPem } } });
  const der = (pem: string): Buffer => createPublicKey(pem).export({ type: 'spki', format: 'der' });
  const file = profileWith(join(dir, 'profiles'), 'hardware/sim/nav1.yaml', {
    trustedKeys: ['keys/trainer.pub', b.publicKeyPem, der(c.publicKeyPem).subarray(12).toString('base64'), der(d.publicKeyPem).toString('base64')],
  });
  // Resolved against the profile's folder, not the working directory.
  const cwd = process.cwd();
  process.chdir(dir);
  t.teardown(() => process.chdir(cwd));
  const { profile, trust } = loadModelTrust(file);
  t.equal(profile.env, 'nav1');
  t.same(trust.keyIds, [a.keyId, b.keyId, c.keyId, d.keyId], 'all four forms give the trainer keys');
  t.equal(trust.allowUnsigned, false, 'unsigned refused by default');
  t.end();
});

void t.test('unsigned models: honoured for a sim profile, refused in a dvrk-psm profile with the path named', (t) => {
  const dir = t.testdir({});
  t.equal(loadModelTrust(profileWith(dir, 'hardware/sim/maze.yaml', { allowUnsigned: true })).trust.allowUnsigned, true);
  t.throws(() => loadModelTrust(profileWith(dir, 'hardware/dvrk/psm1.yaml', { allowUnsigned: true }, 'psm.yaml')), {
    code: 'E_CONFIG',
    message: /models\.allowUnsigned: unsigned models are for simulated robots only \(kind sim\), this profile is kind dvrk-psm \(got true\)/,
  });
  // Keys alone are fine on a real arm.
  const k = generateSigningKeys();
  const real = loadModelTrust(profileWith(dir, 'hardware/dvrk/psm1.yaml', { trustedKeys: [k.publicKeyPem] }, 'psm-keys.yaml'));
  t.same(real.trust.keyIds, [k.keyId]);
  // A profile built in code that bypasses the schema still gets no unsigned models on hardware.
  const p = parseRobotProfile(doc('hardware/dvrk/psm1.yaml'), 'psm1');
  t.equal(profileModelTrust({ ...p, models: { trustedKeys: [], allowUnsigned: true } }, 'psm1.yaml').allowUnsigned, false);
  t.equal(profileModelTrust(p, 'psm1.yaml').keys.length, 0, 'no models section: no keys');
  t.end();
});

void t.test('bad entries name the profile file and the entry', (t) => {
  const dir = t.testdir({ 'rsa.pub': generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString() });
  const good = generateSigningKeys().publicKeyPem;
  const cases: [unknown[], string, RegExp][] = [
    [[good, 'missing.pub'], 'E_IO', /robot\.yaml: models\.trustedKeys\[1\]: cannot read key file .*missing\.pub/],
    [['rsa.pub'], 'E_SIGNATURE', /models\.trustedKeys\[0\] \(.*rsa\.pub\) is a rsa key, expected ed25519/],
    [['-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----'], 'E_SIGNATURE', /models\.trustedKeys\[0\] is not a PEM public key/],
  ];
  for (const [keys, code, message] of cases) {
    const file = profileWith(dir, 'hardware/sim/nav2.yaml', { trustedKeys: keys });
    t.throws(() => loadModelTrust(file), { code, message }, String(message));
  }
  t.throws(() => loadModelTrust(profileWith(dir, 'hardware/sim/nav2.yaml', { trustedKeys: [''] })), { code: 'E_CONFIG', message: /models\.trustedKeys\[0\]/ });
  t.throws(() => loadModelTrust(profileWith(dir, 'hardware/sim/nav2.yaml', { trustedKey: [good] })), { code: 'E_CONFIG', message: /models: .*trustedKey/ });
  t.end();
});

void t.test('grants merge: each key once, unsigned if any grant allows it', (t) => {
  const a = parsePublicKey(generateSigningKeys().publicKeyPem);
  const b = parsePublicKey(generateSigningKeys().publicKeyPem);
  const g1 = { keys: [a], keyIds: ['aaaaaaaaaaaaaaaa'], allowUnsigned: false };
  const g2 = { keys: [a, b], keyIds: ['aaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbb'], allowUnsigned: true };
  const m = mergeModelTrust(g1, g2);
  t.same(m.keyIds, ['aaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbb']);
  t.equal(m.keys.length, 2);
  t.equal(m.allowUnsigned, true);
  t.equal(mergeModelTrust(g1).allowUnsigned, false);
  t.end();
});
