/**
 * The shield's per-tick outgoing messages as preallocated ROS 2 CDR: one Buffer each, written in
 * place and published raw (rclnodejs `publish(Buffer)`), so a tick neither builds rclnodejs
 * message objects nor serializes them field by field. Layout (XCDR1, little endian, as rmw
 * serializes these definitions): a 4-byte encapsulation header, then the fields in order, each
 * primitive aligned to its size counted from the end of that header; a string is a uint32 byte
 * count (with its NUL), its UTF-8 bytes and the NUL. test/transport/ros2/cdr-out.test.ts decodes
 * them with a reader built from the official definitions.
 */
const HEADER = 4;
const align8 = (n: number): number => (n + 7) & ~7;

/** A zeroed message of `bytes` bytes after its CDR little-endian encapsulation header. */
function message(bytes: number): Buffer {
  const b = Buffer.alloc(HEADER + bytes);
  b[1] = 1; // CDR_LE
  return b;
}

/** geometry_msgs/PoseStamped with a fixed frame_id: stamp, position and orientation written in place. */
export class PoseStampedCdr {
  readonly buffer: Buffer;
  readonly #pose: number;

  constructor(frameId: string) {
    const str = Buffer.from(`${frameId}\0`, 'utf8');
    // stamp (int32 sec, uint32 nanosec), frame_id, then 7 float64 from the next 8-byte boundary.
    const pose = align8(12 + str.length);
    this.buffer = message(pose + 56);
    this.buffer.writeUInt32LE(str.length, HEADER + 8);
    str.copy(this.buffer, HEADER + 12);
    this.#pose = HEADER + pose;
    this.orientation(0, 0, 0, 1);
  }
  stamp(sec: number, nanosec: number): void {
    this.buffer.writeInt32LE(sec, HEADER);
    this.buffer.writeUInt32LE(nanosec, HEADER + 4);
  }

  position(x: number, y: number, z: number): void {
    const b = this.buffer;
    const o = this.#pose;
    b.writeDoubleLE(x, o);
    b.writeDoubleLE(y, o + 8);
    b.writeDoubleLE(z, o + 16);
  }

  orientation(x: number, y: number, z: number, w: number): void {
    const b = this.buffer;
    const o = this.#pose + 24;
    b.writeDoubleLE(x, o);
    b.writeDoubleLE(y, o + 8);
    b.writeDoubleLE(z, o + 16);
    b.writeDoubleLE(w, o + 24);
  }
}

/** std_msgs/Float64. */
export class Float64Cdr {
  readonly buffer = message(8);

  set(v: number): void {
    this.buffer.writeDoubleLE(v, HEADER);
  }
}

/** std_msgs/Bool. */
export class BoolCdr {
  readonly buffer = message(1);

  set(v: boolean): void {
    this.buffer[HEADER] = v ? 1 : 0;
  }
}
