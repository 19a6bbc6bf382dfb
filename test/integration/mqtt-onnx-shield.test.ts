// The online loop with the real ONNX Runtime shield on the simulated dVRK: a version exported by
// the trainer side is signed, sent in chunks, prepared by ONNX Runtime beside the running model,
// swapped between ticks and then decides. (The learner is a stand-in until src/learn/online lands:
// it exports hand-built ONNX models whose recovery action changes with each version.)
import t from 'tap';
import { join } from 'node:path';
import { createController, createEnv } from '../../src/envs/index.js';
import { Shield } from '../../src/inference/shield.js';
import { parsePrivateKey, parsePublicKey } from '../../src/models/signing.js';
import { ModelReceiver } from '../../src/transport/mqtt/model-transfer.js';
import type { Transition } from '../../src/core/types.js';
import { transitionsOf } from '../../src/data/transition-columns.js';
import { ShieldNode } from '../../src/transport/mqtt/shield-node.js';
import { TransitionSpool } from '../../src/transport/mqtt/spool.js';
import { trainerNode } from '../../src/app/trainer.js';
import { startBroker } from '../helpers/broker.js';
import { writeModelDir } from '../inference/helpers/models.js';
import { client, keys, next, tempDir } from '../transport/mqtt/harness.js';

const ROBOT = 'dvrk-reacher';
// Critic sigmoid(Σx + b) with b = 10: always above ε, so every tick uses the recovery action c.
const spec = (version: string, c: number): Parameters<typeof writeModelDir>[1] => ({ b: 10, recC: [c, 0, 0], card: { robot: ROBOT, version, actLow: [-1, -1, -1], actHigh: [1, 1, 1] } });

void t.test('ONNX shield: a signed version arrives over MQTT, is prepared, swapped between ticks and used', async (t) => {
  const broker = await startBroker();
  t.teardown(() => broker.stop());
  const dir = await tempDir(t, 'rshield-onnx-loop-');
  const shield = await Shield.load({ modelDir: await writeModelDir(join(dir, 'v0'), spec('v0', 0.01)), robot: ROBOT });
  t.teardown(() => shield.close());
  const env = createEnv(ROBOT, { seed: 3 });
  const transport = client(t, broker.url);
  await transport.waitConnected();
  const node = new ShieldNode({
    robot: ROBOT,
    env,
    controller: createController(ROBOT, { seed: 3 }),
    shield,
    transport,
    spool: await TransitionSpool.open({ dir: join(dir, 'spool'), maxBatches: 1000, maxBytes: 1e8 }),
    receiver: new ModelReceiver({ robot: ROBOT, obsDim: 3, actDim: 3, trustedKeys: [parsePublicKey(keys.publicKeyPem)], allowUnsigned: false, stagingDir: join(dir, 'staging') }),
    batchSize: 25,
    session: 1,
  });
  t.teardown(() => node.stop());
  await node.start();

  const received: Transition[] = [];
  let updates = 0;
  const trainerTransport = client(t, broker.url);
  await trainerTransport.waitConnected();
  const { node: trainer } = trainerNode({
    robot: ROBOT,
    obsDim: 3,
    actDim: 3,
    trainer: {
      addTransitions: (c) => void received.push(...transitionsOf(c)),
      update: (n) => Promise.resolve(((updates += n), { criticLoss: 0, recoveryLoss: 0 })),
      exportModel: (out, version) => writeModelDir(out, spec(version, 0.02)),
      get updates() {
        return updates;
      },
    },
    transport: trainerTransport,
    signer: parsePrivateKey(keys.privateKeyPem),
    every: 50,
    exportDir: join(dir, 'export'),
    validate: async (d) => (await Shield.prepare({ modelDir: d, robot: ROBOT })).close(),
    versionPrefix: 'dvrk-online',
  });
  t.teardown(() => trainer.stop());
  await trainer.start();

  const prepared = next<[string]>(node, 'prepared');
  for (let i = 0; i < 50; i++) await node.tick();
  t.equal((await prepared)[0], 'dvrk-online.1');
  t.equal(received.length, 50, 'the trainer got every transition');
  t.ok(received.every((x) => Math.abs((x.act[0] ?? 0) - 0.01) < 1e-6), 'v0 recovery action was executed and recorded');
  await node.tick();
  t.equal(shield.modelVersion, 'dvrk-online.1', 'swapped at the tick boundary');
  const before = received.length;
  for (let i = 0; i < 49; i++) await node.tick();
  node.flushBatch();
  await node.drained();
  await trainer.idle();
  while (received.length < before + 50) await next(trainer, 'batch');
  const after = received.slice(before + 1);
  t.ok(after.length > 0 && after.every((x) => Math.abs((x.act[0] ?? 0) - 0.02) < 1e-6), 'the new version decides every tick after the swap');
  t.equal(shield.stats().failsafes, 0, 'no tick failed over the swap');
});
