// The trainer's quality gate in TrainerNode: a version whose held-out AUROC falls below the last
// published one's (minus the tolerance) is not published, is counted, and the next one is judged
// against the last published version, not the refused one.
import t from 'tap';
import type { Transport } from '../../../src/transport/transport.js';
import type { ValidationScore } from '../../../src/learn/held-out.js';
import type { GateScores } from '../../../src/learn/quality-gate.js';
import { trainerNode } from '../../../src/app/trainer.js';
import type { GateRecord, OnlineSchedule } from '../../../src/learn/online-schedule.js';
import { robotTopics } from '../../../src/transport/mqtt/topics.js';
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
function recordingTransport(): Transport & { topics: string[]; payloads: string[] } {
  const topics: string[] = [];
  const payloads: string[] = [];
  return {
    topics,
    payloads,
    connected: true,
    publish: async (topic, payload) => {
      topics.push(topic);
      payloads.push(typeof payload === 'string' ? payload : Buffer.from(payload).toString('utf8'));
    },
    subscribe: async () => {},
    onConnectionChange: () => {},
    close: async () => {},
  };
}

const topics = robotTopics('line');

/** The MQTT trainer node and its schedule, wired as `rshield trainer` does; the schedule is returned. */
async function node(t: Parameters<typeof tempDir>[0], trainer: FakeTrainer, o: { gate?: boolean; gateTolerance?: number } = {}): Promise<{ node: OnlineSchedule; transport: ReturnType<typeof recordingTransport>; dir: string }> {
  const dir = await tempDir(t, 'rshield-trainer-gate-');
  const transport = recordingTransport();
  const { schedule } = trainerNode({ robot: 'line', obsDim: 2, actDim: 1, trainer, transport, every: 10, exportDir: dir, validate: async () => {}, versionPrefix: 'line-online', ...o });
  return { node: schedule, transport, dir };
}

void t.test('a version whose AUROC drops more than the tolerance is refused, counted and not published', async (t) => {
  const trainer = new ScriptedTrainer([Number.NaN, 0.9, 0.88, 0.897, 0.91]);
  const { node: n, transport } = await node(t, trainer);
  const refused: GateRecord[] = [];
  n.on('refused', (_v, g) => refused.push(g));

  t.equal(await n.publishVersion(), 'line-online.1', 'NaN AUROC (no positives yet) passes');
  t.equal(await n.publishVersion(), 'line-online.2', 'no reference yet: passes');
  const models = (): number => transport.topics.filter((x) => x === topics.model).length;
  const sent = models();
  t.equal(await n.publishVersion(), undefined, '0.88 < 0.9 − 0.005: refused');
  t.equal(models(), sent, 'no model message went out for the refused version');
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

/** A learner that scores the offline violation demos and the online episodes apart (src/learn/online.ts). */
class TwoSetTrainer extends ScriptedTrainer {
  constructor(private readonly sets: { offline: [number, number]; online: [number, number] }[]) {
    super([]);
  }
  override async evaluate(): Promise<{ auroc: number; positives: number; rows: number; reference: number } & GateScores> {
    await Promise.resolve();
    const s = this.sets.shift()!;
    const score = (caught: number, auroc: number, positives: number, rows: number): ValidationScore => ({ auroc, caught, positives, rows });
    return {
      auroc: 0.93, reference: 0.92, positives: 90, rows: 700,
      offline: { candidate: score(s.offline[0], 0.93, 70, 200), reference: score(s.offline[1], 0.93, 70, 200) },
      online: { candidate: score(Number.NaN, s.online[0], 20, 500), reference: score(Number.NaN, s.online[1], 20, 500) },
    };
  }
}

void t.test('a version better online but worse on the offline violation demos is refused, and the trainer status says why', async (t) => {
  // offline: caught share [candidate, running]; online: AUROC [candidate, running].
  const trainer = new TwoSetTrainer([
    { offline: [0.86, 0.91], online: [0.97, 0.9] },
    { offline: [0.92, 0.91], online: [0.88, 0.9] },
    { offline: [0.91, 0.91], online: [0.9, 0.9] },
  ]);
  const { node: n, transport } = await node(t, trainer);
  const refused: GateRecord[] = [];
  n.on('refused', (_v, g) => refused.push(g));

  t.equal(await n.publishVersion(), undefined, 'online AUROC 0.97 > 0.90, but it catches 86% of the demos’ violations where the running version caught 91%: refused');
  const g = refused[0]!;
  t.equal(g.sets?.offline.publish, false, 'the offline set failed');
  t.equal(g.sets?.online.publish, true, 'the online set held');
  t.equal(g.sets?.offline.candidate.caught, 0.86);
  t.equal(g.sets?.offline.reference.caught, 0.91);
  t.equal(g.sets?.online.candidate.auroc, 0.97);
  t.match(g.note, /^worse on the offline violation demos\./);
  t.match(g.note, /caught 0\.8600 < 0\.9100 − 0\.005/);
  const status = JSON.parse(transport.payloads[transport.topics.lastIndexOf(topics.trainer)]!) as { refused: number; published: number; lastGate: GateRecord };
  t.equal(topics.trainer, 'rshield/v1/line/trainer');
  t.equal(status.refused, 1);
  t.equal(status.lastGate.publish, false);
  t.equal(status.lastGate.sets?.offline.candidate.caught, 0.86, 'the retained trainer status carries both scores');
  t.equal(status.lastGate.sets?.online.candidate.caught, null, 'an undefined score is null');

  t.equal(await n.publishVersion(), undefined, 'better on the demos, worse online: refused too');
  t.match(refused[1]?.note, /^worse on the online episodes\./);
  t.equal(await n.publishVersion(), 'line-online.3', 'both sets hold: published');
  t.match(n.lastGate?.note, /^both held-out sets hold/);
  t.same(trainer.metrics[0]?.gateOffline, { auroc: 0.93, caught: 0.91, positives: 70, rows: 200 }, 'the card records both scores');
});