import { TransitionColumns } from './transition-columns.js';

/** The reference's recovery_memory: 1e6 transitions. */
export const REPLAY_CAPACITY = 1_000_000;

/**
 * The replay buffer: ring columns that double up to `capacity`, then overwrite the oldest.
 * Offline data and online experience share it, as in Recovery RL's online phase (thesis
 * Algorithm 1); a sampler draws only from its `size` valid rows.
 */
export function createReplayBuffer(obsDim: number, actDim: number, capacity = REPLAY_CAPACITY): TransitionColumns {
  return TransitionColumns.ring(obsDim, actDim, capacity, Math.min(4096, capacity));
}
