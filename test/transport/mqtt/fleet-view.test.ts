import t from 'tap';
import { FleetView } from '../../../src/transport/mqtt/fleet-view.js';
import type { TelemetryPayload } from '../../../src/config/mqtt-payloads.js';

const tel = (time: number, ticks: number, interventions: number): Uint8Array =>
  Buffer.from(
    JSON.stringify({ v: 1, robot: 'r1', time, ticks, tickP50Us: 30, tickP99Us: 90, interventions, failsafes: 2, provider: 'cpu', modelVersion: 'v3', armed: true, recording: true, swaps: 1, swapFailures: 0, transitionsSpooled: 0, transitionsDropped: 0, invalidMessages: 0 } satisfies TelemetryPayload),
  );

void t.test('rates come from two telemetry messages; bad ones are counted, not shown', (t) => {
  const v = new FleetView();
  v.handle('rshield/v1/r1/status', Buffer.from(JSON.stringify({ v: 1, state: 'online', robot: 'r1', armed: true, recording: true, modelVersion: 'v3', provider: 'cpu', startedAt: 0, lastSwapError: 'v4: signature does not verify' })));
  v.handle('rshield/v1/r1/telemetry', tel(1000, 100, 10));
  t.equal(v.rows()[0]?.tickRateHz, null, 'no rate from one message');
  v.handle('rshield/v1/r1/telemetry', tel(3000, 300, 30));
  const row = v.rows()[0];
  t.equal(row?.tickRateHz, 100);
  t.equal(row?.interventionRate, 0.1);
  t.equal(row?.tickP99Us, 90);
  v.handle('rshield/v1/r1/telemetry', Buffer.from('{"v":1}'));
  v.handle('rshield/v1/r2/status', Buffer.from(JSON.stringify({ v: 1, state: 'online', robot: 'r1' })));
  t.equal(v.invalid, 2);
  t.equal(v.rows().length, 1);
  t.match(v.render(), /r1\s+online\s+v3\s+yes\s+100\.0\s+90\s+10\.0%/);
  t.match(v.render(), /last swap refused: v4: signature does not verify/);
  v.handle('rshield/v1/r1/status', Buffer.from(JSON.stringify({ v: 1, state: 'offline', robot: 'r1' })));
  t.equal(v.rows()[0]?.state, 'offline', 'the last will shows the shield offline');
  t.end();
});
