import { intOption, numberOption, parseCommandArgs, stringOption } from '../args.js';
import { RShieldError } from '../../core/errors.js';
import { createController, createEnv } from '../../envs/index.js';
import { splitRosArgs } from '../../transport/ros2/ros-argv.js';

const HELP = `usage: rshield sim --robot dvrk-reacher --transport ros2 [options] [--ros-args ...]

Serves a simulated robot with the dVRK's topic names and types: publishes measured_cp,
measured_js and operating_state, steps toward each servo_cp goal, obeys hold. A whole
shield launch then runs without hardware (launch/sim.launch.xml).

options:
  --robot NAME        dvrk-reacher (default) or dvrk-reacher-image (also publishes the overhead camera)
  --transport ros2    the bus to serve it on (ros2; needs a sourced ROS 2 and rclnodejs)
  --profile P         robot profile: name or YAML path (default: hardware/sim/<robot>.yaml)
  --seed N            episode seed (default 1)
  --rate-hz HZ        state publish rate (default 100, as dvrk_system -p 0.01)
  --controller        also run the robot's scripted controller (unsafe by design), publishing
                      servo_cp goals on the profile's commandIn topic, in front of the shield
  -h, --help          this help`;

/** `rshield sim`: a simulated PSM over ROS 2 (docs/ros2.md). */
export async function sim(argv: string[]): Promise<number> {
  const { appArgs, rosArgs } = splitRosArgs(argv);
  const { values } = parseCommandArgs('sim', appArgs, {
    robot: { type: 'string' },
    transport: { type: 'string' },
    profile: { type: 'string' },
    seed: { type: 'string' },
    'rate-hz': { type: 'string' },
    controller: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values['help'] === true) {
    console.log(HELP);
    return 0;
  }
  const robot = stringOption(values, 'robot') ?? 'dvrk-reacher';
  const transport = stringOption(values, 'transport') ?? 'ros2';
  if (transport !== 'ros2') {
    throw new RShieldError('E_USAGE', `--transport must be ros2 for rshield sim, got '${transport}' (the MQTT bus runs the sim in-process: rshield run)`, { transport });
  }
  if (robot !== 'dvrk-reacher' && robot !== 'dvrk-reacher-image') {
    throw new RShieldError('E_USAGE', `rshield sim serves dvrk-reacher and dvrk-reacher-image (a PSM over CRTK topics, the latter with its overhead camera); '${robot}' has no ROS 2 interface`, { robot });
  }
  const seed = intOption('seed', stringOption(values, 'seed'), 1);
  const rateHz = numberOption('rate-hz', stringOption(values, 'rate-hz'), 100);
  if (rateHz <= 0 || rateHz > 2000) throw new RShieldError('E_USAGE', `--rate-hz must be in (0, 2000], got ${rateHz}`);
  const env = createEnv(robot, { seed });
  const { runRos2Sim } = await import('../../app/ros2-sim.js');
  return runRos2Sim({ profile: stringOption(values, 'profile') ?? robot, env, seed, rateHz, rosArgs, ...(values['controller'] === true ? { controller: createController(robot, { seed }) } : {}) });
}
