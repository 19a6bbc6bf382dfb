/**
 * Worker-thread entry of the model-prep pool (model-prep-pool.ts): runs prepModel for each job
 * and posts the bytes back as transferred buffers. Its heap, grown by decoding and encoding
 * protobuf, goes away with the worker when the pool recycles it.
 */
import { parentPort } from 'node:worker_threads';
import { prepModel, transferable } from './model-prep.js';
import { toWire, type PrepJob, type PrepReply } from './model-prep-protocol.js';

const port = parentPort;
if (port === null) throw new Error('model-prep-worker.ts runs as a worker thread (see model-prep-pool.ts)');

port.on('message', (job: PrepJob) => {
  prepModel(job.request).then(
    (model) => {
      const { value, transfer } = transferable(model);
      port.postMessage({ id: job.id, ok: true, model: value } satisfies PrepReply, transfer);
    },
    (err: unknown) => port.postMessage({ id: job.id, ok: false, error: toWire(err) } satisfies PrepReply),
  );
});
