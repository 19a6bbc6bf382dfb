// MCAP recording and datasets (docs/datasets.md).
export { McapRecorder, type ChannelSpec, type McapRecorderOptions } from './mcapRecorder.js';
export { TransitionWriter, specMeta, type TransitionWriterMeta, type TransitionWriterOptions } from './transitionWriter.js';
export { readDataset } from './readDataset.js';
export type { Dataset, DatasetFile } from './dataset.js';
export { DATASET_FORMAT, DATASET_METADATA_NAME, type DatasetMeta } from './datasetMeta.js';
export { TRANSITION_SCHEMA_NAME, TRANSITION_SCHEMA_TEXT, TRANSITIONS_TOPIC, TransitionCodec, type TransitionMessage } from './transitionMessage.js';
