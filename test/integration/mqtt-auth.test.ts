// Username/password authentication and the ACL of the Mosquitto configuration shipped in
// launch/mosquitto, run as shipped except for the port and file locations.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, mosquittoBinary, mosquittoUserLine, spawnMosquitto, stopChild } from '../helpers/broker.js';
import { MqttTransport } from '../../src/transport/mqtt/mqtt-transport.js';
import { client, tempDir, topics } from '../transport/mqtt/harness.js';

const shipped = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'launch', 'mosquitto');
const bin = mosquittoBinary();

void t.test('the shipped mosquitto config: passwords required, ACL enforced', { skip: bin === undefined ? 'mosquitto is not installed (CI installs it)' : false }, async (t) => {
  const dir = await tempDir(t, 'rshield-auth-');
  const port = await freePort();
  const passwd = join(dir, 'rshield.passwd');
  const users = { shield: 'shield-pw', trainer: 'trainer-pw', operator: 'operator-pw' };
  for (const [i, [user, pw]] of Object.entries(users).entries()) execFileSync('mosquitto_passwd', [...(i === 0 ? ['-c'] : []), '-b', passwd, user, pw]);
  await copyFile(join(shipped, 'rshield.acl'), join(dir, 'rshield.acl'));
  const conf = await readFile(join(shipped, 'mosquitto.conf'), 'utf8');
  const rewritten = conf
    .replace(/^listener 1883 127\.0\.0\.1$/m, `listener ${port} 127.0.0.1`)
    .replace(/^password_file .*$/m, `password_file ${passwd}`)
    .replace(/^acl_file .*$/m, `acl_file ${join(dir, 'rshield.acl')}`)
    .replace(/^persistence_location .*$/m, `persistence_location ${dir}/`);
  for (const line of ['allow_anonymous false', `password_file ${passwd}`, `listener ${port} 127.0.0.1`]) t.ok(rewritten.includes(line), `config has: ${line}`);
  await writeFile(join(dir, 'mosquitto.conf'), `${rewritten}\n${mosquittoUserLine()}\n`);
  const broker = await spawnMosquitto(bin as string, join(dir, 'mosquitto.conf'));
  // Wait for the broker to exit before the folder is removed: it saves its persistence file there.
  t.teardown(() => stopChild(broker));
  const url = `mqtt://127.0.0.1:${port}`;

  const refused = async (o: { username?: string; password?: string }): Promise<string> => {
    const c = MqttTransport.connect({ url, reconnectPeriodMs: 0, ...o });
    try {
      await c.waitConnected();
      return 'connected';
    } catch (err) {
      return (err as Error).message;
    } finally {
      await c.close({ force: true });
    }
  };
  t.match(await refused({}), /refused.*(Not authorized|Bad username)/i, 'anonymous is refused');
  t.match(await refused({ username: 'shield', password: 'wrong' }), /refused.*(Not authorized|Bad username)/i, 'a wrong password is refused');

  const shield = client(t, url, { username: 'shield', password: users.shield });
  const operator = client(t, url, { username: 'operator', password: users.operator });
  const trainer = client(t, url, { username: 'trainer', password: users.trainer });
  await Promise.all([shield.waitConnected(), operator.waitConnected(), trainer.waitConnected()]);
  const seen: string[] = [];
  let statusSeen: () => void = () => {};
  const statusArrived = new Promise<void>((r) => (statusSeen = r));
  await operator.subscribe('rshield/v1/#', (topic, p) => {
    seen.push(`${topic} ${Buffer.from(p).toString()}`);
    if (topic === topics.status) statusSeen();
  });
  const models: string[] = [];
  await shield.subscribe(topics.model, (_t, p) => models.push(Buffer.from(p).toString()));
  // The shield may not publish a model (ACL); the trainer may. QoS 1 from one client keeps order.
  await shield.publish(topics.model, 'from-shield', { qos: 1 });
  await trainer.publish(topics.model, 'from-trainer', { qos: 1 });
  await shield.publish(topics.status, 'online-marker', { qos: 1 });
  await statusArrived;
  t.ok(seen.includes(`${topics.status} online-marker`), 'an authenticated shield publishes its status');
  t.notOk(seen.includes(`${topics.model} from-shield`), 'the ACL drops a model published by a shield');
  t.ok(seen.includes(`${topics.model} from-trainer`), 'the trainer publishes models');
});
