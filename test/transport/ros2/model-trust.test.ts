// The ROS 2 path trusts a starting model as the MQTT path does: a hardware profile (psm1, psm2)
// runs only a model directory signed by a key of its models.trustedKeys; require_signed asks the
// same of a simulated robot. Lifecycle changes (the node's arm state) are logged and on /diagnostics.
import t from 'tap';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml, stringify } from 'yaml';
import { runRos2Shield } from '../../../src/app/ros2-shield.js';
import { keys } from '../../../src/cli/commands/keys.js';
import { packageRoot } from '../../../src/config/profile.js';
import { generateSigningKeys } from '../../../src/models/signing.js';
import type { ShieldNode } from '../../../src/transport/ros2/shield-node.js';
import { createFakeRclnodejs, settle } from './fake-rclnodejs.js';

const shipped = join(packageRoot(), 'models', 'dvrk-reacher');

void t.test('a hardware profile refuses the unsigned shipped model; require_signed refuses it on a simulated robot too', async (t) => {
  await t.rejects(runRos2Shield({ rcl: createFakeRclnodejs(), params: { profile: 'psm1', model_dir: shipped }, log: () => undefined }), /unsigned model refused \(signed models are required\): no model\.sig\.json/);
  await t.rejects(
    runRos2Shield({ rcl: createFakeRclnodejs(), rosArgs: ['--ros-args', '-p', 'require_signed:=true'], params: { profile: 'dvrk-reacher', model_dir: shipped }, log: () => undefined }),
    /unsigned model refused/,
  );
});

void t.test('signed with rshield keys sign and trusted by the profile, it runs; activation is logged and on /diagnostics', async (t) => {
  const dir = t.testdir({});
  const pair = generateSigningKeys();
  writeFileSync(join(dir, 'trainer.key'), pair.privateKeyPem);
  writeFileSync(join(dir, 'trainer.pub'), pair.publicKeyPem);
  const model = join(dir, 'model');
  cpSync(shipped, model, { recursive: true });
  const log = t.capture(console, 'log');
  t.equal(await keys(['sign', '--key', join(dir, 'trainer.key'), model]), 0);
  t.match(log().map((c) => c.args.join(' ')).join('\n'), new RegExp(`signed .*model\\.sig\\.json with key ${pair.keyId}`));
  const profile = parseYaml(readFileSync(join(packageRoot(), 'hardware/dvrk/psm1.yaml'), 'utf8')) as Record<string, unknown>;
  profile['models'] = { trustedKeys: ['trainer.pub'] };
  const profileFile = join(dir, 'psm1-lab.yaml');
  writeFileSync(profileFile, stringify(profile));

  const rcl = createFakeRclnodejs();
  const abort = new AbortController();
  const lines: string[] = [];
  let node: ShieldNode | undefined;
  const done = runRos2Shield({ rcl, params: { profile: profileFile, model_dir: model }, signal: abort.signal, log: (l) => lines.push(l), onStarted: (n) => (node = n) });
  while (node === undefined) await settle();
  const diagnostics: { key: string; value: string }[][] = [];
  const peer = new rcl.Node('monitor');
  peer.createSubscription('diagnostic_msgs/msg/DiagnosticArray', '/diagnostics', {}, (m: { status: { values: { key: string; value: string }[] }[] }) => void diagnostics.push(m.status[0]!.values));
  peer.spin();
  await rcl.ros.advance(1100);
  t.ok(lines.some((l) => /^rshield: lifecycle active: controller goals go through the shield/.test(l)), 'activation logged');
  const last = new Map((diagnostics.at(-1) ?? []).map((v) => [v.key, v.value]));
  t.equal(last.get('armed'), 'yes (lifecycle active)');
  t.equal(last.get('arm_changes'), '1');
  t.match(last.get('last_arm_change'), /^active: /);
  node.node.deactivate();
  await rcl.ros.advance(1100);
  t.ok(lines.some((l) => /^rshield: lifecycle inactive \(deactivate\): holding/.test(l)), 'deactivation logged');
  const after = new Map((diagnostics.at(-1) ?? []).map((v) => [v.key, v.value]));
  t.same([after.get('armed'), after.get('arm_changes')], ['no (lifecycle inactive: hold)', '2']);
  abort.abort();
  t.equal(await done, 0);
});

void t.test('an image model on a profile that requires signatures: refused unsigned, runs once signed by a key the profile trusts', async (t) => {
  const { writeImageModelDir } = await import('../../inference/helpers/image-model.js');
  const dir = t.testdir({});
  const m = await writeImageModelDir();
  t.teardown(m.cleanup);
  const pair = generateSigningKeys();
  writeFileSync(join(dir, 'trainer.key'), pair.privateKeyPem);
  writeFileSync(join(dir, 'trainer.pub'), pair.publicKeyPem);
  // The camera robot's profile as a real arm's: kind dvrk-psm (a real PSM) requires signed models.
  const profile = parseYaml(readFileSync(join(packageRoot(), 'hardware/sim/dvrk-reacher-image.yaml'), 'utf8')) as Record<string, unknown>;
  profile['kind'] = 'dvrk-psm';
  profile['models'] = { trustedKeys: ['trainer.pub'] };
  const profileFile = join(dir, 'camera-arm.yaml');
  writeFileSync(profileFile, stringify(profile));
  const params = { profile: profileFile, model_dir: m.dir };

  await t.rejects(runRos2Shield({ rcl: createFakeRclnodejs(), params, log: () => undefined }), { code: 'E_SIGNATURE', message: /unsigned model refused \(signed models are required\): no model\.sig\.json/ });

  t.capture(console, 'log');
  t.equal(await keys(['sign', '--key', join(dir, 'trainer.key'), m.dir]), 0);
  const abort = new AbortController();
  const lines: string[] = [];
  let node: ShieldNode | undefined;
  const done = runRos2Shield({ rcl: createFakeRclnodejs(), params, signal: abort.signal, log: (l) => lines.push(l), onStarted: (n) => (node = n) });
  let over = false;
  done.then(() => (over = true), () => (over = true));
  while (node === undefined && !over) await settle();
  if (node === undefined) await done; // it ended before starting: its error fails the test
  t.ok(lines.some((l) => /^rshield: shielding .*camera \/rshield\/camera\/image_raw \(rgb8\)/.test(l)), 'the signed image model runs, with the camera');
  abort.abort();
  t.equal(await done, 0);

  // A tampered encoder no longer verifies: refused again.
  const enc = join(m.dir, 'encoder.onnx');
  const bytes = readFileSync(enc);
  bytes[bytes.length - 1] = (bytes.at(-1) ?? 0) ^ 1;
  writeFileSync(enc, bytes);
  await t.rejects(runRos2Shield({ rcl: createFakeRclnodejs(), params, log: () => undefined }), { code: 'E_SIGNATURE', message: /signature does not verify/ });
});
