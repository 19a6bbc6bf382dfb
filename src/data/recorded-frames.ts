/**
 * Camera frames recorded with a dataset (src/transport/ros2/image-frames.ts writes and reads
 * them as sensor_msgs/Image beside the transitions): one frame per row and per next state.
 */

/** The topic of a dataset's camera channel. */
export const FRAMES_TOPIC = '/rshield/camera/image_raw';

/** The frames of a dataset's rows, in row order (files in the order given, as readDataset reads them). */
export interface RecordedFrames {
  readonly width: number;
  readonly height: number;
  readonly encoding: string;
  /** Frame of each row's state and of its next state (shared buffers where they are the same frame). */
  readonly obs: readonly Uint8Array[];
  readonly next: readonly Uint8Array[];
}
