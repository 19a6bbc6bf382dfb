import type { DatasetMeta } from './dataset-meta.js';

/** One file that went into a dataset, and what was found in it. */
export interface DatasetFile {
  readonly path: string;
  readonly meta: DatasetMeta;
  /** Transitions read from this file. */
  readonly transitions: number;
  /**
   * The file ends with a valid footer. False for a file whose writer died: its transitions are
   * those of every complete chunk, and `bytesDiscarded` bytes of an unfinished record were left.
   */
  readonly complete: boolean;
  readonly bytesDiscarded: number;
}

/**
 * Transitions of one robot as column arrays, row i of each belonging to transition i:
 * `obs[i*obsDim .. (i+1)*obsDim)`, `act[i*actDim ..]`, `cost[i]`, … The layout the trainer
 * copies into ONNX tensors without per-row work.
 */
export interface Dataset {
  readonly size: number;
  readonly obsDim: number;
  readonly actDim: number;
  readonly obs: Float32Array;
  readonly act: Float32Array;
  readonly cost: Float32Array;
  readonly nextObs: Float32Array;
  readonly done: Uint8Array;
  /** Episode ids, unique across the files of the dataset (see readDataset). */
  readonly episode: Uint32Array;
  readonly step: Uint32Array;
  /** The action taken at nextObs; zeros where hasNextAct[i] is 0. */
  readonly nextAct: Float32Array;
  readonly hasNextAct: Uint8Array;
  /** Metadata of the first file; every file has the same robot and dimensions. */
  readonly meta: DatasetMeta;
  readonly files: readonly DatasetFile[];
}
