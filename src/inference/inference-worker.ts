/**
 * The inference worker (DESIGN.md decisions 8 and 9): a worker thread that loads one model
 * from its bytes, runs the check batch — the model's quarantine: the thread that owns the
 * robot's I/O never creates its sessions — and then serves hand-off requests (handoff.ts)
 * until told to stop. Started by watchdog.ts; never imported by the I/O side.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isRShieldError } from '../core/errors.js';
import type { RecoveryMode } from '../core/recovery-mode.js';
import type { RiskModel } from '../core/risk-model.js';
import { CMD, CMD_NEAREST, CMD_PLAN, CMD_RECOVERY, CMD_RISK, CMD_STOP, DONE, EPISODE, MB_INVALID, MB_PLANS, MB_WARM, NS_FALLBACKS, NS_SEARCHES, REC_OF, REQ, STATUS, handoff, waitAsync, type Handoff } from './handoff.js';
import type { PlannerPreset } from '../config/planner-settings.js';
import { PlannerRiskModel } from './planner-model.js';
import { loadModel } from './model-loader.js';
import type { ModelSource } from './model-source.js';
import { NearestSafeRiskModel } from './nearest-safe-model.js';
import { SessionFactory, type Provider } from './session-factory.js';
import { ImageHeadsModel } from './image-heads-model.js';
import { ImageEncoder } from './image-encoder.js';
import { TickPredictor, waitForRequest, type WakeSettings } from './request-wait.js';

/** How the worker loads its model: the Shield's options, resolved. */
export interface WorkerLoad {
  readonly robot?: string;
  readonly fuse: 'auto' | false;
  readonly recoveryMode?: RecoveryMode;
  readonly plannerPreset?: PlannerPreset;
  readonly provider: Provider;
  readonly requireCuda: boolean;
  readonly threads: number;
  readonly spinning: boolean;
  /** Ticks run on a direct (synchronous) session where one opens and agrees (direct-run.ts). */
  readonly directRun: boolean;
  /**
   * An image model (its card has 'image') is served by two workers: 'heads' answers the tick's
   * hand-off on the latent the I/O side writes into it; 'encoder' encodes the frames posted to it.
   */
  readonly image?: 'heads' | 'encoder';
}

/** What the I/O side posts to an image model's encoder worker: one frame, packed RGB. */
export interface EncodeRequest {
  readonly type: 'encode';
  readonly seq: number;
  readonly width: number;
  readonly height: number;
  readonly rgb: Uint8Array;
}

export interface WorkerInit {
  readonly source: ModelSource;
  readonly load: WorkerLoad;
  readonly buffer: SharedArrayBuffer;
  /** How to wait for the next request between ticks. */
  readonly wake: WakeSettings;
}

/** What the worker posts: once ready or refused; warnings; what a failed request threw. */
export type WorkerMessage =
  | { readonly type: 'ready'; readonly fused: boolean; readonly fuseNote: string | null; readonly recoveryMode: RecoveryMode; readonly provider: Provider }
  | { readonly type: 'refused'; readonly code: string; readonly message: string }
  | { readonly type: 'warning'; readonly message: string }
  | { readonly type: 'inference-error'; readonly message: string }
  | { readonly type: 'latent'; readonly seq: number; readonly latent: Float32Array }
  | { readonly type: 'encode-error'; readonly seq: number; readonly message: string };

const post = (m: WorkerMessage): void => parentPort?.postMessage(m);

async function serve(model: RiskModel, h: Handoff, fused: boolean, wake: WakeSettings): Promise<void> {
  const { ctrl } = h;
  const ticks = new TickPredictor();
  const ns = model instanceof NearestSafeRiskModel ? model : null;
  const planner = model instanceof PlannerRiskModel ? model : null;
  // Sequence 0 is "no request yet": the I/O side may send the first one before this line runs.
  let last = 0;
  let episode = Atomics.load(ctrl, EPISODE);
  for (;;) {
    const seq = waitForRequest(ctrl, last, wake, ticks);
    last = seq;
    const cmd = ctrl[CMD];
    if (cmd === CMD_STOP) break;
    try {
      if (cmd === CMD_RISK) {
        // A direct session answers synchronously: no event-loop turn between request and answer.
        const q = model.risk(h.obs, h.act);
        h.q[0] = typeof q === 'number' ? q : await q;
        // A fused graph computed π_rec(s) in the same run: hand it over now, saving a round trip.
        if (fused) {
          h.out.set(model.recovery(h.obs) as Float32Array);
          ctrl[REC_OF] = seq;
        }
      } else if (cmd === CMD_RECOVERY) {
        const r = model.recovery(h.obs);
        h.out.set(r instanceof Float32Array ? r : await r);
      } else if (cmd === CMD_PLAN && planner !== null) {
        // The plan runs here, in the worker: the I/O thread only waits, up to the tick's deadline.
        const ep = Atomics.load(ctrl, EPISODE);
        if (ep !== episode) {
          episode = ep;
          planner.resetPlan();
        }
        h.out.set(await planner.plan(h.obs, h.act));
        const s = planner.stats();
        ctrl[MB_PLANS] = s.plans;
        ctrl[MB_INVALID] = s.invalid;
        ctrl[MB_WARM] = s.warmStarts;
      } else if (cmd === CMD_NEAREST && ns !== null) {
        h.out.set(await ns.nearestSafe(h.obs, h.act, h.fallback, h.threshold[0] as number));
        const s = ns.stats();
        ctrl[NS_SEARCHES] = s.searches;
        ctrl[NS_FALLBACKS] = s.fallbacks;
      } else {
        throw new Error(`unknown hand-off command ${cmd}`);
      }
      ctrl[STATUS] = 0;
    } catch (err) {
      ctrl[STATUS] = 1;
      post({ type: 'inference-error', message: err instanceof Error ? err.message : String(err) });
    }
    Atomics.store(ctrl, DONE, seq);
    Atomics.notify(ctrl, DONE);
  }
  await model.close();
}

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));
const refuse = (err: unknown): void => post({ type: 'refused', code: isRShieldError(err) ? err.code : 'E_MODEL', message: messageOf(err) });

/** Encodes posted frames until told to stop through the hand-off (the stop waits for a running encode). */
function serveEncoder(encoder: ImageEncoder, h: Handoff): void {
  const port = parentPort;
  if (port === null) return;
  port.on('message', (m: EncodeRequest) => {
    encoder.encode(m.rgb, m.width, m.height).then(
      (latent) => post({ type: 'latent', seq: m.seq, latent: latent.slice() }),
      (err: unknown) => post({ type: 'encode-error', seq: m.seq, message: messageOf(err) }),
    );
  });
  const stop = waitAsync(h.ctrl, REQ, 0);
  void (stop.async ? stop.value : Promise.resolve()).then(async () => {
    port.removeAllListeners('message');
    port.close();
    await encoder.close();
  });
}

/** An image model's worker: its heads (served on the hand-off) or its encoder, checked first. */
async function startImage(init: WorkerInit, sessions: SessionFactory, part: 'heads' | 'encoder'): Promise<void> {
  const { source } = init;
  const { card } = source;
  const { image, encoder, heads } = card;
  const h = handoff(card.obsDim, card.actDim, init.buffer, image?.latentDim ?? 0);
  const file = part === 'heads' ? source.heads : source.encoder;
  if (image === undefined || encoder === undefined || heads === undefined || file === undefined) {
    return refuse(new Error(`${source.dir}: not an image model (its card has no 'image', 'encoder' and 'heads' parts)`));
  }
  let session;
  try {
    session = await sessions.create(file.bytes, file.path);
  } catch (err) {
    return refuse(err);
  }
  try {
    if (part === 'encoder') {
      const enc = new ImageEncoder(session, { image: image.tensor, latent: encoder.output, latentDim: image.latentDim }, file.path);
      await enc.check(image.camera.width, image.camera.height);
      post({ type: 'ready', fused: false, fuseNote: null, recoveryMode: 'policy', provider: sessions.provider });
      return serveEncoder(enc, h);
    }
    const model = new ImageHeadsModel(session, { obsDim: card.obsDim, actDim: card.actDim, latentDim: image.latentDim, ...heads.inputs, ...heads.outputs }, h.latent, file.path);
    const q = await model.risk(h.obs, h.act);
    if (!(q >= 0 && q <= 1)) throw new Error(`${file.path}: on a zero latent and state the heads give Q_risk ${q}, outside [0, 1]`);
    post({ type: 'ready', fused: true, fuseNote: null, recoveryMode: 'policy', provider: sessions.provider });
    await serve(model, h, true, init.wake);
  } catch (err) {
    await session.release();
    refuse(err);
  }
}

async function start(init: WorkerInit): Promise<void> {
  const { source, load } = init;
  const sessions = new SessionFactory({ ...load, logger: { warn: (message) => post({ type: 'warning', message }) } });
  if (load.image !== undefined) return startImage(init, sessions, load.image);
  let loaded;
  try {
    loaded = await loadModel({
      modelDir: source.dir,
      source,
      fuse: load.fuse,
      sessions,
      ...(load.robot === undefined ? {} : { robot: load.robot }),
      ...(load.recoveryMode === undefined ? {} : { recoveryMode: load.recoveryMode }),
      ...(load.plannerPreset === undefined ? {} : { plannerPreset: load.plannerPreset }),
    });
  } catch (err) {
    post({ type: 'refused', code: isRShieldError(err) ? err.code : 'E_MODEL', message: err instanceof Error ? err.message : String(err) });
    return;
  }
  post({ type: 'ready', fused: loaded.fused, fuseNote: loaded.fuseNote, recoveryMode: loaded.recoveryMode, provider: sessions.provider });
  await serve(loaded.model, handoff(source.card.obsDim, source.card.actDim, init.buffer), loaded.fused, init.wake);
}

await start(workerData as WorkerInit);
