/** A small untrained image model for dvrk-reacher-image, written to a temporary directory. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dvrkCamera } from '../../../src/envs/index.js';
import { ImageLearner } from '../../../src/learn/image-learner.js';

export async function writeImageModelDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'rshield-image-model-'));
  const learner = await ImageLearner.create({
    obsDim: 3,
    actDim: 3,
    camera: { width: dvrkCamera.width, height: dvrkCamera.height },
    normalizer: { obsMean: [0.08, 0.07, -0.13], obsStd: [0.02, 0.02, 0.01], actCenter: [0, 0, 0], actHalfRange: [0.005, 0.005, 0.005] },
    gammaRisk: 0.7,
    batch: 2,
    lr: 3e-4,
    tau: 0.005,
    seed: 1,
    threads: 1,
  });
  try {
    await learner.writeModelDir(dir, learner.exportOnnx(), {
      robot: 'dvrk-reacher-image',
      version: 'dvrk-reacher-image-test',
      createdAt: '2026-01-01T00:00:00Z',
      actLow: [-0.005, -0.005, -0.005],
      actHigh: [0.005, 0.005, 0.005],
      epsRisk: 0.2,
      failsafe: [0, 0, 0],
      camera: dvrkCamera,
    });
  } finally {
    await learner.release();
  }
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
