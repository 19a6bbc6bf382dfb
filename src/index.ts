// Public API of rshield (DESIGN.md "Public API"). Keep it stable.
export { Rng } from './core/rng.js';
export { RShieldError, isRShieldError, type ErrorCode } from './core/errors.js';
export type { Env, EnvSpec, StepResult, Controller, Transition } from './core/types.js';
export * from './envs/index.js';
export {
  readDataset,
  McapRecorder,
  TransitionWriter,
  TRANSITIONS_TOPIC,
  TRANSITION_SCHEMA_NAME,
  type Dataset,
  type DatasetFile,
  type DatasetMeta,
  type ChannelSpec,
  type McapRecorderOptions,
  type TransitionWriterMeta,
  type TransitionWriterOptions,
} from './data/index.js';
