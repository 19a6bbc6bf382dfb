import type { DriftStats } from '../../core/drift-monitor.js';
import type { RosTime } from './rclnodejs-api.js';

/** diagnostic_msgs/DiagnosticStatus levels. */
export const DIAG_LEVEL = { ok: 0, warn: 1, error: 2, stale: 3 } as const;

export interface ShieldCounters {
  /** measured_cp messages and controller commands received. */
  states: number;
  commands: number;
  ticks: number;
  task: number;
  recovery: number;
  failsafe: number;
  staleState: number;
  invalidState: number;
  nonFinite: number;
  decideErrors: number;
  clippedSteps: number;
  clampedToWorkspace: number;
  /** measured_cp or servo_cp messages whose bytes are not a PoseStamped: ignored. */
  malformed: number;
}

export function zeroCounters(): ShieldCounters {
  return { states: 0, commands: 0, ticks: 0, task: 0, recovery: 0, failsafe: 0, staleState: 0, invalidState: 0, nonFinite: 0, decideErrors: 0, clippedSteps: 0, clampedToWorkspace: 0, malformed: 0 };
}

export interface DiagnosticsInput {
  readonly name: string;
  readonly hardwareId: string;
  readonly active: boolean;
  readonly holding: boolean;
  readonly holdReason: string;
  readonly operatingState: string;
  readonly lastQRisk: number;
  readonly stateAgeMs: number;
  readonly counters: ShieldCounters;
  /** Subscriptions matched to the shield's servo_cp: 0 means the arm does not listen (wrong remap, arm not up). */
  readonly commandOutSubscribers: number;
  /** Faults beside the shield's own state (a recording stopped by a disk error): at least warn. */
  readonly faults?: readonly string[];
  /** Lifecycle activations and deactivations so far, and the last one in words. */
  readonly armChanges?: number;
  readonly lastArmChange?: string;
  /** Does the critic still fit the robot (src/core/drift-monitor.ts): its counts and the signs that hold (empty: fits). */
  readonly drift?: { readonly stats: DriftStats; readonly signs: readonly string[] };
  /** More key / value pairs, after the shield's own (the online link's: model version, swaps, spool). */
  readonly values?: readonly (readonly [string, string])[];
}

/** A diagnostic_msgs/DiagnosticArray for /diagnostics (rqt_robot_monitor, Foxglove). Sent at 1 Hz, off the tick path. */
export function diagnosticsMessage(stamp: RosTime, d: DiagnosticsInput): object {
  const faults = d.faults ?? [];
  const drift = d.drift;
  const driftNote = drift !== undefined && drift.signs.length > 0 ? [`critic drift suspected: ${drift.signs.join(', ')}`] : [];
  const state = !d.active ? DIAG_LEVEL.warn : d.holding ? DIAG_LEVEL.error : DIAG_LEVEL.ok;
  const level = faults.length > 0 || driftNote.length > 0 ? Math.max(state, DIAG_LEVEL.warn) : state;
  const message = [!d.active ? 'inactive (lifecycle)' : d.holding ? `holding: ${d.holdReason}` : 'shielding', ...faults, ...driftNote].join('; ');
  const values = [
    ['operating_state', d.operatingState],
    ['last_q_risk', Number.isFinite(d.lastQRisk) ? d.lastQRisk.toFixed(4) : 'n/a'],
    ['state_age_ms', Number.isFinite(d.stateAgeMs) ? d.stateAgeMs.toFixed(1) : 'never'],
    ['command_out_subscribers', String(d.commandOutSubscribers)],
    ['armed', d.active ? 'yes (lifecycle active)' : 'no (lifecycle inactive: hold)'],
    ['arm_changes', String(d.armChanges ?? 0)],
    ['last_arm_change', d.lastArmChange ?? 'none'],
    ...Object.entries(d.counters).map(([k, v]) => [k, String(v)]),
    ...(drift === undefined
      ? []
      : [
          ['drift_suspected', drift.stats.suspected ? 'yes' : 'no'],
          ['drift_transitions', String(drift.stats.transitions)],
          ['drift_violations', String(drift.stats.violations)],
          ['drift_missed_violations', String(drift.stats.missedViolations)],
          ['drift_td_error_rms', drift.stats.tdErrorRms === null ? 'n/a' : drift.stats.tdErrorRms.toFixed(4)],
        ]),
    ...(d.values ?? []),
  ].map(([key, value]) => ({ key, value }));
  return { header: { stamp, frame_id: '' }, status: [{ level, name: d.name, message, hardware_id: d.hardwareId, values }] };
}
