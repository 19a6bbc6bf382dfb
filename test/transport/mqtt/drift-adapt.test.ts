// The trainer adapting to reported drift (`rshield trainer --adapt-on-drift N`), on a real
// broker: the shield's telemetry says drift suspected → the schedule adapts from the last N
// transitions the trainer received → the result goes through the quality gate and, when it
// passes, out as a signed version that the shield verifies and swaps in (drift judged afresh);
// a refused one is counted, with the gate's reason, and retried only once N more transitions came.
import t from 'tap';
import type { Transition } from '../../../src/core/types.js';
import type { Decision } from '../../../src/core/shield-core.js';
import type { AdaptationResult } from '../../../src/learn/online.js';
import type { AdaptationRecord } from '../../../src/learn/online-schedule.js';
import type { TrainerNode } from '../../../src/transport/mqtt/trainer-node.js';
import { startBroker } from '../../helpers/broker.js';
import { FakeShield, FakeTrainer } from './fakes.js';
import { client, next, shieldNode, topics, trainerNode } from './harness.js';

/** Rates every action safe: the line robot walks off its end (|x| > 1) every 4th tick. */
class BlindShield extends FakeShield {
  override async decide(obs: Float32Array, proposed: Float32Array): Promise<Decision> {
    return super.decide(new Float32Array([0, obs[1] ?? 0]), proposed);
  }
}

/** A learner that adapts on the last `transitions` it received, and whose gate scores follow a script. */
class AdaptingTrainer extends FakeTrainer {
  readonly adaptedOn: Transition[][] = [];
  readonly exported: (Readonly<Record<string, unknown>> | undefined)[] = [];
  constructor(private readonly scores: { auroc: number; reference: number }[]) {
    super(1000);
  }
  async adapt(o: { transitions: number; steps?: number }): Promise<AdaptationResult> {
    await Promise.resolve();
    const rows = this.received.slice(-o.transitions);
    this.adaptedOn.push(rows);
    const steps = o.steps ?? 300;
    this.updates += steps;
    return { method: 'fine-tune', rows: rows.length, violations: rows.filter((r) => r.cost > 0).length, steps, criticLoss: 0.01, recoveryLoss: 0.2 };
  }
  async evaluate(): Promise<{ auroc: number; reference: number; positives: number; rows: number }> {
    await Promise.resolve();
    return { ...(this.scores.shift() ?? { auroc: Number.NaN, reference: Number.NaN }), positives: 10, rows: 200 };
  }
  acceptCurrent(): void {}
  override async exportModel(dir: string, version: string, metrics?: Readonly<Record<string, unknown>>): Promise<unknown> {
    this.exported.push(metrics);
    return super.exportModel(dir, version);
  }
}

/** Messages of one topic as they arrive, and a wait for one that matches. */
class Inbox {
  readonly items: string[] = [];
  #waiters: (() => void)[] = [];
  push = (_topic: string, p: Uint8Array): void => {
    this.items.push(Buffer.from(p).toString('utf8'));
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  };
  async until(match: (m: string) => boolean): Promise<string> {
    for (;;) {
      const m = this.items.find(match);
      if (m !== undefined) return m;
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }
}

async function receivedAtLeast(node: TrainerNode, n: number): Promise<void> {
  while (node.transitionsReceived < n) await next(node, 'batch');
}

const N = 32;

void t.test('drift reported → adaptation on the last N transitions → a signed version through the gate, swapped in, judged afresh', async (t) => {
  const broker = await startBroker();
  t.teardown(() => broker.stop());
  const trainer = new AdaptingTrainer([{ auroc: 0.93, reference: 0.9 }]);
  const tr = await trainerNode(t, broker.url, { trainer, adaptOnDrift: { transitions: N, steps: 7 }, every: 1_000_000 });
  const sh = await shieldNode(t, broker.url, { shield: new BlindShield(), drift: { gammaRisk: 0.8 }, batchSize: 16 });

  for (let i = 0; i < 40; i++) await sh.node.tick();
  sh.node.flushBatch();
  await receivedAtLeast(tr.node, 40);
  t.match(sh.node.telemetry().drift, { missedViolations: 10, suspected: true }, 'the blind critic missed every violation');

  const adapted = next<[AdaptationRecord]>(tr.schedule, 'adapted');
  const prepared = next<[string]>(sh.node, 'prepared');
  sh.node.publishTelemetry();
  const [record] = await adapted;
  t.comment(record.note);
  t.equal(trainer.adaptedOn.length, 1, 'one adaptation');
  t.same(trainer.adaptedOn[0], trainer.received.slice(-N), `on the last ${N} transitions received`);
  const first = trainer.adaptedOn[0]?.[0];
  t.same([first?.episode, first?.step], [2, 0], 'of 40 (episodes of 4 steps): from the 9th on, the start of the 3rd episode');
  t.match(record, { model: 'v0', method: 'fine-tune', rows: N, violations: 8, steps: 7, outcome: 'published', version: 'line-online.1' });
  t.match(record.note, /^drift reported on v0: missed violations 10 of 10, TD-error RMS \d\.\d{4} over 40 transitions; fine-tune on the last 32 transitions \(8 violations\), 7 steps; published line-online\.1$/);
  t.match(trainer.exported[0], { auroc: 0.93, gateReferenceAuroc: 0.9, adaptation: { method: 'fine-tune', transitions: N, violations: 8, steps: 7 } }, "the card records the gate's scores and the adaptation");
  t.match(tr.node.status(), { published: 1, refused: 0, adaptations: { runs: 1, published: 1, refused: 0 }, lastAdaptation: { outcome: 'published' } });

  t.equal((await prepared)[0], 'line-online.1', 'the shield verified the signed version (it trusts only the trainer key) and prepared it');
  const swapped = next<[string]>(sh.node, 'swapped');
  await sh.node.tick();
  t.equal((await swapped)[0], 'line-online.1');
  t.match(sh.node.telemetry().drift, { transitions: 1, missedViolations: 0, suspected: false }, 'the new model is judged afresh');

  // The old model's reports no longer matter: no second adaptation for v0.
  tr.schedule.driftReported('v0', { transitions: 41, violations: 10, missedViolations: 10, tdErrorRms: 0.5, suspected: true });
  await tr.schedule.idle();
  t.equal(tr.schedule.adaptations.runs, 1, 'a published adaptation ends it for that model version');
});

void t.test('an adaptation the gate refuses is counted with its reason, nothing is sent, and it is retried after N more transitions', async (t) => {
  const broker = await startBroker();
  t.teardown(() => broker.stop());
  const trainer = new AdaptingTrainer([
    { auroc: 0.8, reference: 0.9 },
    { auroc: 0.92, reference: 0.9 },
  ]);
  const tr = await trainerNode(t, broker.url, { trainer, adaptOnDrift: { transitions: N }, every: 1_000_000 });
  const sh = await shieldNode(t, broker.url, { shield: new BlindShield(), drift: { gammaRisk: 0.8 }, batchSize: 16 });
  const watcher = client(t, broker.url);
  await watcher.waitConnected();
  const models = new Inbox();
  const statuses = new Inbox();
  await watcher.subscribe(topics.model, models.push);
  await watcher.subscribe(topics.trainer, statuses.push);

  // Drift before N transitions arrived: the trigger waits for enough data.
  tr.schedule.driftReported('v0', { transitions: 20, violations: 5, missedViolations: 5, tdErrorRms: null, suspected: true });
  await tr.schedule.idle();
  t.equal(tr.schedule.adaptations.runs, 0, `fewer than ${N} transitions received: not yet`);

  for (let i = 0; i < 32; i++) await sh.node.tick();
  await receivedAtLeast(tr.node, 32);
  let adapted = next<[AdaptationRecord]>(tr.schedule, 'adapted');
  sh.node.publishTelemetry();
  let [record] = await adapted;
  t.comment(record.note);
  t.match(record, { outcome: 'refused', version: null, rows: N, steps: 300 }, 'default 300 steps');
  t.match(record.note, /; refused by the quality gate: AUROC 0\.8000 < 0\.9000 − 0\.005/);
  t.same(tr.schedule.adaptations, { runs: 1, published: 0, refused: 1, rejected: 0, failed: 0 });
  t.equal(tr.schedule.refused, 1, 'counted as any refused version');
  t.equal(trainer.exported.length, 0, 'the refused version was never exported');
  const status = JSON.parse(await statuses.until((m) => m.includes('"outcome":"refused"'))) as unknown;
  t.match(status, { refused: 1, adaptations: { runs: 1, refused: 1 }, lastAdaptation: { outcome: 'refused', model: 'v0' } }, 'the trainer status (retained) says so, with the reason');
  t.equal(models.items.length, 0, 'no model message went out (the status came after the verdict)');

  // Still drifting, but no new data: not retried.
  tr.schedule.driftReported('v0', { transitions: 32, violations: 8, missedViolations: 8, tdErrorRms: null, suspected: true });
  await tr.schedule.idle();
  t.equal(tr.schedule.adaptations.runs, 1, 'no retry on the same data');

  for (let i = 0; i < 32; i++) await sh.node.tick();
  await receivedAtLeast(tr.node, 64);
  adapted = next<[AdaptationRecord]>(tr.schedule, 'adapted');
  sh.node.publishTelemetry();
  [record] = await adapted;
  t.match(record, { outcome: 'published', version: 'line-online.2' }, 'retried on N new transitions; passes this time');
  t.same(trainer.adaptedOn[1], trainer.received.slice(32, 64), 'the second try adapted on the 32 transitions after the first');
  const announce = JSON.parse(await models.until((m) => m.includes('"announce"'))) as { version: string; signature?: string; keyId?: string };
  t.equal(announce.version, 'line-online.2', 'only the version that passed the gate went out');
  t.ok(announce.signature !== undefined && announce.keyId !== undefined, 'signed');
});
