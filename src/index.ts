// Public API of rshield (DESIGN.md "Public API"): the shield, simulated robots, datasets, model
// cards and signing. Loading it pulls in neither MQTT, ROS 2 nor the training engine; those
// have their own entry points: `rshield/mqtt`, `rshield/ros2`, `rshield/nn`.
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
export { Shield, PreparedModel, type ShieldOptions } from './inference/shield.js';
export { ImageShield, PreparedImageModel, type ImageShieldOptions } from './inference/image-shield.js';
export type { FrameStats } from './inference/image-risk-model.js';
export { IMAGE_ENCODINGS, checkFrame, type ImageFrame, type ImageEncoding, type FrameFault } from './core/image-frame.js';
export type { Decision, DecideOptions, ActionSource } from './core/shield-core.js';
export type { ShieldStats } from './core/shield-stats.js';
export { FAILSAFE_REASONS, type FailsafeReason } from './core/failsafe.js';
export type { RiskModel } from './core/risk-model.js';
export { systemClock, systemTimer, type Clock, type Timer } from './core/clock.js';
export { TickLoop, type TickLoopOptions } from './core/tick-loop.js';
export type { Provider, Logger } from './inference/session-factory.js';
export { ModelCardSchema, parseModelCard, MODEL_CARD_FORMAT, type ModelCard, type ModelCardInput } from './config/model-card.js';
export { loadModelCard } from './models/model-dir.js';
export { loadRobotProfile, parseRobotProfile, type RobotProfile } from './config/profile.js';
export { loadModelTrust, profileModelTrust, mergeModelTrust, type ModelTrust } from './models/trust.js';
export { generateSigningKeys, signModel, verifyModel } from './models/signing.js';
export { RECOVERY_MODES, type RecoveryMode } from './core/recovery-mode.js';
export type { NearestSafeStats } from './inference/nearest-safe-model.js';
