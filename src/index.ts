// Public API of rshield (DESIGN.md "Public API"). Keep it stable.
export { Rng } from './core/rng.js';
export { RShieldError, isRShieldError, type ErrorCode } from './core/errors.js';
export type { Env, EnvSpec, StepResult, Controller, Transition } from './core/types.js';
export * from './envs/index.js';
