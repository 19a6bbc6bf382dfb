// MCAP recording, datasets and the columnar transition type (docs/datasets.md).
export { McapRecorder, type ChannelSpec, type McapRecorderOptions } from './mcap-recorder.js';
export { TransitionWriter, specMeta, type TransitionWriterMeta, type TransitionWriterOptions } from './transition-writer.js';
export { readDataset } from './read-dataset.js';
export type { Dataset, DatasetFile } from './dataset.js';
export { DATASET_FORMAT, DATASET_METADATA_NAME, type DatasetMeta, type DatasetTask } from './dataset-meta.js';
export { TRANSITION_SCHEMA_NAME, TRANSITION_SCHEMA_TEXT, TRANSITIONS_TOPIC, TransitionCodec, type TransitionMessage } from './transition-message.js';
export { TransitionColumns, transitionAt, transitionsOf, type ColumnsMode, type TransitionColumnsView } from './transition-columns.js';
export { createReplayBuffer, REPLAY_CAPACITY } from './replay-buffer.js';
