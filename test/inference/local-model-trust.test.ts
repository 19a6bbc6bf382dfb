import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parsePrivateKey, parsePublicKey, generateSigningKeys } from '../../src/models/signing.js';
import { signModelDir } from '../../src/inference/local-model-trust.js';
import { Shield } from '../../src/inference/shield.js';
import { writeModelDir } from './helpers/models.js';

void t.test('require-signed: an unsigned, foreign-signed or altered directory is refused; a signed one loads', async (t) => {
  const ours = generateSigningKeys();
  const theirs = generateSigningKeys();
  const trust = { requireSigned: true, keys: [parsePublicKey(ours.publicKeyPem)] };
  const dir = await writeModelDir(join(t.testdir(), 'm'));
  await t.rejects(Shield.load({ modelDir: dir, trust, inference: 'in-thread' }), { code: 'E_SIGNATURE', message: /unsigned model refused .*no model\.sig\.json/ });
  await signModelDir(dir, parsePrivateKey(theirs.privateKeyPem));
  await t.rejects(Shield.load({ modelDir: dir, trust }), { code: 'E_SIGNATURE', message: new RegExp(`signed by key ${theirs.keyId}, which is not trusted`) });
  await signModelDir(dir, parsePrivateKey(ours.privateKeyPem));
  const shield = await Shield.load({ modelDir: dir, trust });
  t.equal(shield.modelVersion, '1', 'signed by a trusted key: loaded');
  await shield.close();
  // ε_risk raised after signing: the signature no longer covers the card.
  const card = JSON.parse((await import('node:fs')).readFileSync(join(dir, 'model.json'), 'utf8')) as Record<string, unknown>;
  await writeFile(join(dir, 'model.json'), JSON.stringify({ ...card, epsRisk: 0.99 }));
  await t.rejects(Shield.load({ modelDir: dir, trust }), { code: 'E_SIGNATURE', message: /signature does not verify/ });
  const off = await Shield.load({ modelDir: dir, trust: { requireSigned: false, keys: [] } });
  t.equal(off.epsRisk, 0.99, 'not required: loads as before');
  await off.close();
});

void t.test('an image model: the signature covers every file its card names; a signed one loads, a tampered encoder or heads is refused', async (t) => {
  const { ImageShield } = await import('../../src/inference/image-shield.js');
  const { writeImageModelDir } = await import('./helpers/image-model.js');
  const { readFile } = await import('node:fs/promises');
  const ours = generateSigningKeys();
  const trust = { requireSigned: true, keys: [parsePublicKey(ours.publicKeyPem)] };
  const m = await writeImageModelDir();
  t.teardown(m.cleanup);
  const load = () => ImageShield.load({ modelDir: m.dir, robot: 'dvrk-reacher-image', imageStaleAfterMs: 100, trust });
  await t.rejects(load(), { code: 'E_SIGNATURE', message: /unsigned model refused .*no model\.sig\.json/ });
  await signModelDir(m.dir, parsePrivateKey(ours.privateKeyPem));
  const shield = await load();
  t.equal(shield.modelVersion, 'dvrk-reacher-image-test', 'signed by a trusted key: loaded');
  await shield.close();
  for (const file of ['encoder.onnx', 'heads.onnx']) {
    const path = join(m.dir, file);
    const good = await readFile(path);
    const bad = Uint8Array.from(good);
    bad[bad.length - 1] = (bad.at(-1) ?? 0) ^ 1;
    await writeFile(path, bad);
    await t.rejects(load(), { code: 'E_SIGNATURE', message: /signature does not verify/ }, `a changed ${file} is refused`);
    await writeFile(path, good);
  }
  const again = await load();
  t.equal(again.modelVersion, 'dvrk-reacher-image-test', 'the original bytes verify again');
  await again.close();
});
