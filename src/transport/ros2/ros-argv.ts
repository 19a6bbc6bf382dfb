/**
 * Splits a command line at `--ros-args`: what comes before is the command's own options, the
 * rest goes to rcl (remaps, `--params-file`, `-p`). `ros2 launch` appends its ROS arguments at
 * the end, so this is enough; a `--` closes the ROS section as in rcl.
 */
export function splitRosArgs(argv: readonly string[]): { appArgs: string[]; rosArgs: string[] } {
  const appArgs: string[] = [];
  const rosArgs: string[] = [];
  let inRos = false;
  for (const a of argv) {
    if (a === '--ros-args') {
      inRos = true;
      rosArgs.push(a);
    } else if (inRos && a === '--') {
      inRos = false;
      rosArgs.push(a);
    } else if (inRos) rosArgs.push(a);
    else appArgs.push(a);
  }
  return { appArgs, rosArgs };
}
