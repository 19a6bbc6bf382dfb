/** Test doubles for the core: a scriptable RiskModel and a hand-driven clock. */
import type { Clock } from '../../src/core/clock.js';
import type { RiskModel } from '../../src/core/risk-model.js';

export class FakeClock implements Clock {
  ms = 1_000_000;
  us = 0;
  nowMs(): number {
    return this.ms;
  }
  monotonicUs(): number {
    return this.us;
  }
}

/** Q_risk = qOf(obs, act); π_rec(s) = rec; optional per-call hooks to throw or to advance time. */
export class FakeRiskModel implements RiskModel {
  readonly obsDim: number;
  readonly actDim: number;
  qOf: (obs: ArrayLike<number>, act: ArrayLike<number>) => number;
  rec: Float32Array;
  throwOnRisk = false;
  throwOnRecovery = false;
  onRisk: (() => Promise<void> | void) | null = null;
  calls = 0;
  closed = false;

  constructor(obsDim: number, actDim: number, qOf: (obs: ArrayLike<number>, act: ArrayLike<number>) => number, rec: number[]) {
    this.obsDim = obsDim;
    this.actDim = actDim;
    this.qOf = qOf;
    this.rec = Float32Array.from(rec);
  }

  async risk(obs: ArrayLike<number>, act: ArrayLike<number>): Promise<number> {
    this.calls++;
    if (this.onRisk !== null) await this.onRisk();
    if (this.throwOnRisk) throw new Error('boom');
    return this.qOf(obs, act);
  }

  recovery(): Float32Array {
    if (this.throwOnRecovery) throw new Error('recovery boom');
    return this.rec;
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

export function coreModel(model: RiskModel, over: { epsRisk?: number; hysteresis?: number; failsafe?: number[] } = {}) {
  const d = model.actDim;
  return {
    model,
    epsRisk: over.epsRisk ?? 0.5,
    hysteresis: over.hysteresis ?? 0,
    failsafe: Float32Array.from(over.failsafe ?? new Array<number>(d).fill(0)),
    actLow: new Float32Array(d).fill(-1),
    actHigh: new Float32Array(d).fill(1),
  };
}
