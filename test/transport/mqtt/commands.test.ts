// Operator commands on a real broker: a retained disarm does not survive into a restarted shield,
// only signed, fresh, unreplayed commands change anything, each change shows in the status, and a
// flood of commands costs a few status publishes instead of one each.
import t from 'tap';
import { startBroker } from '../../helpers/broker.js';
import { parseJsonPayload, statusPayload, telemetryPayload, type StatusPayload } from '../../../src/config/mqtt-payloads.js';
import { FleetView } from '../../../src/transport/mqtt/fleet-view.js';
import { client, next, operator, shieldNode, signedCmd, topics } from './harness.js';

void t.test('commands on a real broker', async (t) => {
  const broker = await startBroker();
  t.teardown(() => broker.stop());

  void t.test('a retained disarm left on the broker is ignored by a starting shield, counted and said', async (t) => {
    const op = client(t, broker.url);
    await op.waitConnected();
    // Even a validly signed one: a retained command is stale by design.
    await op.publish(topics.cmd, signedCmd('disarm', { id: 'left-behind' }), { qos: 1, retain: true });
    t.teardown(() => op.publish(topics.cmd, '', { qos: 1, retain: true }));
    const s = await shieldNode(t, broker.url);
    await until(() => s.node.commands.refusedTotal > 0);
    t.equal(s.node.armed, true, 'the shield comes up armed');
    t.equal(s.node.commands.refused.retained, 1);
    t.match(s.node.status(), { armed: true, commandsRefused: 1, lastCommandRefusal: /retained command ignored/ });
  });

  void t.test('signed disarm and arm change the arm state, named in the status; a replay and an unsigned copy do not', async (t) => {
    const s = await shieldNode(t, broker.url);
    const op = client(t, broker.url);
    await op.waitConnected();
    const watcher = client(t, broker.url);
    await watcher.waitConnected();
    const statuses: StatusPayload[] = [];
    await watcher.subscribe(topics.status, (_t, p) => {
      const r = parseJsonPayload(statusPayload, p);
      if (r.ok) statuses.push(r.value);
    });
    const disarm = signedCmd('disarm', { id: 'op-1' });
    const changed = next<[boolean, string]>(s.node, 'armChanged');
    await op.publish(topics.cmd, disarm, { qos: 1 });
    t.same(await changed, [false, `key ${operator.keyId}, id op-1`], 'the change and who made it');
    const refusals: string[] = [];
    s.node.on('cmdRefused', (why) => refusals.push(why));
    const refusedTwice = new Promise<void>((resolve) => s.node.on('cmdRefused', () => refusals.length === 2 && resolve()));
    await op.publish(topics.cmd, disarm, { qos: 1 }); // captured and sent again
    await op.publish(topics.cmd, JSON.stringify({ v: 1, cmd: 'arm' }), { qos: 1 });
    await refusedTwice;
    t.same(refusals, ['replayed', 'unsigned']);
    t.equal(s.node.armed, false, 'still disarmed: neither the replay nor the unsigned arm counted');
    const armed = next<[boolean, string]>(s.node, 'armChanged');
    await op.publish(topics.cmd, signedCmd('arm', { id: 'op-2' }), { qos: 1 });
    t.same(await armed, [true, `key ${operator.keyId}, id op-2`]);
    await s.node.tick(); // a status held back by the rate limit goes out with a tick
    await until(() => statuses.some((x) => x.state === 'online' && x.armed && x.armedBy?.endsWith('op-2') === true));
    const last = statuses.at(-1);
    t.match(last, { armed: true, armedBy: `key ${operator.keyId}, id op-2`, commandsRefused: 2 });
    t.type(last?.state === 'online' ? last.armedChangedAt : undefined, 'number', 'when it changed');
    const view = new FleetView();
    s.node.publishTelemetry();
    await watcher.subscribe(topics.telemetry, (tp, p) => view.handle(tp, p));
    s.timers.fire();
    await new Promise<void>((resolve) => void watcher.subscribe(topics.telemetry, (_tp, p) => (parseJsonPayload(telemetryPayload, p).ok ? resolve() : undefined)));
    view.handle(topics.status, Buffer.from(JSON.stringify(s.node.status())));
    t.match(view.rows()[0], { armed: true, commandsRefused: 2, armedBy: `key ${operator.keyId}, id op-2` }, 'rshield status shows them');
  });

  void t.test('2 000 commands: a handful of status publishes, not one each; ticks go on; all counted', async (t) => {
    const s = await shieldNode(t, broker.url);
    const flood = client(t, broker.url);
    await flood.waitConnected();
    const watcher = client(t, broker.url);
    await watcher.waitConnected();
    let statuses = 0;
    await watcher.subscribe(topics.status, () => statuses++);
    await new Promise((r) => setTimeout(r, 100));
    statuses = 0; // the retained one on subscribe
    const N = 2_000;
    const t0 = performance.now();
    let ticks = 0;
    let ticking = true;
    const loop = (async () => {
      while (ticking) {
        await s.node.tick();
        ticks++;
        await new Promise<void>((r) => setImmediate(r));
      }
    })();
    // Half unsigned, half signed by the operator (as if the key leaked): both kinds are bounded.
    const sends = Array.from({ length: N }, (_, i) => flood.publish(topics.cmd, i % 2 === 0 ? JSON.stringify({ v: 1, cmd: 'arm', id: `f${i}` }) : signedCmd(i % 4 === 1 ? 'disarm' : 'arm', { id: `f${i}` }), { qos: 1 }));
    await Promise.all(sends);
    await until(() => s.node.commands.accepted + s.node.commands.refusedTotal >= N);
    const sentinel = waitForStatusWithin(watcher);
    s.timers.fire(); // a telemetry beat publishes the held-back status
    await sentinel;
    ticking = false;
    await loop;
    const g = s.node.commands;
    t.equal(g.accepted + g.refusedTotal, N, 'every command accounted for');
    t.equal(g.refused.unsigned, N / 2, 'every unsigned one refused');
    const bound = 20 + 10 * ((performance.now() - t0) / 1000) + 1; // burst + rate × elapsed
    t.ok(g.accepted <= bound, `signature checks bounded by the rate limit: ${g.accepted} obeyed (≤ ${bound.toFixed(0)}), ${g.refused['rate-limited']} over the rate`);
    t.ok(g.refused['rate-limited'] > 0, 'the rest of the signed ones were over the rate');
    t.ok(statuses <= 10, `${statuses} status publishes for ${N} commands (before: one per command)`);
    t.ok(ticks > 0, `${ticks} ticks during the flood`);
  });
});

/** Polls a condition that no event announces (a retained message may arrive before any listener). */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 10));
}

/** Resolves on the next status message seen by `watcher`. */
function waitForStatusWithin(watcher: ReturnType<typeof client>): Promise<void> {
  return new Promise((resolve) => void watcher.subscribe(topics.status, () => resolve()));
}
