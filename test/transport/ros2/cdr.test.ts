// Every message type the node publishes or records serializes as ROS 2 CDR against the official
// .msg definitions (src/transport/ros2/msgs), checked with @foxglove/rosmsg2-serialization.
import t from 'tap';
import { parse } from '@foxglove/rosmsg';
import { MessageReader, MessageWriter } from '@foxglove/rosmsg2-serialization';
import { loadRobotProfile } from '../../../src/config/profile.js';
import { diagnosticsMessage, zeroCounters } from '../../../src/transport/ros2/diagnostics.js';
import { cdrCodec } from '../../../src/transport/ros2/msgs/cdr-codec.js';
import { MSG_DEFINITIONS, type RosMsgType } from '../../../src/transport/ros2/msgs/definitions.js';

const header = { stamp: { sec: 1_700_000_000, nanosec: 123_456_789 }, frame_id: 'PSM1_base' };

/** One message of each type, shaped as rclnodejs delivers it (typed arrays, bigint for int64). */
const samples: Partial<Record<RosMsgType, object>> = {
  'geometry_msgs/msg/PoseStamped': { header, pose: { position: { x: 0.05, y: 0.06, z: -0.13 }, orientation: { x: 0, y: 0, z: 0.6, w: 0.8 } } },
  'sensor_msgs/msg/JointState': { header, name: ['outer_yaw', 'outer_pitch'], position: new Float64Array([0.1, -0.2]), velocity: new Float64Array(0), effort: new Float64Array([0.5, 0.25]) },
  'sensor_msgs/msg/Image': { header, height: 2, width: 3, encoding: 'rgb8', is_bigendian: 0, step: 9, data: Uint8Array.from({ length: 18 }, (_, i) => i * 7) },
  'crtk_msgs/msg/OperatingState': { header, state: 'ENABLED', is_homed: true, is_busy: false },
  'crtk_msgs/msg/StringStamped': { header, string: 'enable' },
  'std_msgs/msg/Empty': {},
  'std_msgs/msg/Float64': { data: 0.125 },
  'std_msgs/msg/Bool': { data: true },
  'std_msgs/msg/String': { data: 'start' },
  'geometry_msgs/msg/TransformStamped': { header, child_frame_id: 'PSM1', transform: { translation: { x: 1, y: 2, z: 3 }, rotation: { x: 0, y: 0, z: 0, w: 1 } } },
  'diagnostic_msgs/msg/DiagnosticArray': diagnosticsMessage(header.stamp, {
    name: 'rshield: PSM1 shield', hardwareId: 'PSM1', active: true, holding: true, holdReason: 'stale', operatingState: 'ENABLED', lastQRisk: 0.5, stateAgeMs: 40, counters: zeroCounters(), commandOutSubscribers: 1,
  }),
};

void t.test('every type on a profile topic (published or recorded) round-trips through CDR', (t) => {
  const profile = loadRobotProfile('psm1');
  const types = new Set<RosMsgType>(Object.values(profile.topics).flatMap((s) => (s === undefined ? [] : [s.type])));
  types.add('sensor_msgs/msg/Image'); // the optional camera
  for (const type of types) {
    const sample = samples[type];
    t.ok(sample, `a sample of ${type}`);
    // An independent writer/reader built straight from the definition text.
    const defs = parse(cdrCodec(type).schemaText, { ros2: true });
    const bytes = new MessageWriter(defs).writeMessage(sample);
    t.same([...bytes.subarray(0, 4)], [0, 1, 0, 0], `${type}: CDR little-endian encapsulation header`);
    t.same(new MessageReader(defs).readMessage(bytes), sample, `${type}: decodes to the same message`);
  }
  t.end();
});

void t.test('PoseStamped has the exact CDR layout ros2 bag writes (84 bytes for frame PSM1_base)', (t) => {
  const bytes = cdrCodec('geometry_msgs/msg/PoseStamped').encode(samples['geometry_msgs/msg/PoseStamped']);
  // 4 encapsulation + int32 sec + uint32 nanosec + uint32 len + "PSM1_base\0" (10) → 22, pad to 24, 7 × float64.
  t.equal(bytes.length, 4 + 24 + 56);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  t.equal(view.getInt32(4, true), 1_700_000_000);
  t.equal(view.getUint32(8, true), 123_456_789);
  t.equal(view.getUint32(12, true), 10, 'string length includes the NUL');
  t.equal(view.getFloat64(4 + 24, true), 0.05, 'position.x after 8-byte alignment');
  t.equal(view.getFloat64(4 + 24 + 48, true), 0.8, 'orientation.w last');
  t.end();
});

void t.test('ros2msg schemas list each dependency once, after a separator line', (t) => {
  const schema = cdrCodec('diagnostic_msgs/msg/DiagnosticArray').schemaText;
  for (const dep of ['std_msgs/Header', 'builtin_interfaces/Time', 'diagnostic_msgs/DiagnosticStatus', 'diagnostic_msgs/KeyValue']) {
    t.equal(schema.split(`\nMSG: ${dep}\n`).length, 2, `${dep} once`);
  }
  t.match(schema, /^={80}$/m);
  t.equal(Object.keys(MSG_DEFINITIONS).length > 15, true);
  t.end();
});
