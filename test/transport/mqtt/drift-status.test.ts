// Critic drift in telemetry and `rshield status`: a critic that rates the robot's fatal steps
// safe is reported; a swapped-in model is judged afresh.
import t from 'tap';
import { startBroker } from '../../helpers/broker.js';
import type { Decision } from '../../../src/core/shield-core.js';
import { FleetView } from '../../../src/transport/mqtt/fleet-view.js';
import { FakeShield } from './fakes.js';
import { shieldNode, topics } from './harness.js';

/** Rates every action safe: the line robot walks off its end (|x| > 1) every 4th tick. */
class BlindShield extends FakeShield {
  override async decide(obs: Float32Array, proposed: Float32Array): Promise<Decision> {
    return super.decide(new Float32Array([0, obs[1] ?? 0]), proposed);
  }
}

void t.test('violations right after actions rated safe: drift suspected in telemetry and status', async (t) => {
  const broker = await startBroker();
  t.teardown(() => broker.stop());
  const fitting = await shieldNode(t, broker.url, { drift: { gammaRisk: 0.8 } });
  for (let i = 0; i < 40; i++) await fitting.node.tick();
  t.match(fitting.node.telemetry().drift, { transitions: 40, violations: 0, missedViolations: 0, suspected: false }, 'the fake critic keeps the line robot safe');

  const blind = await shieldNode(t, broker.url, { shield: new BlindShield(), drift: { gammaRisk: 0.8 } });
  for (let i = 0; i < 40; i++) await blind.node.tick();
  const drift = blind.node.telemetry().drift;
  t.match(drift, { transitions: 40, violations: 10, missedViolations: 10, suspected: true });
  t.ok(drift?.tdErrorRms !== null && (drift?.tdErrorRms ?? 0) > 0.3, `TD error RMS ${drift?.tdErrorRms}`);

  const view = new FleetView();
  view.handle(topics.telemetry, Buffer.from(JSON.stringify(blind.node.telemetry())));
  t.match(view.render(), /drift\s*\n.*SUSPECTED/);
  t.match(view.render(), /line: critic drift suspected: 10 of 10 violations came right after an action it rated safe, TD error RMS 0\.\d+ \(40 transitions since the model was installed\)/);
});
