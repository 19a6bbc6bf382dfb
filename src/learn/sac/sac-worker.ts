/**
 * The SAC update worker (started by sac-update-worker.ts): builds the agent from the caller's
 * options and seed, reports its initial policy, then runs one update per request on the batch
 * in the shared buffer and writes the policy's new weights back, until told to stop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isRShieldError } from '../../core/errors.js';
import { ParamSet } from '../../nn/index.js';
import { SacAgent } from './sac-agent.js';
import type { SacBatch } from './sac-replay.js';
import { copyParams, SAC_BATCH_COLUMNS, sharedViews, type SacWorkerInit, type SacWorkerReport, type SacWorkerRequest } from './sac-update-worker.js';

const port = parentPort!;
const init = workerData as SacWorkerInit;
const report = (m: SacWorkerReport): void => port.postMessage(m);
const failed = (err: unknown): SacWorkerReport => ({ type: 'failed', message: err instanceof Error ? err.message : String(err), ...(isRShieldError(err) ? { code: err.code } : {}) });

async function serve(): Promise<void> {
  const { obsDim: S, actDim: A } = init.opts;
  const B = init.opts.batch ?? 256;
  const shared = sharedViews(init.buffer, S, A, B, init.risk?.critic ?? [], init.policy);
  // The risk term's critic: a set of its own, filled from the caller's live critic each update.
  const critic = init.risk === undefined ? undefined : ParamSet.create();
  const agent = await SacAgent.create({
    ...init.opts,
    updateThread: 'caller',
    ...(init.risk === undefined ? {} : { risk: { use: init.risk.use, sizes: init.risk.sizes, epsRisk: init.risk.epsRisk, critic: critic! } }),
  });
  copyParams(agent.policyParams, init.policy, shared.policy, true);
  // ONNX Runtime is fed private copies of the batch, not views of shared memory.
  const batch: SacBatch = { obs: shared.batch.obs.slice(), act: shared.batch.act.slice(), reward: shared.batch.reward.slice(), next_obs: shared.batch.next_obs.slice(), mask: shared.batch.mask.slice() };
  port.on('message', (m: SacWorkerRequest) => {
    if (m.type === 'stop') {
      void agent.release().finally(() => port.close());
      return;
    }
    for (const k of SAC_BATCH_COLUMNS) batch[k].set(shared.batch[k]);
    if (critic !== undefined) copyParams(critic, init.risk!.critic, shared.critic, false);
    agent.update(batch, m.weight).then(
      (r) => {
        copyParams(agent.policyParams, init.policy, shared.policy, true);
        report({ type: 'done', qLoss: r.qLoss, policyLoss: r.policyLoss, risk: r.risk });
      },
      (err: unknown) => report(failed(err)),
    );
  });
  report({ type: 'ready' });
}

serve().catch((err: unknown) => {
  report(failed(err));
  port.close();
});
