import { loadRobotProfile } from '../config/profile.js';
import type { Env } from '../core/types.js';
import { loadRclnodejs } from '../transport/ros2/load-rclnodejs.js';
import { untilStopped } from '../transport/ros2/process-lifetime.js';
import type { RclModule } from '../transport/ros2/rclnodejs-api.js';
import { SimController, SimPsm, type SimControllerOptions } from '../transport/ros2/sim-node.js';

export interface RunRos2SimOptions {
  readonly rcl?: RclModule;
  readonly rosArgs?: readonly string[];
  /** Profile name or path (its topics are the ones served). */
  readonly profile: string;
  readonly env: Env;
  /** Also run the robot's scripted controller, publishing on the profile's commandIn topic. */
  readonly controller?: SimControllerOptions['controller'];
  readonly seed?: number;
  readonly rateHz?: number;
  readonly signal?: AbortSignal;
  readonly onStarted?: (sim: SimPsm) => void;
  readonly log?: (line: string) => void;
}

/** `rshield sim --transport ros2`: serves a simulated PSM until SIGINT/SIGTERM, then exits 0. */
export async function runRos2Sim(opts: RunRos2SimOptions): Promise<number> {
  const log = opts.log ?? ((line: string) => console.error(line));
  const profile = loadRobotProfile(opts.profile);
  const rcl = opts.rcl ?? (await loadRclnodejs());
  await rcl.init(undefined, ['node', 'rshield', ...(opts.rosArgs ?? [])]);
  try {
    const node = new rcl.Node('rshield_sim');
    const sim = new SimPsm({ rcl, node, profile, env: opts.env, log, ...(opts.seed !== undefined ? { seed: opts.seed } : {}), ...(opts.rateHz !== undefined ? { rateHz: opts.rateHz } : {}) });
    const ctrl = opts.controller === undefined ? undefined : new SimController({ rcl, node, profile, controller: opts.controller });
    const stopped = untilStopped(rcl, opts.signal);
    node.spin();
    sim.start();
    if (ctrl) log(`rshield sim: scripted controller publishing on ${profile.topics.commandIn.topic}`);
    const t = profile.topics;
    log(`rshield sim: ${profile.env} as ${profile.arm}: ${t.measuredCp.topic}, ${t.measuredJs.topic}, ${t.operatingState.topic}; obeys ${t.commandOut.topic} and ${t.hold.topic}`);
    opts.onStarted?.(sim);
    const why = await stopped;
    log(`rshield sim: ${why}: ${sim.steps} steps, ${sim.violations} violations, ${sim.holds} holds`);
    sim.close();
    ctrl?.close();
    return 0;
  } finally {
    if (!rcl.isShutdown()) rcl.shutdown();
  }
}
