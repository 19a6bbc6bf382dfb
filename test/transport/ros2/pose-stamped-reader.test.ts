// The shield's in-place reader of raw PoseStamped CDR (src/transport/ros2/msgs/pose-stamped-reader.ts)
// against an independent writer built from the official definition, and on bytes that are not one.
import t from 'tap';
import { parse } from '@foxglove/rosmsg';
import { MessageWriter } from '@foxglove/rosmsg2-serialization';
import { Rng } from '../../../src/core/rng.js';
import { cdrCodec } from '../../../src/transport/ros2/msgs/cdr-codec.js';
import { PoseStampedReader } from '../../../src/transport/ros2/msgs/pose-stamped-reader.js';

const writer = new MessageWriter(parse(cdrCodec('geometry_msgs/msg/PoseStamped').schemaText, { ros2: true }));

void t.test('reads what the reference writer wrote, for frame ids of every padding', (t) => {
  const rng = new Rng(11);
  const r = new PoseStampedReader();
  for (const frameId of ['', 'a', 'abc', 'abcdefg', 'PSM1_base', 'ECM']) {
    const m = {
      header: { stamp: { sec: 1_700_000_123, nanosec: 456_789_012 }, frame_id: frameId },
      pose: { position: { x: rng.uniform(-1, 1), y: rng.uniform(-1, 1), z: rng.uniform(-1, 1) }, orientation: { x: rng.uniform(-1, 1), y: rng.uniform(-1, 1), z: rng.uniform(-1, 1), w: rng.uniform(-1, 1) } },
    };
    t.ok(r.read(Buffer.from(writer.writeMessage(m))), `'${frameId}': read`);
    t.same({ sec: r.sec, nanosec: r.nanosec }, m.header.stamp, `'${frameId}': stamp`);
    t.same(r.position, m.pose.position, `'${frameId}': position`);
    t.same(r.orientation, m.pose.orientation, `'${frameId}': orientation`);
  }
  t.end();
});

void t.test('big-endian CDR is read too', (t) => {
  // PoseStamped, frame_id 'ab', CDR_BE: stamp, length 3, 'ab\0', pad to 8, seven doubles.
  const b = Buffer.alloc(4 + 16 + 56);
  b[1] = 0;
  b.writeInt32BE(7, 4);
  b.writeUInt32BE(9, 8);
  b.writeUInt32BE(3, 12);
  b.write('ab\0', 16);
  [0.1, 0.2, 0.3, 0, 0, 0.6, 0.8].forEach((v, i) => b.writeDoubleBE(v, 20 + 8 * i));
  const r = new PoseStampedReader();
  t.ok(r.read(b));
  t.same([r.sec, r.nanosec, r.position.x, r.position.z, r.orientation.w], [7, 9, 0.1, 0.3, 0.8]);
  t.end();
});

void t.test('bytes that are not a PoseStamped are refused and leave the fields alone', (t) => {
  const r = new PoseStampedReader();
  const good = Buffer.from(writer.writeMessage({ header: { stamp: { sec: 1, nanosec: 2 }, frame_id: 'PSM1_base' }, pose: { position: { x: 1, y: 2, z: 3 }, orientation: { x: 0, y: 0, z: 0, w: 1 } } }));
  t.ok(r.read(good));
  const bad: [string, Buffer][] = [
    ['empty', Buffer.alloc(0)],
    ['cut short', good.subarray(0, good.length - 8)],
    ['unknown encapsulation', Buffer.concat([Buffer.from([0, 2]), good.subarray(2)])],
    ['a frame_id longer than the message', Buffer.concat([good.subarray(0, 12), Buffer.from([0xff, 0xff, 0, 0]), good.subarray(16)])],
    ['std_msgs/Float64', Buffer.from(cdrCodec('std_msgs/msg/Float64').encode({ data: 1 }))],
  ];
  for (const [what, b] of bad) t.notOk(r.read(b), what);
  t.same([r.sec, r.position.x, r.position.z], [1, 1, 3], 'the last good message is kept');
  t.end();
});
