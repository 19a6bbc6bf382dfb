/**
 * ONNX Runtime sessions for the tick path, and the execution-provider choice (DESIGN.md
 * decision 7). One intra-op thread, sequential execution and, by default, no spinning: a batch-1
 * MLP gains nothing from a thread pool, and spinning threads burn a core between ticks
 * (reference safety-shields-and-onnxruntime.md §3.2). bench/shield.ts measures spinning on/off.
 */
import * as ort from 'onnxruntime-node';
import { RShieldError } from '../core/errors.js';
import { CUDA_INSTALL_HINT, missingCudaLibrary } from './cuda-binaries.js';
import { openDirect } from './direct-run.js';
import type { TickSession } from './onnx-risk-model.js';

export type Provider = 'cpu' | 'cuda';

export interface Logger {
  warn(message: string): void;
}

export const consoleLogger: Logger = { warn: (m) => console.warn(m) };

export interface SessionSettings {
  /** Requested provider; the factory may fall back to 'cpu'. */
  readonly provider: Provider;
  readonly requireCuda: boolean;
  readonly threads: number;
  readonly spinning: boolean;
  /** Tick sessions also open a direct (synchronous) twin on CPU (direct-run.ts). Default true. */
  readonly directRun?: boolean;
  readonly logger: Logger;
}

export function sessionOptions(provider: Provider, s: Pick<SessionSettings, 'threads' | 'spinning'>): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [provider],
    intraOpNumThreads: s.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    // ORT only logs errors; a failed CUDA attempt is reported once through our logger instead.
    logSeverityLevel: 3,
    extra: { session: { intra_op: { allow_spinning: s.spinning ? '1' : '0' }, inter_op: { allow_spinning: '0' } } },
  };
}

function modelError(err: unknown, label: string): RShieldError {
  return new RShieldError('E_MODEL', `${label}: ONNX Runtime refused the model: ${(err as Error).message}`, { label }, { cause: err });
}

/**
 * Creates sessions on one resolved provider. The first session settles the choice: CUDA when
 * asked and loadable, else one warning and CPU, or E_UNAVAILABLE under requireCuda.
 */
export class SessionFactory {
  readonly #s: SessionSettings;
  #resolved: Provider | null = null;
  #directWarned = false;

  constructor(settings: SessionSettings) {
    this.#s = settings;
  }

  /** The provider in use; the requested one until the first session is created. */
  get provider(): Provider {
    return this.#resolved ?? this.#s.provider;
  }

  /** Creates a session from model bytes. `label` names the model in errors. */
  async create(bytes: Uint8Array, label: string): Promise<ort.InferenceSession> {
    if (this.#resolved === null && this.#s.provider === 'cuda') {
      const missing = missingCudaLibrary();
      if (missing !== null) return this.#createOnResolved(bytes, label, `CUDA EP libraries not installed; install with: ${CUDA_INSTALL_HINT}`);
      try {
        const session = await ort.InferenceSession.create(bytes, { ...sessionOptions('cuda', this.#s), logSeverityLevel: 4 });
        this.#resolved = 'cuda';
        return session;
      } catch (err) {
        const why = (err as Error).message;
        // A model ORT cannot parse fails on any provider: report it as a model error below.
        if (!/cuda|provider|shared librar/i.test(why)) throw modelError(err, label);
        return this.#createOnResolved(bytes, label, why, err);
      }
    }
    return this.#createOnResolved(bytes, label);
  }

  /**
   * A session for the tick path: the public one and, on CPU unless turned off, its direct twin
   * (to be checked against it by the risk model before use). Why a twin cannot open is warned once.
   */
  async createTick(bytes: Uint8Array, label: string): Promise<TickSession> {
    const session = await this.create(bytes, label);
    if (this.#s.directRun === false || this.#resolved !== 'cpu') return { session, direct: null };
    const direct = openDirect(bytes, sessionOptions('cpu', this.#s));
    if (typeof direct !== 'string') return { session, direct };
    this.warnDirect(`${label}: ${direct}`);
    return { session, direct: null };
  }

  /** Warns, once per factory, that ticks run on the public (async) session and why. */
  warnDirect(why: string): void {
    if (this.#directWarned) return;
    this.#directWarned = true;
    this.#s.logger.warn(`rshield: ticks use ONNX Runtime's async run (an event-loop turn each): ${why}`);
  }

  /** Creates on the settled provider (CPU unless CUDA worked); with `noCudaWhy`, CUDA was asked for and cannot be had: refuse, or warn once. */
  async #createOnResolved(bytes: Uint8Array, label: string, noCudaWhy?: string, cause?: unknown): Promise<ort.InferenceSession> {
    if (noCudaWhy !== undefined) {
      if (this.#s.requireCuda) {
        throw new RShieldError('E_UNAVAILABLE', `CUDA execution provider required but unavailable: ${noCudaWhy} (see docs/shield.md, "GPU")`, { label }, { cause });
      }
      this.#s.logger.warn(`rshield: CUDA execution provider unavailable (${noCudaWhy}); running on CPU (see docs/shield.md, "GPU")`);
    }
    this.#resolved = this.#resolved ?? 'cpu';
    try {
      return await ort.InferenceSession.create(bytes, sessionOptions(this.#resolved, this.#s));
    } catch (err) {
      throw modelError(err, label);
    }
  }
}
