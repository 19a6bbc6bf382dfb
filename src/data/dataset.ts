import type { DatasetMeta } from './dataset-meta.js';
import type { TransitionColumnsView } from './transition-columns.js';

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

/** Transitions of one robot read from MCAP files: their columns and where they came from. */
export interface Dataset extends TransitionColumnsView {
  /** Metadata of the first file; every file has the same robot and dimensions. */
  readonly meta: DatasetMeta;
  readonly files: readonly DatasetFile[];
}
