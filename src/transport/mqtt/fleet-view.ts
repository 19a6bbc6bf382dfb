/**
 * What `rshield status` shows: the shields on a broker, from their retained status and their
 * telemetry. Rates come from the difference of two telemetry messages.
 */
import { parseJsonPayload, statusPayload, telemetryPayload, type StatusPayload, type TelemetryPayload } from '../../config/mqtt-payloads.js';
import { robotOfTopic } from './topics.js';

export interface FleetRow {
  readonly robot: string;
  readonly state: 'online' | 'offline' | 'unknown';
  readonly modelVersion: string;
  readonly provider: string;
  readonly armed: boolean | null;
  /** Ticks per second over the last telemetry interval (null until two messages). */
  readonly tickRateHz: number | null;
  readonly tickP99Us: number | null;
  /** Interventions per tick over the last interval. */
  readonly interventionRate: number | null;
  readonly failsafes: number | null;
  /** Fail-safes by reason, the non-zero ones (null: not reported). */
  readonly failsafesByReason: Readonly<Record<string, number>> | null;
  /** Interventions per minute over the last interval. */
  readonly interventionsPerMin: number | null;
  readonly swaps: number | null;
  readonly lastSwapError: string | null;
  /** The inference watchdog: late decisions, refusals while busy, replaced workers, stuck now (null: none reported). */
  readonly watchdog: { readonly late: number; readonly busy: number; readonly replacements: number; readonly stuck: boolean } | null;
  /** Who changed `armed` last (key id, operator's id), and commands refused so far. */
  readonly armedBy: string | null;
  readonly commandsRefused: number | null;
  readonly lastCommandRefusal: string | null;
  /** Critic drift since the running model was installed (null: not reported). */
  readonly drift: NonNullable<TelemetryPayload['drift']> | null;
  /** The version an operator pinned (updates refused until unpin). */
  readonly pinned: string | null;
}

/** `3 (stale 2, deadline 1)`: the total and, where reported, the reasons. */
function failsafeCell(r: FleetRow): string {
  if (r.failsafes === null) return '-';
  const why = Object.entries(r.failsafesByReason ?? {}).map(([k, n]) => `${k} ${n}`);
  return why.length === 0 ? `${r.failsafes}` : `${r.failsafes} (${why.join(', ')})`;
}

interface Entry {
  status?: StatusPayload;
  last?: TelemetryPayload;
  prev?: TelemetryPayload;
}

export class FleetView {
  invalid = 0;
  private readonly robots = new Map<string, Entry>();

  /** Feeds one message of `rshield/v1/+/status` or `rshield/v1/+/telemetry`. */
  handle(topic: string, payload: Uint8Array): void {
    const where = robotOfTopic(topic);
    if (where === undefined) return;
    const e = this.robots.get(where.robot) ?? {};
    if (where.kind === 'status') {
      const r = parseJsonPayload(statusPayload, payload);
      if (!r.ok || r.value.robot !== where.robot) return void this.invalid++;
      e.status = r.value;
    } else if (where.kind === 'telemetry') {
      const r = parseJsonPayload(telemetryPayload, payload);
      if (!r.ok || r.value.robot !== where.robot) return void this.invalid++;
      e.prev = e.last;
      e.last = r.value;
    } else {
      return;
    }
    this.robots.set(where.robot, e);
  }

  rows(): FleetRow[] {
    return [...this.robots.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([robot, e]) => {
        const { status: s, last, prev } = e;
        const dt = last !== undefined && prev !== undefined ? (last.time - prev.time) / 1000 : 0;
        const dTicks = last !== undefined && prev !== undefined ? last.ticks - prev.ticks : 0;
        return {
          robot,
          state: s?.state ?? 'unknown',
          modelVersion: s?.state === 'online' ? s.modelVersion : (last?.modelVersion ?? ''),
          provider: s?.state === 'online' ? s.provider : (last?.provider ?? ''),
          armed: s?.state === 'online' ? s.armed : null,
          tickRateHz: dt > 0 ? dTicks / dt : null,
          tickP99Us: last?.tickP99Us ?? null,
          interventionRate: dTicks > 0 && last !== undefined && prev !== undefined ? (last.interventions - prev.interventions) / dTicks : null,
          failsafes: last?.failsafes ?? null,
          failsafesByReason: last?.failsafesByReason ?? null,
          interventionsPerMin: dt > 0 && last !== undefined && prev !== undefined ? ((last.interventions - prev.interventions) / dt) * 60 : null,
          swaps: last?.swaps ?? null,
          lastSwapError: s?.state === 'online' ? (s.lastSwapError ?? null) : null,
          watchdog: last?.watchdog ?? null,
          armedBy: s?.state === 'online' ? (s.armedBy ?? null) : null,
          commandsRefused: last?.commandsRefused ?? (s?.state === 'online' ? (s.commandsRefused ?? null) : null),
          lastCommandRefusal: s?.state === 'online' ? (s.lastCommandRefusal ?? null) : null,
          drift: last?.drift ?? null,
          pinned: s?.state === 'online' ? (s.pinned ?? null) : null,
        };
      });
  }

  /** A fixed-width table for a terminal. */
  render(): string {
    const rows = this.rows();
    if (rows.length === 0) return 'no shields seen yet';
    const fmt = (v: number | null, digits: number): string => (v === null ? '-' : v.toFixed(digits));
    const head = ['robot', 'state', 'model', 'armed', 'tick/s', 'p99 µs', 'interv.', 'interv./min', 'failsafes', 'swaps', 'late', 'busy', 'workers↻', 'cmd refused', 'drift'];
    const wd = (r: FleetRow, k: 'late' | 'busy' | 'replacements'): string => (r.watchdog === null ? '-' : `${r.watchdog[k]}`);
    const body = rows.map((r) => [
      r.robot, r.state, r.modelVersion, r.armed === null ? '-' : r.armed ? 'yes' : 'no', fmt(r.tickRateHz, 1), fmt(r.tickP99Us, 0),
      r.interventionRate === null ? '-' : `${(100 * r.interventionRate).toFixed(1)}%`, fmt(r.interventionsPerMin, 0), failsafeCell(r), fmt(r.swaps, 0),
      wd(r, 'late'), wd(r, 'busy'), r.watchdog?.stuck === true ? `${wd(r, 'replacements')} STUCK` : wd(r, 'replacements'), fmt(r.commandsRefused, 0),
      r.drift === null ? '-' : r.drift.suspected ? 'SUSPECTED' : 'ok',
    ]);
    const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
    const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
    const errors = [
      ...rows.filter((r) => r.lastSwapError !== null).map((r) => `${r.robot}: last swap refused: ${r.lastSwapError}`),
      ...rows.filter((r) => r.armed === false).map((r) => `${r.robot}: DISARMED${r.armedBy !== null ? ` by ${r.armedBy}` : ''}`),
      ...rows.filter((r) => r.drift?.suspected === true).map((r) => `${r.robot}: critic drift suspected: ${driftText(r.drift!)}`),
      ...rows.filter((r) => r.lastCommandRefusal !== null).map((r) => `${r.robot}: last command refused: ${r.lastCommandRefusal}`),
      ...rows.filter((r) => r.pinned !== null).map((r) => `${r.robot}: PINNED at ${r.pinned}: model updates refused until rshield cmd unpin`),
    ];
    return [line(head), ...body.map(line), ...errors].join('\n');
  }
}

function driftText(d: NonNullable<FleetRow['drift']>): string {
  const td = d.tdErrorRms === null ? '' : `, TD error RMS ${d.tdErrorRms.toFixed(3)}`;
  return `${d.missedViolations} of ${d.violations} violations came right after an action it rated safe${td} (${d.transitions} transitions since the model was installed); adapt it (rshield adapt, or a trainer with --adapt-on-drift N) from recent transitions`;
}
