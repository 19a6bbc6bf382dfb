/**
 * Text of the official ROS 2 `.msg` definitions this node publishes, subscribes to or records
 * (field lines as in ros2/common_interfaces, ros2/rcl_interfaces and
 * collaborative-robotics/crtk_msgs v1.3.0; comments dropped). They drive CDR serialization
 * (@foxglove/rosmsg2-serialization) for MCAP recording and the `ros2msg` schemas MCAP readers
 * such as Foxglove and `ros2 bag` use.
 */
export const MSG_DEFINITIONS = {
  'builtin_interfaces/msg/Time': 'int32 sec\nuint32 nanosec\n',
  'std_msgs/msg/Header': 'builtin_interfaces/Time stamp\nstring frame_id\n',
  'std_msgs/msg/Float64': 'float64 data\n',
  'std_msgs/msg/Bool': 'bool data\n',
  'std_msgs/msg/Empty': '',
  'std_msgs/msg/String': 'string data\n',
  'geometry_msgs/msg/Point': 'float64 x\nfloat64 y\nfloat64 z\n',
  'geometry_msgs/msg/Quaternion': 'float64 x 0\nfloat64 y 0\nfloat64 z 0\nfloat64 w 1\n',
  'geometry_msgs/msg/Vector3': 'float64 x\nfloat64 y\nfloat64 z\n',
  'geometry_msgs/msg/Pose': 'Point position\nQuaternion orientation\n',
  'geometry_msgs/msg/PoseStamped': 'std_msgs/Header header\nPose pose\n',
  'geometry_msgs/msg/Transform': 'Vector3 translation\nQuaternion rotation\n',
  'geometry_msgs/msg/TransformStamped': 'std_msgs/Header header\nstring child_frame_id\nTransform transform\n',
  'sensor_msgs/msg/JointState': 'std_msgs/Header header\nstring[] name\nfloat64[] position\nfloat64[] velocity\nfloat64[] effort\n',
  'sensor_msgs/msg/Image':
    'std_msgs/Header header\nuint32 height\nuint32 width\nstring encoding\nuint8 is_bigendian\nuint32 step\nuint8[] data\n',
  'crtk_msgs/msg/OperatingState': 'std_msgs/Header header\nstring state\nbool is_homed\nbool is_busy\n',
  'crtk_msgs/msg/StringStamped': 'std_msgs/Header header\nstring string\n',
  'diagnostic_msgs/msg/KeyValue': 'string key\nstring value\n',
  'diagnostic_msgs/msg/DiagnosticStatus':
    'byte OK=0\nbyte WARN=1\nbyte ERROR=2\nbyte STALE=3\nbyte level\nstring name\nstring message\nstring hardware_id\nKeyValue[] values\n',
  'diagnostic_msgs/msg/DiagnosticArray': 'std_msgs/Header header\nDiagnosticStatus[] status\n',
} as const;

/** A ROS 2 message type this project knows, e.g. 'geometry_msgs/msg/PoseStamped'. */
export type RosMsgType = keyof typeof MSG_DEFINITIONS;

export function isRosMsgType(name: string): name is RosMsgType {
  return Object.hasOwn(MSG_DEFINITIONS, name);
}
