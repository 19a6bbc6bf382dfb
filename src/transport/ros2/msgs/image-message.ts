/** sensor_msgs/msg/Image as this project builds and reads it, and the frame it carries. */
import type { ImageFrame } from '../../../core/image-frame.js';

export interface ImageMessage {
  header: { stamp: { sec: number; nanosec: number }; frame_id: string };
  height: number;
  width: number;
  encoding: string;
  is_bigendian: number;
  step: number;
  /** A typed array as rclnodejs delivers uint8[]; plain numbers from other bridges. */
  data: Uint8Array | ArrayLike<number>;
}

/** A message over `frame`'s pixels (no copy), stamped `stampNs`. */
export function imageMessage(frame: Pick<ImageFrame, 'width' | 'height' | 'encoding' | 'step' | 'data'>, stampNs: bigint, frameId: string): ImageMessage & { data: Uint8Array } {
  return {
    header: { stamp: { sec: Number(stampNs / 1_000_000_000n), nanosec: Number(stampNs % 1_000_000_000n) }, frame_id: frameId },
    height: frame.height,
    width: frame.width,
    encoding: frame.encoding,
    is_bigendian: 0,
    step: frame.step,
    data: frame.data,
  };
}

/** The frame of a message, stamped with its capture time (header stamp, ms). Bad fields are the shield's to refuse. */
export function frameOfMessage(m: Pick<ImageMessage, 'header' | 'width' | 'height' | 'encoding' | 'step' | 'data'>): ImageFrame {
  const s = m.header.stamp;
  return {
    width: m.width,
    height: m.height,
    encoding: m.encoding,
    step: m.step,
    data: m.data instanceof Uint8Array ? m.data : Uint8Array.from(m.data),
    stampMs: s.sec * 1e3 + s.nanosec / 1e6,
  };
}
