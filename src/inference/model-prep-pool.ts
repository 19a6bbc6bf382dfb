/**
 * Runs model preparation (model-prep.ts) in a worker thread, so that decoding, checking,
 * fusing and encoding ONNX protobuf neither pauses the event loop that runs the shield's ticks
 * nor grows the main thread's V8 heap: a worker's heap is freed when the worker ends. A worker
 * serves `recycleAfter` jobs and is then replaced; an idle one ends after `idleMs`, so a shield
 * that swaps once an hour holds no worker in between. Replies carry only plain data and
 * transferred byte buffers; errors keep their code, message and context (model-prep-protocol.ts).
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { RShieldError } from '../core/errors.js';
import type { PrepRequest, PreppedModel } from './model-prep.js';
import { fromWire, type PrepJob, type PrepReply } from './model-prep-protocol.js';

export interface ModelPrepSettings {
  /** Jobs one worker runs before a fresh one replaces it; 1 = one worker per prepare. */
  readonly recycleAfter: number;
  /** An idle worker ends after this many ms. */
  readonly idleMs: number;
  /**
   * Old-generation heap limit of a worker (MB; null: V8's default). A model whose decoding
   * exceeds it fails with E_MODEL; either way a worker out of memory ends alone, not the shield.
   */
  readonly maxHeapMb: number | null;
}

export const DEFAULT_MODEL_PREP: ModelPrepSettings = { recycleAfter: 1, idleMs: 1000, maxHeapMb: null };

/**
 * How to start the worker: model-prep-worker.js beside this file in dist. When the sources run
 * as TypeScript (tsx, tap), a worker cannot load a .ts entry through the loader flags it
 * inherits (Node 20 does not apply --import'ed hooks to a worker's entry, nodejs/node#47747),
 * so a one-line bootstrap registers tsx in the worker and then imports the .ts entry; it gets
 * no inherited flags, which also spares it the test runner's own loaders.
 */
function workerSpec(): { entry: string | URL; options: WorkerOptions } {
  if (!import.meta.url.endsWith('.ts')) return { entry: new URL('./model-prep-worker.js', import.meta.url), options: {} };
  const entry = JSON.stringify(new URL('./model-prep-worker.ts', import.meta.url).href);
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  return { entry: `import(${tsx}).then((tsx) => { tsx.register(); return import(${entry}); });`, options: { eval: true, execArgv: [] } };
}

interface Pending {
  readonly resolve: (m: PreppedModel) => void;
  readonly reject: (e: Error) => void;
  readonly modelDir: string;
}

interface Slot {
  readonly worker: Worker;
  readonly pending: Map<number, Pending>;
  jobs: number;
  /** No new jobs: it ends when its pending ones are answered. */
  retired: boolean;
  idleTimer: NodeJS.Timeout | null;
}

export class ModelPrepPool {
  #settings: ModelPrepSettings;
  #current: Slot | null = null;
  #nextId = 1;
  #started = 0;

  constructor(settings: Partial<ModelPrepSettings> = {}) {
    this.#settings = checkSettings({ ...DEFAULT_MODEL_PREP, ...settings });
  }

  get settings(): ModelPrepSettings {
    return this.#settings;
  }

  /** Workers started so far (each costs a thread start: tens of ms from dist). */
  get workersStarted(): number {
    return this.#started;
  }

  /** Whether a worker is alive and accepting jobs. */
  get hasWorker(): boolean {
    return this.#current !== null;
  }

  /** Changes the settings; the running worker keeps its own until it is replaced. */
  configure(settings: Partial<ModelPrepSettings>): void {
    this.#settings = checkSettings({ ...this.#settings, ...settings });
  }

  /** Prepares a model in a worker; rejects with the error prepModel threw there. */
  run(request: PrepRequest): Promise<PreppedModel> {
    const slot = this.#slot();
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      slot.pending.set(id, { resolve, reject, modelDir: request.modelDir });
      slot.jobs++;
      if (slot.jobs >= this.#settings.recycleAfter) this.#retire(slot);
      if (slot.idleTimer !== null) clearTimeout(slot.idleTimer);
      slot.idleTimer = null;
      slot.worker.ref(); // a pending job keeps the process alive; an idle worker does not
      try {
        slot.worker.postMessage({ id, request } satisfies PrepJob);
      } catch (err) {
        // A request that cannot be cloned (a caller's bug): nothing was sent, the worker stays usable.
        slot.pending.delete(id);
        reject(new RShieldError('E_USAGE', `${request.modelDir}: model preparation request cannot be sent to its worker: ${(err as Error).message}`, { modelDir: request.modelDir }, { cause: err }));
        this.#idle(slot);
      }
    });
  }

  /** Ends the workers now; pending jobs are rejected. */
  async close(): Promise<void> {
    const slot = this.#current;
    this.#current = null;
    if (slot !== null) await slot.worker.terminate();
  }

  #slot(): Slot {
    if (this.#current !== null) return this.#current;
    const { entry, options } = workerSpec();
    const limit = this.#settings.maxHeapMb;
    const worker = new Worker(entry, limit === null ? options : { ...options, resourceLimits: { maxOldGenerationSizeMb: limit } });
    this.#started++;
    const slot: Slot = { worker, pending: new Map(), jobs: 0, retired: false, idleTimer: null };
    worker.on('message', (reply: PrepReply) => this.#answer(slot, reply));
    worker.on('error', (err) => this.#fail(slot, err.message));
    worker.on('exit', (code) => this.#fail(slot, `exited with code ${code}`));
    this.#current = slot;
    return slot;
  }

  #retire(slot: Slot): void {
    slot.retired = true;
    if (this.#current === slot) this.#current = null;
  }

  #answer(slot: Slot, reply: PrepReply): void {
    const p = slot.pending.get(reply.id);
    if (p === undefined) return;
    slot.pending.delete(reply.id);
    if (reply.ok) p.resolve(reply.model);
    else p.reject(fromWire(reply.error));
    this.#idle(slot);
  }

  /** After an answer: a retired worker with nothing left ends; a current one waits idle. */
  #idle(slot: Slot): void {
    if (slot.pending.size > 0) return;
    if (slot.retired) {
      void slot.worker.terminate();
      return;
    }
    slot.worker.unref();
    slot.idleTimer = setTimeout(() => {
      this.#retire(slot);
      void slot.worker.terminate();
    }, this.#settings.idleMs).unref();
  }

  /** The worker died (it failed to start, ran out of memory, was terminated): its jobs fail. */
  #fail(slot: Slot, why: string): void {
    this.#retire(slot);
    if (slot.idleTimer !== null) clearTimeout(slot.idleTimer);
    for (const [id, p] of slot.pending) {
      slot.pending.delete(id);
      p.reject(new RShieldError('E_MODEL', `${p.modelDir}: model preparation failed: its worker thread stopped (${why})`, { modelDir: p.modelDir, why }));
    }
  }
}

function checkSettings(s: ModelPrepSettings): ModelPrepSettings {
  if (!Number.isInteger(s.recycleAfter) || s.recycleAfter < 1) throw new RShieldError('E_CONFIG', `model prep recycleAfter must be an integer ≥ 1, got ${s.recycleAfter}`);
  if (!Number.isFinite(s.idleMs) || s.idleMs < 0) throw new RShieldError('E_CONFIG', `model prep idleMs must be ≥ 0, got ${s.idleMs}`);
  if (s.maxHeapMb !== null && !(s.maxHeapMb > 0)) throw new RShieldError('E_CONFIG', `model prep maxHeapMb must be > 0, got ${s.maxHeapMb}`);
  return s;
}

/** The pool every Shield.prepare uses unless loadModel is given another. */
export const modelPrepPool = new ModelPrepPool();
