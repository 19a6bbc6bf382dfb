// The preallocated per-tick messages (src/transport/ros2/msgs/cdr-out.ts) decode, with a reader
// built straight from the official definitions, to exactly what was written into them.
import t from 'tap';
import { parse } from '@foxglove/rosmsg';
import { MessageReader } from '@foxglove/rosmsg2-serialization';
import { Rng } from '../../../src/core/rng.js';
import { BoolCdr, Float64Cdr, PoseStampedCdr } from '../../../src/transport/ros2/msgs/cdr-out.js';
import { cdrCodec } from '../../../src/transport/ros2/msgs/cdr-codec.js';

const reader = (type: Parameters<typeof cdrCodec>[0]): MessageReader => new MessageReader(parse(cdrCodec(type).schemaText, { ros2: true }));

void t.test('PoseStamped: stamp, position and orientation land in their fields, for frame ids of every padding', (t) => {
  const r = reader('geometry_msgs/msg/PoseStamped');
  const rng = new Rng(7);
  // Lengths 0–9 with the NUL cover every distance to the next 8-byte boundary of the pose.
  for (const frameId of ['', 'a', 'ab', 'abc', 'abcd', 'abcde', 'abcdef', 'abcdefg', 'PSM1_base', 'ψ-frame']) {
    const m = new PoseStampedCdr(frameId);
    for (let k = 0; k < 3; k++) {
      const p = [rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(-1, 1)] as const;
      const q = [rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(-1, 1)] as const;
      const sec = 1_700_000_000 + k;
      const nanosec = 999_999_999 - k;
      m.stamp(sec, nanosec);
      m.position(...p);
      m.orientation(...q);
      const d = r.readMessage<{ header: { stamp: { sec: number; nanosec: number }; frame_id: string }; pose: { position: object; orientation: object } }>(m.buffer);
      t.same(d.header, { stamp: { sec, nanosec }, frame_id: frameId }, `'${frameId}': header`);
      t.same(d.pose.position, { x: p[0], y: p[1], z: p[2] }, `'${frameId}': position`);
      t.same(d.pose.orientation, { x: q[0], y: q[1], z: q[2], w: q[3] }, `'${frameId}': orientation`);
    }
  }
  t.end();
});

void t.test('Float64 and Bool', (t) => {
  const f = new Float64Cdr();
  const rf = reader('std_msgs/msg/Float64');
  for (const v of [0, 0.125, -3.5e-9, 1]) {
    f.set(v);
    t.equal(rf.readMessage<{ data: number }>(f.buffer).data, v, `float64 ${v}`);
  }
  f.set(Number.NaN);
  t.ok(Number.isNaN(rf.readMessage<{ data: number }>(f.buffer).data), 'NaN stays NaN');
  const b = new BoolCdr();
  const rb = reader('std_msgs/msg/Bool');
  for (const v of [true, false, true]) {
    b.set(v);
    t.equal(rb.readMessage<{ data: boolean }>(b.buffer).data, v, `bool ${v}`);
  }
  t.end();
});
