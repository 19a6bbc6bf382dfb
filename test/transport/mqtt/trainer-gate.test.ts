// The trainer's quality gate in TrainerNode: a version whose held-out AUROC falls below the last
// published one's (minus the tolerance) is not published, is counted, and the next one is judged
// against the last published version, not the refused one.
import t from 'tap';
import type { Transport } from '../../../src/transport/transport.js';
import { TrainerNode, type GateRecord } from '../../../src/transport/mqtt/trainer-node.js';
import { FakeTrainer } from './fakes.js';
import { tempDir } from './harness.js';

/** A learner whose held-out AUROC follows a script; it keeps no reference weights of its own. */
class ScriptedTrainer extends FakeTrainer {
  accepted = 0;
  readonly metrics: (Readonly<Record<string, unknown>> | undefined)[] = [];
  constructor(private readonly script: number[]) {
    super(1000);
  }
  async evaluate(): Promise<{ auroc: number; positives: number; rows: number }> {
    await Promise.resolve();
    return { auroc: this.script.shift() ?? Number.NaN, positives: 12, rows: 300 };
  }
  override async exportModel(dir: string, version: string, metrics?: Readonly<Record<string, unknown>>): Promise<unknown> {
    this.metrics.push(metrics);
    return super.exportModel(dir, version);
  }
  acceptCurrent(): void {
    this.accepted++;
  }
}

/** Records what would go out on the bus. */
function recordingTransport(): Transport & { topics: string[] } {
  const topics: string[] = [];
  return {
    topics,
    connected: true,
    publish: async (topic) => void topics.push(topic),
    subscribe: async () => {},
    onConnectionChange: () => {},
    close: async () => {},
  };
}

async function node(t: Parameters<typeof tempDir>[0], trainer: FakeTrainer, o: { gate?: boolean; gateTolerance?: number } = {}): Promise<{ node: TrainerNode; transport: ReturnType<typeof recordingTransport>; dir: string }> {
  const dir = await tempDir(t, 'rshield-trainer-gate-');
  const transport = recordingTransport();
  const n = new TrainerNode({ robot: 'line', obsDim: 2, actDim: 1, trainer, transport, every: 10, exportDir: dir, validate: async () => {}, versionPrefix: 'line-online', ...o });
  return { node: n, transport, dir };
}

void t.test('a version whose AUROC drops more than the tolerance is refused, counted and not published', async (t) => {
  const trainer = new ScriptedTrainer([Number.NaN, 0.9, 0.88, 0.897, 0.91]);
  const { node: n, transport } = await node(t, trainer);
  const refused: GateRecord[] = [];
  n.on('refused', (_v, g) => refused.push(g));

  t.equal(await n.publishVersion(), 'line-online.1', 'NaN AUROC (no positives yet) passes');
  t.equal(await n.publishVersion(), 'line-online.2', 'no reference yet: passes');
  const sent = transport.topics.length;
  t.equal(await n.publishVersion(), undefined, '0.88 < 0.9 − 0.005: refused');
  t.equal(transport.topics.length, sent, 'nothing went out for the refused version');
  t.equal(n.refused, 1);
  t.equal(refused[0]?.reference, 0.9);
  t.match(refused[0]?.note, /0\.8800 < 0\.9000/);
  t.equal(await n.publishVersion(), 'line-online.4', '0.897 is within 0.005 of the last published 0.9, not judged against the refused 0.88');
  t.equal(await n.publishVersion(), 'line-online.5');
  t.equal(n.published, 4);
  t.equal(trainer.accepted, 4, 'every published version became the reference');
  t.same(n.lastGate && { auroc: n.lastGate.auroc, reference: n.lastGate.reference, publish: n.lastGate.publish }, { auroc: 0.91, reference: 0.897, publish: true });
  t.same(trainer.metrics[0], { auroc: null, validationPositives: 12, validationTransitions: 300, gateReferenceAuroc: null }, 'an undefined AUROC is written as null');
  t.same(trainer.metrics.at(-1), { auroc: 0.91, validationPositives: 12, validationTransitions: 300, gateReferenceAuroc: 0.897 }, 'the AUROC goes into the published card');
  t.equal(trainer.metrics.length, 4, 'the refused version was never exported');
});

void t.test('--no-gate (gate: false) publishes whatever the AUROC; a learner without evaluate() is not gated', async (t) => {
  const off = await node(t, new ScriptedTrainer([0.9, 0.5]), { gate: false });
  t.equal(await off.node.publishVersion(), 'line-online.1');
  t.equal(await off.node.publishVersion(), 'line-online.2');
  t.equal(off.node.refused, 0);
  t.equal(off.node.lastGate, undefined);
  const plain = await node(t, new FakeTrainer(1000));
  t.equal(await plain.node.publishVersion(), 'line-online.1');
  t.equal(plain.node.lastGate, undefined);
});

void t.test('a larger tolerance lets a bigger drop through', async (t) => {
  const { node: n } = await node(t, new ScriptedTrainer([0.9, 0.88]), { gateTolerance: 0.05 });
  await n.publishVersion();
  t.equal(await n.publishVersion(), 'line-online.2');
  t.equal(n.refused, 0);
});
