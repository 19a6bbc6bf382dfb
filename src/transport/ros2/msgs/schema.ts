import { RShieldError } from '../../../core/errors.js';
import { MSG_DEFINITIONS, isRosMsgType, type RosMsgType } from './definitions.js';

const SEPARATOR = '='.repeat(80);
const PRIMITIVES = new Set([
  'bool', 'byte', 'char', 'float32', 'float64', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64',
  'string', 'wstring',
]);

/** 'geometry_msgs/msg/Pose' → 'geometry_msgs/Pose', the form `MSG:` lines and field types use. */
function shortName(type: RosMsgType): string {
  return type.replace('/msg/', '/');
}

/** The full type a field refers to: `Pose` inside geometry_msgs → geometry_msgs/msg/Pose. */
function resolveFieldType(field: string, pkg: string): RosMsgType | undefined {
  const base = field.replace(/\[.*\]$/, '').replace(/<=\d+$/, '');
  if (PRIMITIVES.has(base)) return undefined;
  const full = base.includes('/') ? base.replace('/', '/msg/') : `${pkg}/msg/${base}`;
  if (!isRosMsgType(full)) {
    throw new RShieldError('E_DATA', `message field type '${field}' (in ${pkg}) has no definition`, { field, pkg });
  }
  return full;
}

/** Every type a definition depends on, depth first, each once. */
function dependencies(type: RosMsgType, seen: Set<RosMsgType>): RosMsgType[] {
  const pkg = type.split('/')[0] ?? '';
  const out: RosMsgType[] = [];
  for (const line of MSG_DEFINITIONS[type].split('\n')) {
    const fieldType = line.trim().split(/\s+/)[0];
    if (fieldType === undefined || fieldType === '' || line.includes('=')) continue;
    const dep = resolveFieldType(fieldType, pkg);
    if (dep === undefined || seen.has(dep)) continue;
    seen.add(dep);
    out.push(dep, ...dependencies(dep, seen));
  }
  return out;
}

/**
 * The `ros2msg` schema text of a type as rosbag2 writes it into MCAP: the type's own definition,
 * then each dependency after a line of 80 '=' and `MSG: pkg/Type`.
 */
export function ros2msgSchema(type: RosMsgType): string {
  const parts: string[] = [MSG_DEFINITIONS[type]];
  for (const dep of dependencies(type, new Set([type]))) {
    parts.push(`${SEPARATOR}\nMSG: ${shortName(dep)}\n${MSG_DEFINITIONS[dep]}`);
  }
  return parts.join('\n');
}
