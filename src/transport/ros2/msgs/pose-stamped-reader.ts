/**
 * Reads a geometry_msgs/PoseStamped from its serialized CDR (a raw rclnodejs subscription) in
 * place, into reused fields: the shield's two per-tick inputs (measured_cp, servo_cp) are taken
 * without building rclnodejs message objects. Layout as in cdr-out.ts; either byte order.
 */
const align8 = (n: number): number => (n + 7) & ~7;
const f64 = (b: Buffer, o: number, le: boolean): number => (le ? b.readDoubleLE(o) : b.readDoubleBE(o));

export class PoseStampedReader {
  sec = 0;
  nanosec = 0;
  readonly position = { x: 0, y: 0, z: 0 };
  readonly orientation = { x: 0, y: 0, z: 0, w: 1 };

  /** Fills the fields from `b`; false (fields unchanged) when `b` is not a PoseStamped's CDR. */
  read(b: Uint8Array): boolean {
    // Encapsulation: 0x0000 CDR_BE, 0x0001 CDR_LE; then stamp (8 bytes) and frame_id's length.
    if (b.length < 16 + 1 + 56 || b[0] !== 0 || (b[1] !== 0 && b[1] !== 1)) return false;
    const buf = Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
    const le = b[1] === 1;
    const len = le ? buf.readUInt32LE(12) : buf.readUInt32BE(12);
    const pose = 4 + align8(12 + len);
    if (len < 1 || pose + 56 > b.length) return false;
    this.sec = le ? buf.readInt32LE(4) : buf.readInt32BE(4);
    this.nanosec = le ? buf.readUInt32LE(8) : buf.readUInt32BE(8);
    const p = this.position;
    p.x = f64(buf, pose, le);
    p.y = f64(buf, pose + 8, le);
    p.z = f64(buf, pose + 16, le);
    const q = this.orientation;
    q.x = f64(buf, pose + 24, le);
    q.y = f64(buf, pose + 32, le);
    q.z = f64(buf, pose + 40, le);
    q.w = f64(buf, pose + 48, le);
    return true;
  }
}
