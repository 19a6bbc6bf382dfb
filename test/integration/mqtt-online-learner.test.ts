// The whole online loop with nothing faked: a real broker, the real online learner (thesis
// Algorithm 1: one critic and recovery update per streamed transition) continuing from a model
// trained offline in this test, Ed25519-signed versions, and the ONNX Runtime shield on the
// simulated dVRK, which verifies, prepares and swaps a version between ticks and then decides
// with it.
import t from 'tap';
import { join } from 'node:path';
import type { ShieldDecisionView, ShieldPort } from '../../src/transport/mqtt/shield-port.js';
import { readDataset, TransitionWriter } from '../../src/data/index.js';
import { createController, createEnv, generateOfflineData } from '../../src/envs/index.js';
import { Shield, type PreparedModel } from '../../src/inference/shield.js';
import { parsePrivateKey, parsePublicKey } from '../../src/inference/model-signing.js';
import { ModelReceiver } from '../../src/inference/model-transfer.js';
import { defaultsFor } from '../../src/learn/defaults.js';
import { trainOffline } from '../../src/learn/offline.js';
import { createOnlineTrainer } from '../../src/learn/online.js';
import { onnxShieldPort } from '../../src/transport/mqtt/onnx-shield-port.js';
import { ShieldNode, offlineStatus } from '../../src/transport/mqtt/shield-node.js';
import { TransitionSpool } from '../../src/transport/mqtt/spool.js';
import { robotTopics } from '../../src/transport/mqtt/topics.js';
import { TrainerNode } from '../../src/transport/mqtt/trainer-node.js';
import { startBroker } from '../helpers/broker.js';
import { ManualTimers, client, keys, next, tempDir } from '../transport/mqtt/harness.js';

const ROBOT = 'dvrk-reacher';
const EVERY = 100;
const BATCH = 25;

interface Decided {
  readonly version: string;
  readonly obs: Float32Array;
  readonly proposed: Float32Array;
  readonly action: Float32Array;
  readonly qRisk: number;
}

/** The ONNX shield port, also logging every decision with the model version that made it. */
function loggingPort(shield: Shield, log: Decided[]): ShieldPort<PreparedModel> {
  const port = onnxShieldPort(shield, { robot: ROBOT });
  return {
    async decide(obs, proposed): Promise<ShieldDecisionView> {
      const d = await port.decide(obs, proposed);
      log.push({ version: shield.modelVersion, obs: obs.slice(), proposed: proposed.slice(), action: d.action.slice(), qRisk: d.qRisk });
      return d;
    },
    stats: () => port.stats(),
    get provider() {
      return port.provider;
    },
    get modelVersion() {
      return port.modelVersion;
    },
    prepare: (dir) => port.prepare(dir),
    swap: (p) => port.swap(p),
    release: (p) => port.release?.(p),
    resetEpisode: () => port.resetEpisode?.(),
    close: () => port.close(),
  };
}

/** Q_risk and action of a freshly loaded model on logged inputs. */
async function replay(modelDir: string, rows: readonly Decided[]): Promise<{ qRisk: number; action: Float32Array }[]> {
  const s = await Shield.load({ modelDir, robot: ROBOT });
  try {
    const out = [];
    for (const r of rows) {
      const d = await s.decide(r.obs, r.proposed);
      out.push({ qRisk: d.qRisk, action: d.action.slice() });
    }
    return out;
  } finally {
    await s.close();
  }
}

const near = (a: Float32Array, b: Float32Array): boolean => a.length === b.length && a.every((v, i) => Math.abs(v - (b[i] ?? NaN)) < 1e-5);

void t.test('real learner over a real broker: trained online, signed, swapped between ticks, then deciding', async (t) => {
  const dir = await tempDir(t, 'rshield-online-learner-');

  // A small offline model to start from (rshield collect + rshield train, in miniature).
  const { spec } = createEnv(ROBOT);
  const mcap = join(dir, 'dvrk.mcap');
  const w = TransitionWriter.open(mcap, { robot: ROBOT, obsDim: spec.obsDim, actDim: spec.actDim, actLow: spec.actLow, actHigh: spec.actHigh, generator: 'test', seed: 1, requested: 3000 });
  for (const tr of generateOfflineData(ROBOT, { seed: 1, transitions: 3000 })) w.write(tr);
  w.close();
  const v0Dir = join(dir, 'v0');
  const offline = await trainOffline(await readDataset([mcap]), { ...defaultsFor(ROBOT), robot: ROBOT, seed: 2, outDir: v0Dir, steps: 200, threads: 1, sizes: { hidden: [32, 32] } });
  const v0 = offline.card.version;

  const broker = await startBroker();
  t.teardown(() => broker.stop());
  t.comment(`broker: ${broker.kind}`);

  // Trainer side: the real online learner, continuing from v0, signing with Ed25519.
  const learner = await createOnlineTrainer({ robot: ROBOT, modelDir: v0Dir, seed: 5, threads: 1 });
  t.equal(learner.updates, 0, 'continuing from a model: no pretraining');
  const trainerTransport = client(t, broker.url, { clientId: `trainer-${process.pid}`, clean: false });
  await trainerTransport.waitConnected();
  const published: string[] = [];
  const rejected: string[] = [];
  const trainer = new TrainerNode({
    robot: ROBOT,
    obsDim: spec.obsDim,
    actDim: spec.actDim,
    trainer: learner,
    transport: trainerTransport,
    signer: parsePrivateKey(keys.privateKeyPem),
    every: EVERY,
    exportDir: join(dir, 'export'),
    validate: async (d) => (await Shield.prepare({ modelDir: d, robot: ROBOT })).close(),
    versionPrefix: 'dvrk-online',
  });
  trainer.on('published', (v) => published.push(v));
  trainer.on('rejected', (v, why) => rejected.push(`${v}: ${why}`));
  t.teardown(async () => {
    await trainer.stop();
    await learner.release();
  });
  await trainer.start();

  // Shield side: the ONNX Runtime shield running v0 on the simulated arm; it trusts only the trainer's key.
  const shield = await Shield.load({ modelDir: v0Dir, robot: ROBOT });
  t.teardown(() => shield.close());
  const decided: Decided[] = [];
  const shieldTransport = client(t, broker.url, { clientId: `shield-${process.pid}`, will: { topic: robotTopics(ROBOT).status, payload: offlineStatus(ROBOT), retain: true, qos: 1 } });
  await shieldTransport.waitConnected();
  const node = new ShieldNode({
    robot: ROBOT,
    env: createEnv(ROBOT, { seed: 3 }),
    controller: createController(ROBOT, { seed: 3 }),
    shield: loggingPort(shield, decided),
    transport: shieldTransport,
    spool: await TransitionSpool.open({ dir: join(dir, 'spool'), maxBatches: 1000, maxBytes: 1e8 }),
    receiver: new ModelReceiver({ robot: ROBOT, obsDim: spec.obsDim, actDim: spec.actDim, trustedKeys: [parsePublicKey(keys.publicKeyPem)], allowUnsigned: false, stagingDir: join(dir, 'staging') }),
    timers: new ManualTimers(),
    batchSize: BATCH,
    session: 7,
    seed: 3,
  });
  const swapFailures: string[] = [];
  node.on('swapFailed', (v, why) => swapFailures.push(`${v}: ${why}`));
  t.teardown(() => node.stop());
  await node.start();

  // Tick until a version trained on the streamed transitions is swapped in. Ticks go on, paced
  // by a short timer, while the trainer learns and the shield verifies and prepares the version.
  const t0 = performance.now();
  const swapped = next<[string]>(node, 'swapped');
  let swappedVersion: string | undefined;
  void swapped.then(([v]) => (swappedVersion = v));
  let ticks = 0;
  for (; swappedVersion === undefined && ticks < 5000; ticks++) {
    await node.tick();
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  const swapMs = performance.now() - t0;
  t.not(swappedVersion, undefined, `a version was swapped in within ${ticks} ticks`);
  t.same(rejected, [], 'every exported version passed validation');
  t.same(swapFailures, [], 'no version was refused or failed to swap');
  t.ok(published.includes(swappedVersion ?? ''), `the swapped version ${swappedVersion} is one the trainer published (${published.join(', ')})`);
  t.not(swappedVersion, v0);
  t.equal(shield.modelVersion, swappedVersion, 'the shield runs the new version');
  const swapTick = decided.length;
  t.ok(decided.slice(0, swapTick - 1).every((d) => d.version === v0), 'every tick before the swap was decided by v0');
  t.equal(decided[swapTick - 1]?.version, swappedVersion, 'the tick right after the swap boundary already uses it');

  // Some more ticks: each is decided by the new version, exactly as a fresh load of it decides.
  for (let i = 0; i < 40; i++) await node.tick();
  const after = decided.slice(swapTick - 1);
  t.ok(after.every((d) => d.version === swappedVersion), 'the new version decides every later tick');
  const fresh = await replay(join(dir, 'export', swappedVersion ?? ''), after);
  t.ok(after.every((d, i) => Math.abs(d.qRisk - (fresh[i]?.qRisk ?? NaN)) < 1e-5 && near(d.action, fresh[i]?.action ?? new Float32Array())), 'decisions equal those of the published model');
  const old = await replay(v0Dir, after);
  const maxDiff = Math.max(...after.map((d, i) => Math.abs(d.qRisk - (old[i]?.qRisk ?? NaN))));
  t.ok(maxDiff > 1e-4, `online training changed Q_risk (largest change on these ticks ${maxDiff.toFixed(4)})`);
  t.equal(shield.stats().failsafes, 0, 'no tick fell back to the fail-safe, swap included');

  // Every transition the shield streamed reached the learner, exactly once.
  node.flushBatch();
  await node.drained();
  const sent = ticks + 40;
  while (trainer.transitionsReceived < sent) await next(trainer, 'batch');
  t.equal(trainer.transitionsReceived, sent, `the trainer received all ${sent} transitions`);
  t.equal(trainer.duplicates, 0);
  t.equal(trainer.invalidMessages, 0);
  t.equal(node.invalidMessages, 0);
  await trainer.idle();
  t.ok(learner.updates >= EVERY, `the learner ran ${learner.updates} online updates (one per transition)`);
  t.ok(learner.updates <= sent, 'never more updates than transitions');
  // For the record (not asserted: speed belongs in bench/): the learner alone, batch of the defaults.
  const tu = performance.now();
  await learner.update(100);
  t.comment(`first swap after ${ticks} ticks, ${(swapMs / 1000).toFixed(2)} s; learner ${(100_000 / (performance.now() - tu)).toFixed(0)} updates/s`);
});
