import { readFile } from 'node:fs/promises';
import { RShieldError } from '../../core/errors.js';
import { cmdPayload, type CmdPayload } from '../../config/mqtt-payloads.js';
import { signedCommandPayload } from '../../models/command-signing.js';
import { parsePrivateKey } from '../../models/signing.js';
import { brokerOptionTable, brokerOptions } from '../../transport/mqtt/connect-options.js';
import { MqttTransport } from '../../transport/mqtt/mqtt-transport.js';
import { robotTopics } from '../../transport/mqtt/topics.js';
import { parseCommandArgs, stringOption } from '../args.js';

const COMMANDS = cmdPayload.shape.cmd.options;

const HELP = `usage: rshield cmd --robot R --broker URL --key FILE <${COMMANDS.join('|')}> [--id ID]

Sends one operator command to a shield (rshield run) or recorder (rshield record --broker),
signed with an operator's Ed25519 key (rshield keys generate --name operator): the signature
covers the robot, the command, the time it was issued and a random nonce, so the shield
obeys it once, within 30 s, and refuses a captured copy. Never retained. The shield must trust
the public key (--operator-key, or commands.trustedKeys in the profile).

  --robot R        the robot's name on the broker (rshield/v1/R/cmd)
  --broker URL     mqtt://host:port; --username U, password from RSHIELD_MQTT_PASSWORD
  --key FILE       the operator's private key (PKCS#8 PEM, e.g. keys/operator.key)
  --id ID          a label of your own, shown in the shield's log and status (armedBy)`;

/** `rshield cmd`: one signed operator command. */
export async function cmd(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('cmd', argv, {
    ...brokerOptionTable,
    robot: { type: 'string' },
    key: { type: 'string' },
    id: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help === true) {
    console.log(HELP);
    return 0;
  }
  const command = positionals[0];
  if (positionals.length !== 1 || command === undefined || !(COMMANDS as readonly string[]).includes(command)) {
    throw new RShieldError('E_USAGE', `expected one command of ${COMMANDS.join(', ')}, got '${positionals.join(' ')}' (see rshield cmd --help)`);
  }
  const robot = stringOption(values, 'robot');
  if (robot === undefined) throw new RShieldError('E_USAGE', '--robot R is required (see rshield cmd --help)');
  const topic = robotTopics(robot).cmd;
  const keyFile = stringOption(values, 'key');
  if (keyFile === undefined) throw new RShieldError('E_USAGE', '--key FILE is required: shields obey signed commands only (see rshield cmd --help)');
  const pem = await readFile(keyFile, 'utf8').catch((err: Error) => {
    throw new RShieldError('E_IO', `cannot read --key ${keyFile}: ${err.message}`, { path: keyFile });
  });
  const key = parsePrivateKey(pem, keyFile);
  const id = stringOption(values, 'id');
  if (id !== undefined && id.length > 64) throw new RShieldError('E_USAGE', `--id is at most 64 characters, got ${id.length}`, { option: 'id' });
  const broker = brokerOptions('cmd', values);
  const transport = MqttTransport.connect({ ...broker, reconnectPeriodMs: 500 });
  try {
    await transport.waitConnectedWithin(5000, broker.url);
    // Signed once connected, so the freshness window starts when the command can leave.
    const payload: CmdPayload = signedCommandPayload(key, { robot, cmd: command as CmdPayload['cmd'], id }, Date.now());
    await transport.publish(topic, JSON.stringify(payload), { qos: 1, retain: false });
    console.log(`sent ${command} to ${topic} (key ${payload.keyId}, nonce ${payload.nonce?.slice(0, 12)}…)`);
    return 0;
  } finally {
    await transport.close();
  }
}
