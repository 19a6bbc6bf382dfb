/**
 * The MCAP recording of a shielded demo run: the transitions channel that `rshield train`
 * reads, plus one JSON message per tick on `/rshield/decisions` (proposed action, executed
 * action, Q_risk, source) that Foxglove plots directly.
 */
import { McapRecorder, TransitionWriter, specMeta } from '../../data/index.js';
import type { TickRecord } from '../../core/episode-runner.js';
import type { EnvSpec, Transition } from '../../core/types.js';

const DECISION_SCHEMA = JSON.stringify({
  title: 'rshield.Decision',
  type: 'object',
  properties: {
    episode: { type: 'integer' },
    step: { type: 'integer' },
    proposed: { type: 'array', items: { type: 'number' } },
    action: { type: 'array', items: { type: 'number' } },
    q_risk: { type: ['number', 'null'] },
    source: { type: 'string', enum: ['task', 'recovery', 'failsafe'] },
  },
});

export class DemoRecording {
  private readonly encoder = new TextEncoder();
  private tick = 0n;

  private constructor(
    private readonly recorder: McapRecorder,
    private readonly transitions: TransitionWriter,
    private readonly decisions: number,
    private readonly startNs: bigint,
  ) {}

  static open(path: string, spec: EnvSpec, seed: number, episodes: number): DemoRecording {
    const recorder = McapRecorder.open(path);
    const startNs = BigInt(Date.now()) * 1_000_000n;
    const transitions = TransitionWriter.attach(recorder, {
      ...specMeta(spec),
      generator: `rshield demo: shielded scripted controller, ${episodes} episodes`,
      seed,
      requested: 0,
    }, { startTimeNs: startNs });
    const decisions = recorder.addChannel({ topic: '/rshield/decisions', schemaName: 'rshield.Decision', schemaText: DECISION_SCHEMA, schemaEncoding: 'jsonschema', encoding: 'json' });
    return new DemoRecording(recorder, transitions, decisions, startNs);
  }

  /** One simulated tick is logged 10 ms after the previous one. */
  write(t: Transition, tick: TickRecord): void {
    const time = this.startNs + this.tick * 10_000_000n;
    this.tick++;
    this.transitions.write(t, time);
    if (tick.source !== 'unshielded') {
      const msg = {
        episode: t.episode,
        step: t.step,
        proposed: Array.from(tick.proposed),
        action: Array.from(t.act),
        q_risk: Number.isFinite(tick.qRisk) ? tick.qRisk : null,
        source: tick.source,
      };
      this.recorder.write(this.decisions, time, this.encoder.encode(JSON.stringify(msg)));
    }
  }

  get count(): number {
    return this.transitions.count;
  }

  close(): void {
    this.transitions.close();
    this.recorder.close();
  }
}
