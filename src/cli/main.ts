import { isRShieldError } from '../core/errors.js';

/** A subcommand: parses its own arguments, returns the process exit code. */
export type Command = (argv: string[]) => Promise<number>;

interface CommandEntry {
  readonly summary: string;
  /** Loaded lazily so that, e.g., rclnodejs is imported only by the commands that need ROS 2. */
  readonly load: () => Promise<Command>;
}

const commands: Record<string, CommandEntry> = {
  demo: { summary: 'run a simulated robot unshielded and shielded, print the comparison', load: async () => (await import('./commands/demo.js')).demo },
  collect: { summary: 'generate controlled constraint-violation data into an MCAP file', load: async () => (await import('./commands/collect.js')).collect },
  import: { summary: 'convert reference-format pickles of offline data (Recovery RL, MESA) into an MCAP dataset', load: async () => (await import('./commands/import.js')).importData },
  train: { summary: 'train a safety critic and recovery policy from MCAP data', load: async () => (await import('./commands/train.js')).train },
  'meta-train': { summary: 'MESA: meta-train a safety critic across the datasets of a task family', load: async () => (await import('./commands/meta-train.js')).metaTrainCommand },
  adapt: { summary: 'MESA: adapt a (meta-)trained model to a new robot from a few hundred transitions', load: async () => (await import('./commands/adapt.js')).adapt },
  calibrate: { summary: 'choose ε_risk from held-out data and rollouts, write a new card version', load: async () => (await import('./commands/calibrate.js')).calibrate },
  inspect: { summary: 'card summary and Q_risk map of a model directory', load: async () => (await import('./commands/inspect.js')).inspect },
  run: { summary: 'run the shield (simulated robot or ROS 2) with MQTT telemetry', load: async () => (await import('./commands/run.js')).run },
  trainer: { summary: 'companion trainer: learn online from streamed transitions, publish signed models', load: async () => (await import('./commands/trainer.js')).trainer },
  experiment: { summary: 'compare algorithms over seeds (resumable, shardable), summary and plots as the thesis', load: async () => (await import('./commands/experiment.js')).experiment },
  keys: { summary: 'generate an Ed25519 key pair for signing models', load: async () => (await import('./commands/keys.js')).keys },
  cmd: { summary: 'send a signed operator command (arm, disarm, record-start/stop, pin, unpin, rollback) to a shield', load: async () => (await import('./commands/cmd.js')).cmd },
  status: { summary: 'live view of the shields on an MQTT broker', load: async () => (await import('./commands/status.js')).status },
  sim: { summary: 'serve a simulated robot over ROS 2 with the dVRK topic names', load: async () => (await import('./commands/sim.js')).sim },
  record: { summary: 'record demos: pass-through shield with hard limits, MCAP output', load: async () => (await import('./commands/record.js')).record },
};

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return ['usage: rshield <command> [options]', '', 'commands:', ...lines, '', 'rshield <command> --help shows the options of a command.'].join('\n');
}

/** Runs the CLI. Errors with a code print as one line; only unexpected errors show a stack. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name === undefined ? 1 : 0;
  }
  const entry = commands[name];
  if (entry === undefined) {
    console.error(`rshield: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  try {
    const command = await entry.load();
    return await command(rest);
  } catch (err) {
    if (isRShieldError(err)) {
      console.error(`rshield ${name}: ${err.message}`);
      return err.code === 'E_USAGE' ? 2 : 1;
    }
    throw err;
  }
}
