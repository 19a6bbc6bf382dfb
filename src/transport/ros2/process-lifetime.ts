import type { RclModule } from './rclnodejs-api.js';

/**
 * Resolves on the first SIGINT or SIGTERM (or when `signal` aborts). rclnodejs installs its own
 * SIGINT handler that shuts down at once, and none for SIGTERM (Node's default: exit without
 * cleanup); both are replaced so the node can publish hold and flush recordings first.
 */
const ignore = (): void => undefined;
let stopping = false;

export function untilStopped(rcl: RclModule, signal?: AbortSignal): Promise<string> {
  rcl.removeSignalHandlers();
  return new Promise((resolve) => {
    const done = (why: string): void => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      signal?.removeEventListener('abort', onAbort);
      // Ctrl-C under `ros2 launch` arrives twice: from the terminal to the whole process group,
      // then forwarded by launch. A second SIGINT must not kill the node mid-shutdown (before
      // hold is sent and recordings are closed); a SIGTERM then means launch gave up waiting.
      if (!stopping) {
        stopping = true;
        process.on('SIGINT', ignore);
        process.once('SIGTERM', () => process.exit(1));
      }
      resolve(why);
    };
    const onInt = (): void => done('SIGINT');
    const onTerm = (): void => done('SIGTERM');
    const onAbort = (): void => done('abort');
    process.once('SIGINT', onInt);
    process.once('SIGTERM', onTerm);
    if (signal?.aborted === true) done('abort');
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Gives DDS a moment to send what was just published (rclnodejs has no flush). */
export function drain(ms = 50): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
