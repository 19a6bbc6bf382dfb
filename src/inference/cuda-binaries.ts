/**
 * Whether onnxruntime-node's CUDA execution-provider libraries are installed. They are not in
 * the npm package (too large); `node node_modules/onnxruntime-node/script/install
 * --onnxruntime-node-install=cuda12` fetches them (docs/shield.md, "GPU"). Checking first
 * gives a warning that says what to do, instead of ORT's own error print.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export const CUDA_INSTALL_HINT = 'node node_modules/onnxruntime-node/script/install --onnxruntime-node-install=cuda12';

/** Path of the missing CUDA EP library, or null when it is installed (or the layout is unknown). */
export function missingCudaLibrary(): string | null {
  let binDir: string;
  try {
    const entry = createRequire(import.meta.url).resolve('onnxruntime-node');
    binDir = join(dirname(entry), '..', 'bin', 'napi-v6', process.platform, process.arch);
  } catch {
    return null;
  }
  if (!existsSync(binDir)) return null;
  const lib = join(binDir, 'libonnxruntime_providers_cuda.so');
  return process.platform === 'linux' && !existsSync(lib) ? lib : null;
}
