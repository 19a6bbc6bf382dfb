import { RShieldError } from '../../core/errors.js';

/** Root of every rshield topic; the version segment lets a fleet run two protocol versions side by side. */
export const TOPIC_ROOT = 'rshield/v1';

/** The topic tree of one robot (docs/mqtt.md). */
export interface RobotTopics {
  /** Retained JSON status; the broker publishes the last will (`offline`) here. */
  readonly status: string;
  /** 1 Hz JSON telemetry. */
  readonly telemetry: string;
  /** Binary transition batches, QoS 1. */
  readonly transitions: string;
  /** Trainer → shield model announcements and inline chunks (JSON). */
  readonly model: string;
  /** Operator commands (JSON). */
  readonly cmd: string;
  /** Retained JSON status of the companion trainer: counters and the quality gate's last verdict. */
  readonly trainer: string;
}

const ROBOT_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** Topics of one robot. The name becomes a topic level, so MQTT wildcards and separators are refused. */
export function robotTopics(robot: string): RobotTopics {
  if (!ROBOT_NAME.test(robot)) {
    throw new RShieldError('E_USAGE', `robot name '${robot}' cannot be a topic level (letters, digits, '_' and '-', 1-64 characters)`, { robot });
  }
  const base = `${TOPIC_ROOT}/${robot}`;
  return { status: `${base}/status`, telemetry: `${base}/telemetry`, transitions: `${base}/transitions`, model: `${base}/model`, cmd: `${base}/cmd`, trainer: `${base}/trainer` };
}

/** The robot named by a topic under the tree, or undefined for any other topic. */
export function robotOfTopic(topic: string): { robot: string; kind: string } | undefined {
  const parts = topic.split('/');
  if (parts.length !== 4 || `${parts[0]}/${parts[1]}` !== TOPIC_ROOT) return undefined;
  const robot = parts[2] ?? '';
  const kind = parts[3] ?? '';
  return ROBOT_NAME.test(robot) ? { robot, kind } : undefined;
}
