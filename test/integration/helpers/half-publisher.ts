// Child process of faults.test.ts playing a trainer killed mid-publish: connects to argv[2],
// publishes the first argv[4] of the JSON payloads in file argv[3] on argv[5] at QoS 1 (each
// acknowledged), then SIGKILLs itself: no clean disconnect, the rest of the version never comes.
import { readFileSync } from 'node:fs';
import { MqttTransport } from '../../../src/transport/mqtt/mqtt-transport.js';

const [url, file, count, topic] = process.argv.slice(2);
if (url === undefined || file === undefined || count === undefined || topic === undefined) throw new Error('usage: half-publisher.ts URL PAYLOADS.json COUNT TOPIC');
const payloads = (JSON.parse(readFileSync(file, 'utf8')) as string[]).slice(0, Number(count));
const link = MqttTransport.connect({ url, reconnectPeriodMs: 100 });
await link.waitConnected();
for (const p of payloads) await link.publish(topic, p, { qos: 1 });
process.stdout.write(`published ${payloads.length}\n`);
process.kill(process.pid, 'SIGKILL');
