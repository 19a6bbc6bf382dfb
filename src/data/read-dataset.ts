import type { McapTypes } from '@mcap/core';
import { RShieldError } from '../core/errors.js';
import type { Dataset, DatasetFile } from './dataset.js';
import { DatasetBuilder } from './dataset-builder.js';
import { streamMcap } from './stream-mcap.js';
import { DATASET_METADATA_NAME, decodeDatasetMeta, type DatasetMeta } from './dataset-meta.js';
import { TRANSITION_SCHEMA_NAME, TRANSITIONS_TOPIC, TransitionCodec } from './transition-message.js';

/**
 * Loads one or several rshield MCAP files into one Dataset.
 *
 * Files are streamed record by record (McapStreamReader), not through their summary, so a
 * file whose writer was killed — no summary, no footer — yields every transition of its
 * complete chunks; `files[i].complete` is false for it. All files must hold the same robot
 * with the same dimensions. Episode ids are renumbered so they stay unique: the episodes of
 * each file come after those of the files before it.
 */
export async function readDataset(paths: readonly string[]): Promise<Dataset> {
  if (paths.length === 0) throw new RShieldError('E_USAGE', 'readDataset needs at least one file');
  let builder: DatasetBuilder | undefined;
  let first: { meta: DatasetMeta; path: string } | undefined;
  const files: DatasetFile[] = [];
  for (const path of paths) {
    const before = builder?.size ?? 0;
    const episodeOffset = builder === undefined ? 0 : builder.maxEpisode() + 1;
    const result = await readFile(path, (meta) => {
      if (first === undefined) {
        first = { meta, path };
        builder = new DatasetBuilder(meta.obsDim, meta.actDim);
      } else {
        assertCompatible(first, meta, path);
      }
      return builder as DatasetBuilder;
    }, episodeOffset);
    files.push({ path, meta: result.meta, transitions: (builder?.size ?? 0) - before, complete: result.complete, bytesDiscarded: result.bytesDiscarded });
  }
  if (builder === undefined || first === undefined) throw new RShieldError('E_DATA', 'no dataset metadata found');
  return builder.finish(first.meta, files);
}

function assertCompatible(first: { meta: DatasetMeta; path: string }, meta: DatasetMeta, path: string): void {
  const a = first.meta;
  if (a.robot !== meta.robot || a.obsDim !== meta.obsDim || a.actDim !== meta.actDim) {
    throw new RShieldError(
      'E_DATA',
      `${path} holds robot '${meta.robot}' (obs ${meta.obsDim}, act ${meta.actDim}) but ${first.path} holds '${a.robot}' (obs ${a.obsDim}, act ${a.actDim}); one dataset takes one robot`,
      { file: path, robot: meta.robot, expected: a.robot },
    );
  }
}

interface FileResult {
  readonly meta: DatasetMeta;
  readonly complete: boolean;
  readonly bytesDiscarded: number;
}

/** Streams one file's records into the builder that `onMeta` hands back for its metadata. */
async function readFile(path: string, onMeta: (meta: DatasetMeta) => DatasetBuilder, episodeOffset: number): Promise<FileResult> {
  const codec = new TransitionCodec();
  const schemas = new Map<number, McapTypes.Schema>();
  let transitionsChannel = -1;
  let meta: DatasetMeta | undefined;
  let builder: DatasetBuilder | undefined;
  let index = 0;
  const topics = new Set<string>();

  const onRecord = (record: McapTypes.TypedMcapRecord): void => {
    // Only four record kinds matter here; the rest (chunks, indexes, summary) carry nothing new.
    switch (record.type) {
      case 'Schema':
        schemas.set(record.id, record);
        return;
      case 'Channel':
        topics.add(record.topic);
        if (record.topic === TRANSITIONS_TOPIC) {
          const schema = schemas.get(record.schemaId);
          if (schema?.name !== TRANSITION_SCHEMA_NAME || record.messageEncoding !== 'cdr') {
            throw new RShieldError('E_DATA', `${path}: channel ${TRANSITIONS_TOPIC} has schema '${schema?.name ?? '?'}' (${record.messageEncoding}), expected ${TRANSITION_SCHEMA_NAME} (cdr)`, { file: path });
          }
          transitionsChannel = record.id;
        }
        return;
      case 'Metadata':
        if (record.name === DATASET_METADATA_NAME && meta === undefined) {
          meta = decodeDatasetMeta(record.metadata, path);
          builder = onMeta(meta);
        }
        return;
      case 'Message': {
        if (record.channelId !== transitionsChannel) return;
        if (builder === undefined || meta === undefined) {
          throw new RShieldError('E_DATA', `${path}: transitions come before the '${DATASET_METADATA_NAME}' metadata record`, { file: path });
        }
        const m = codec.decode(record.data);
        const bad =
          m.obs.length !== meta.obsDim || m.next_obs.length !== meta.obsDim ? `obs has ${m.obs.length} and next_obs ${m.next_obs.length} values, metadata says obs_dim ${meta.obsDim}`
          : m.act.length !== meta.actDim || (m.has_next_act && m.next_act.length !== meta.actDim) ? `act has ${m.act.length} and next_act ${m.next_act.length} values, metadata says act_dim ${meta.actDim}`
          : undefined;
        if (bad !== undefined) throw new RShieldError('E_DATA', `${path}: transition ${index}: ${bad}`, { file: path, index });
        builder.push(m, episodeOffset);
        index++;
        return;
      }
      case 'Header': case 'Footer': case 'Chunk': case 'MessageIndex': case 'ChunkIndex': case 'Attachment':
      case 'AttachmentIndex': case 'Statistics': case 'MetadataIndex': case 'SummaryOffset': case 'DataEnd': case 'Unknown':
        return;
    }
  };

  const { complete, bytesDiscarded } = await streamMcap(path, onRecord, () => `after ${index} transitions`);
  if (meta === undefined) {
    const seen = topics.size > 0 ? ` (topics: ${[...topics].join(', ')})` : '';
    throw new RShieldError('E_DATA', `${path} has no '${DATASET_METADATA_NAME}' metadata record: not an rshield dataset${seen}; read a ROS 2 bag of a robot's topics through its profile (rshield train --profile P)`, { file: path });
  }
  return { meta, complete, bytesDiscarded };
}
