// Online learning with model-based recovery, nothing faked: a real broker, the real online
// learner continuing from a model-based nav2 model trained in this test, and the ONNX Runtime
// shield planning with it. After K episodes the learner has retrained the dynamics ensemble; the
// version it publishes is model-based (dynamics.onnx, `dynamics` and `planner` in the card),
// signed over every file, dynamics.onnx included, and the shield swaps it in still planning.
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readDataset, TransitionWriter } from '../../src/data/index.js';
import { createController, createEnv, generateOfflineData } from '../../src/envs/index.js';
import { Shield, type PreparedModel } from '../../src/inference/shield.js';
import { defaultsFor } from '../../src/learn/defaults.js';
import { trainOffline } from '../../src/learn/offline.js';
import { createOnlineTrainer } from '../../src/learn/online.js';
import { checkFiles, checkManifest, type ModelManifest } from '../../src/models/manifest.js';
import { parsePrivateKey, parsePublicKey } from '../../src/models/signing.js';
import { trainerNode } from '../../src/app/trainer.js';
import type { ModelAnnounce } from '../../src/config/mqtt-payloads.js';
import { ModelReceiver } from '../../src/transport/mqtt/model-transfer.js';
import { ShieldNode, offlineStatus } from '../../src/transport/mqtt/shield-node.js';
import { TransitionSpool } from '../../src/transport/mqtt/spool.js';
import { robotTopics } from '../../src/transport/mqtt/topics.js';
import { startBroker } from '../helpers/broker.js';
import { ManualTimers, client, keys, next, tempDir } from '../transport/mqtt/harness.js';

const ROBOT = 'nav2';
/** Updates (= transitions) per version: past the end of the first 100-step nav2 episode. */
const EVERY = 150;
const topics = robotTopics(ROBOT);

void t.test('a model-based start model: after K episodes a signed, model-based version with a retrained ensemble, swapped in and planning', async (t) => {
  const dir = await tempDir(t, 'rshield-online-dyn-mqtt-');
  const { spec } = createEnv(ROBOT);
  const mcap = join(dir, 'nav2.mcap');
  const w = TransitionWriter.open(mcap, { robot: ROBOT, obsDim: spec.obsDim, actDim: spec.actDim, actLow: spec.actLow, actHigh: spec.actHigh, generator: 'test', seed: 1, requested: 1500 });
  for (const tr of generateOfflineData(ROBOT, { seed: 1, transitions: 1500 })) w.write(tr);
  w.close();
  const v0Dir = join(dir, 'v0');
  const offline = await trainOffline(await readDataset([mcap]), {
    ...defaultsFor(ROBOT), robot: ROBOT, seed: 2, outDir: v0Dir, steps: 100, threads: 1, sizes: { hidden: [32, 32] },
    modelBased: { planner: { population: 24, elites: 4, iterations: 2, horizon: 3, particles: 2, alpha: 0.1 }, epochs: 5, sizes: { ensemble: 2, hidden: [16, 16] } },
  });
  const v0 = offline.card.version;
  const broker = await startBroker();
  t.teardown(() => broker.stop());
  t.comment(`broker: ${broker.kind}`);

  // Trainer: continues from v0 alone (as `rshield trainer --models v0`), K = 1 episode (nav2's).
  const learner = await createOnlineTrainer({ robot: ROBOT, modelDir: v0Dir, seed: 5, threads: 1, dynamics: { epochs: 1 } });
  t.match(learner.dynamics, { every: 1, epochs: 1, initialisedFrom: 'start-model' });
  const trainerTransport = client(t, broker.url, { clientId: `trainer-${process.pid}`, clean: false });
  await trainerTransport.waitConnected();
  const exportDir = join(dir, 'export');
  const { node: trainer, schedule } = trainerNode({
    robot: ROBOT, obsDim: spec.obsDim, actDim: spec.actDim, trainer: learner, transport: trainerTransport,
    signer: parsePrivateKey(keys.privateKeyPem), every: EVERY, exportDir, versionPrefix: 'nav2-online',
    // No quality gate: this test is about what a version carries, not whether it is better.
    gate: false,
    validate: async (d) => (await Shield.prepare({ modelDir: d, robot: ROBOT })).close(),
  });
  const rejected: string[] = [];
  schedule.on('rejected', (v, why) => rejected.push(`${v}: ${why}`));
  t.teardown(async () => {
    await trainer.stop();
    await learner.release();
  });
  await trainer.start();

  // An observer of the model topic: the announcement the shield verifies.
  const announces: ModelAnnounce[] = [];
  const observer = client(t, broker.url, { clientId: `observer-${process.pid}` });
  await observer.waitConnected();
  await observer.subscribe(topics.model, (_topic, payload) => {
    const m = JSON.parse(payload.toString()) as { kind: string };
    if (m.kind === 'announce') announces.push(m as ModelAnnounce);
  });

  // Shield: v0 with model-based recovery on the simulated nav2, trusting only the trainer's key.
  const shield = await Shield.load({ modelDir: v0Dir, robot: ROBOT, deadlineUs: 5_000_000 });
  t.teardown(() => shield.close());
  t.equal(shield.recoveryMode, 'model-based');
  const transport = client(t, broker.url, { clientId: `shield-${process.pid}`, will: { topic: topics.status, payload: offlineStatus(ROBOT), retain: true, qos: 1 } });
  await transport.waitConnected();
  const timers = new ManualTimers();
  const node = new ShieldNode<PreparedModel>({
    robot: ROBOT, env: createEnv(ROBOT, { seed: 3 }), controller: createController(ROBOT, { seed: 3 }), shield, transport,
    spool: await TransitionSpool.open({ dir: join(dir, 'spool'), maxBatches: 1000, maxBytes: 1e8 }),
    receiver: new ModelReceiver({ robot: ROBOT, obsDim: spec.obsDim, actDim: spec.actDim, trustedKeys: [parsePublicKey(keys.publicKeyPem)], allowUnsigned: false, stagingDir: join(dir, 'staging') }),
    clock: timers, timer: timers, batchSize: 25, session: 7, seed: 3,
  });
  const swapFailures: string[] = [];
  node.on('swapFailed', (v, why) => swapFailures.push(`${v}: ${why}`));
  t.teardown(() => node.stop());
  await node.start();

  let version: string | undefined;
  void next<[string]>(node, 'swapped').then(([v]) => (version = v));
  let ticks = 0;
  for (; version === undefined && ticks < 3000; ticks++) {
    await node.tick();
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  t.equal(version, 'nav2-online.1', `the first version was swapped in after ${ticks} ticks`);
  t.same(rejected, [], 'every version passed validation (the trainer loads it with its planner)');
  t.same(swapFailures, [], 'the shield refused no version');
  t.equal(shield.modelVersion, version);
  t.equal(shield.recoveryMode, 'model-based', 'the shield still plans after the hot-swap');
  t.not(version, v0);

  // What the version carries: a retrained ensemble, the planner, the mode.
  const vDir = join(exportDir, version ?? '');
  const card = JSON.parse(await readFile(join(vDir, 'model.json'), 'utf8')) as { recoveryMode: string; dynamics: { file: string }; planner: { population: number; horizon: number }; metrics: { dynamics: { retrains: number } } };
  t.equal(card.recoveryMode, 'model-based');
  t.equal(card.dynamics.file, 'dynamics.onnx');
  t.match(card.planner, { population: 24, horizon: 3 }, "v0's planner");
  t.ok(card.metrics.dynamics.retrains >= 1, `retrained ${card.metrics.dynamics.retrains} time(s) before the version (K = 1 episode of 100 steps, ${EVERY} transitions)`);
  t.ok((learner.dynamics?.episodes ?? 0) >= 1);

  // The signature covers dynamics.onnx: the signed announcement lists it with its digest, and
  // other bytes under that name are refused.
  const a = announces.find((m) => m.version === version);
  t.ok(a !== undefined, 'the announcement was seen on the model topic');
  const manifest: ModelManifest = { robot: a!.robot, version: a!.version, sequence: a!.sequence, card: a!.card, files: a!.files };
  t.same(manifest.files.map((f) => f.name).sort(), ['critic.onnx', 'dynamics.onnx', 'recovery.onnx'], 'every file the card names, dynamics.onnx included');
  checkManifest(manifest, { signature: a!.signature, keyId: a!.keyId }, { robot: ROBOT, obsDim: spec.obsDim, actDim: spec.actDim, trustedKeys: [parsePublicKey(keys.publicKeyPem)], allowUnsigned: false });
  const files = new Map<string, Uint8Array>();
  for (const f of ['critic.onnx', 'recovery.onnx', 'dynamics.onnx']) files.set(f, await readFile(join(vDir, f)));
  t.doesNotThrow(() => checkFiles(manifest, files), 'the exported bytes are the signed ones');
  const tampered = new Map(files);
  tampered.set('dynamics.onnx', Uint8Array.from(files.get('dynamics.onnx')!, (b, i) => (i === 100 ? b ^ 1 : b)));
  t.throws(() => checkFiles(manifest, tampered), { code: 'E_SIGNATURE', message: /dynamics\.onnx is \d+ bytes with sha256/ });
  t.throws(() => checkManifest({ ...manifest, files: manifest.files.filter((f) => f.name !== 'dynamics.onnx') }, { signature: a!.signature, keyId: a!.keyId }, { robot: ROBOT, obsDim: spec.obsDim, actDim: spec.actDim, trustedKeys: [parsePublicKey(keys.publicKeyPem)], allowUnsigned: false }), 'a manifest without dynamics.onnx does not match the signature');

  // The retained trainer status shows the retraining.
  const status = await new Promise<{ dynamics?: { retrains: number; every: number } }>((resolve) => {
    void observer.subscribe(topics.trainer, (_topic, payload) => resolve(JSON.parse(payload.toString()) as { dynamics?: { retrains: number; every: number } }));
  });
  t.match(status.dynamics, { every: 1 });
  t.ok((status.dynamics?.retrains ?? 0) >= 1, `status: ${status.dynamics?.retrains} retrainings`);

  // More ticks with the new version: recovery plans with its dynamics, never a fail-safe.
  for (let i = 0; i < 60; i++) await node.tick();
  t.equal(shield.stats().failsafes, 0, 'no tick fell back to the fail-safe, swap included');
  t.ok((shield.plannerStats()?.plans ?? 0) > 0, `the planner ran (${shield.plannerStats()?.plans} plans)`);
});
