// trainer.launch.xml under the real `ros2 launch`, with the test broker (mosquitto, else aedes):
// the trainer starts from the shipped models, learns from what an MQTT shield streams, publishes
// versions, and stops on Ctrl-C with exit 0. Needs a sourced ROS 2 (for ros2 launch) and dist/.
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/config/profile.js';
import { startBroker } from '../helpers/broker.js';
import { hasRos2, pollUntil } from '../transport/ros2/harness.js';
import { interrupt, launch, stopLaunch } from './launch-process.js';

void t.test('trainer.launch.xml: trains online from a shield over MQTT, publishes versions, Ctrl-C exits 0', { skip: !hasRos2() && 'no ROS 2 sourced', timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rshield-trainer-e2e-'));
  const broker = await startBroker();
  const trainer = launch('trainer.launch.xml', ['robot:=dvrk-reacher', `broker:=${broker.url}`, 'every:=50']);
  t.teardown(async () => {
    await stopLaunch(trainer);
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const up = await pollUntil(() => /training dvrk-reacher online from mqtt:\/\/127\.0\.0\.1:\d+; a version every 50 updates/.test(trainer.output) || trainer.proc.exitCode !== null, 60_000);
  t.ok(up && trainer.proc.exitCode === null, 'the trainer is up on the broker, from the shipped models');
  if (trainer.proc.exitCode !== null) t.comment(trainer.output);

  // An MQTT shield on the simulated dVRK streams 200 transitions (10 batches).
  const shield = spawn('node', [join(packageRoot(), 'bin/rshield.js'), 'run', '--robot', 'dvrk-reacher', '--sim', '--broker', broker.url, '--allow-unsigned', '--ticks', '200', '--rate', '500', '--deadline-us', '50000', '--batch', '20', '--spool', join(dir, 'spool')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let shieldOut = '';
  shield.stdout.on('data', (b: Buffer) => (shieldOut += b.toString()));
  shield.stderr.on('data', (b: Buffer) => (shieldOut += b.toString()));
  t.equal(await new Promise((r) => shield.on('exit', r)), 0, 'the shield ran its 200 ticks');
  t.match(shieldOut, /stopped after 200 ticks: .* 10 batches sent/);
  // Each version is published or, if its held-out AUROC dropped, refused by the quality gate.
  const considered = (): number => (trainer.output.match(/published \S+ after \d+ updates|refused by the quality gate, not published/g) ?? []).length;
  t.ok(await pollUntil(() => considered() >= 4, 60_000), `a version per 50 transitions (${considered()})`);

  t.equal(await interrupt(trainer, 'rshield_trainer'), 0, 'ros2 launch exits 0 on Ctrl-C');
  const stopped = /stopped: 200 transitions, 200 updates, (\d+) versions published, 0 invalid batches, 0 duplicates, (\d+) refused by the quality gate/.exec(trainer.output);
  t.ok(stopped, 'the trainer\'s summary at exit');
  t.equal(Number(stopped?.[1]) + Number(stopped?.[2]), 4, 'four versions made');
  t.match(trainer.output, /\[rshield_trainer-\d+\]: process has finished cleanly/);
});
