import { brokerOptionTable, brokerOptions } from '../../transport/mqtt/connect-options.js';
import { FleetView } from '../../transport/mqtt/fleet-view.js';
import { MqttTransport } from '../../transport/mqtt/mqtt-transport.js';
import { TOPIC_ROOT, robotTopics } from '../../transport/mqtt/topics.js';
import { intOption, parseCommandArgs, stringOption } from '../args.js';

const HELP = `usage: rshield status --broker URL [--robot R] [--once] [--json] [--wait MS]

A live view of the shields on a broker: state, model version, tick rate, p99 tick time,
intervention rate, fail-safes, swaps. Refreshes every second until Ctrl-C.

  --robot R    only this robot
  --once       collect for --wait ms (default 2500: two telemetry messages), print once, exit
  --json       print the rows as JSON (with --once)`;

/** `rshield status`: the shields on a broker. */
export async function status(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('status', argv, {
    ...brokerOptionTable,
    robot: { type: 'string' },
    once: { type: 'boolean' },
    json: { type: 'boolean' },
    wait: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help === true) {
    console.log(HELP);
    return 0;
  }
  const broker = brokerOptions('status', values);
  const robot = stringOption(values, 'robot');
  const waitMs = intOption('wait', stringOption(values, 'wait'), 2500, 0);
  const view = new FleetView();
  const transport = MqttTransport.connect({ ...broker, reconnectPeriodMs: 1000 });
  try {
    await transport.waitConnectedWithin(5000, broker.url);
    const base = robot !== undefined ? robotTopics(robot) : undefined;
    await transport.subscribe(base?.status ?? `${TOPIC_ROOT}/+/status`, (t, p) => view.handle(t, p));
    await transport.subscribe(base?.telemetry ?? `${TOPIC_ROOT}/+/telemetry`, (t, p) => view.handle(t, p));
    if (values.once === true) {
      await new Promise((r) => setTimeout(r, waitMs));
      console.log(values.json === true ? JSON.stringify(view.rows()) : view.render());
      return 0;
    }
    const draw = (): void => void process.stdout.write(`\x1b[2J\x1b[H${new Date().toISOString()}  ${broker.url}\n\n${view.render()}\n`);
    const timer = setInterval(draw, 1000);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    clearInterval(timer);
    return 0;
  } finally {
    await transport.close({ force: true });
  }
}
