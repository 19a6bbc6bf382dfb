/**
 * A synchronous session run for the tick path. onnxruntime-node's public `InferenceSession.run`
 * is async only: it checks its arguments, then defers the native call to `setImmediate`, so each
 * tick pays an event-loop turn — about 5 µs on the main thread and 15 µs in an inference worker
 * on the 2-core machine (docs/shield.md, "Watchdog"). The public session wraps the package's own
 * native binding (`onnxruntime-node/dist/binding`, typed there as "a simple synchronized
 * inference session"), whose `run` writes the pre-allocated fetches in place and returns.
 *
 * The binding is not the package's documented API, so it is used only where it proves itself:
 * the module must load and have the shape used here, the provider must be CPU, and the first
 * runs must give bit-identical outputs to the public session on the same inputs
 * (onnx-risk-model.ts). Anything else keeps the public path, with one warning saying why.
 */
import { createRequire } from 'node:module';
import type * as ort from 'onnxruntime-node';
import type { Binding } from 'onnxruntime-node/dist/binding.js';

type Feeds = Readonly<Record<string, ort.Tensor>>;

/** One native session: `run` returns when the fetches hold the outputs. */
export interface DirectSession {
  run(feeds: Feeds, fetches: Feeds): void;
  dispose(): void;
}

interface BindingModule {
  readonly binding: { readonly InferenceSession: Binding.InferenceSessionConstructor };
  readonly initOrt: () => void;
}

let bindingModule: BindingModule | string | undefined;

/** The binding module, or why it cannot be used (loaded once). */
function bindingOrWhy(): BindingModule | string {
  if (bindingModule !== undefined) return bindingModule;
  try {
    const m = createRequire(import.meta.url)('onnxruntime-node/dist/binding') as Partial<BindingModule>;
    const ctor = m.binding?.InferenceSession;
    const proto = (ctor?.prototype ?? {}) as Partial<Record<'loadModel' | 'run' | 'dispose', unknown>>;
    bindingModule =
      typeof m.initOrt === 'function' && typeof ctor === 'function' && typeof proto.loadModel === 'function' && typeof proto.run === 'function' && typeof proto.dispose === 'function'
        ? (m as BindingModule)
        : 'onnxruntime-node/dist/binding has not the InferenceSession shape this version was written for';
  } catch (err) {
    bindingModule = `onnxruntime-node/dist/binding did not load: ${(err as Error).message}`;
  }
  return bindingModule;
}

const NO_RUN_OPTIONS: ort.InferenceSession.RunOptions = {};

/**
 * Opens a native session on the same bytes and options as a public one; returns why not when the
 * binding cannot be used. The caller compares its outputs with the public session's before use.
 */
export function openDirect(bytes: Uint8Array, options: ort.InferenceSession.SessionOptions): DirectSession | string {
  const m = bindingOrWhy();
  if (typeof m === 'string') return m;
  try {
    m.initOrt();
    const native = new m.binding.InferenceSession();
    native.loadModel(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength, options);
    return {
      run: (feeds, fetches) => void native.run(feeds, fetches, NO_RUN_OPTIONS),
      dispose: () => native.dispose(),
    };
  } catch (err) {
    return `the native session did not load: ${(err as Error).message}`;
  }
}
