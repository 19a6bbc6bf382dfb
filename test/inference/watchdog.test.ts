import t from 'tap';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Shield } from '../../src/inference/shield.js';
import { writeModelDir } from './helpers/models.js';
import { obsLoopingFor, writeLoopingModel } from './helpers/looping-critic.js';

const SAFE_OBS = [0, 0, 0];
const PROPOSED = [-0.5, -0.5, -0.5];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function timed<T>(f: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await f();
  return { value, ms: performance.now() - t0 };
}

void t.test('a critic that loops in one region: fail-safe at the deadline, every tick while stuck, the worker replaced, normal after', async (t) => {
  const dir = await writeLoopingModel(join(t.testdir(), 'looping'));
  const deadlineUs = 20_000;
  const shield = await Shield.load({ modelDir: dir, deadlineUs, stuckAfterMs: 200 });
  t.teardown(() => shield.close());

  const ok = await shield.decide(SAFE_OBS, PROPOSED);
  t.equal(ok.source, 'task', 'outside the looping region the model decides');

  // One run would take ~3 s: the tick gives up at the deadline instead.
  const first = await timed(() => shield.decide(obsLoopingFor(3), PROPOSED));
  t.equal(first.value.source, 'failsafe');
  t.equal(first.value.failsafeReason, 'deadline');
  t.same(Array.from(first.value.action), [0, 0, 0], 'the robot gets the fail-safe action');
  t.ok(first.ms < deadlineUs / 1000 + 100, `returned after ${first.ms.toFixed(1)} ms (deadline 20 ms), not after the 3 s run`);

  // While the worker is stuck, every tick is the fail-safe at once, and timers keep firing.
  let timerFired = false;
  setTimeout(() => (timerFired = true), 0);
  const during: number[] = [];
  for (let i = 0; i < 5; i++) {
    const d = await timed(() => shield.decide(SAFE_OBS, PROPOSED));
    t.equal(d.value.failsafeReason, 'deadline', `tick ${i} while stuck`);
    during.push(d.ms);
    await sleep(5);
  }
  t.ok(Math.max(...during) < 5, `stuck ticks answer without waiting for the deadline again (max ${Math.max(...during).toFixed(2)} ms)`);
  t.ok(timerFired, 'the event loop is not blocked while inference is stuck');

  // After stuckAfterMs the worker is replaced by one loaded from the same bytes.
  const until = performance.now() + 15_000;
  let d = await shield.decide(SAFE_OBS, PROPOSED);
  while (d.source === 'failsafe' && performance.now() < until) {
    await sleep(20);
    d = await shield.decide(SAFE_OBS, PROPOSED);
  }
  t.equal(d.source, 'task', 'a fresh worker decides normally again');
  const wd = shield.watchdogStats();
  t.equal(wd?.replacements, 1, 'one replacement');
  t.equal(wd?.late, 1, 'one late hand-off');
  t.ok((wd?.busy ?? 0) >= 5, 'ticks refused while stuck are counted');
  const s = shield.stats();
  t.equal(s.failsafesByReason.deadline, s.failsafes, 'every fail-safe was a deadline one');
  t.ok(s.failsafes >= 6);

  // A good model swapped in decides as usual, the looping region included.
  const good = await writeModelDir(join(t.testdir(), 'good'), { card: { version: 'good' } });
  await shield.swap(await Shield.prepare({ modelDir: good }));
  const after = await shield.decide(obsLoopingFor(3), PROPOSED);
  t.not(after.source, 'failsafe', 'the good model decides in the formerly looping region');
});

void t.test('a slow graph: the fail-safe comes at the deadline, not when the graph returns; the worker is not replaced', async (t) => {
  const dir = await writeLoopingModel(join(t.testdir(), 'slow'));
  const shield = await Shield.load({ modelDir: dir, deadlineUs: 10_000, stuckAfterMs: 5_000 });
  t.teardown(() => shield.close());
  const slow = await timed(() => shield.decide(obsLoopingFor(0.3), PROPOSED));
  t.equal(slow.value.failsafeReason, 'deadline');
  t.ok(slow.ms < 100, `fail-safe after ${slow.ms.toFixed(1)} ms, not after the ~300 ms run`);
  // The late run takes ~300 ms on a quiet machine, longer on a loaded one: ask until it is over.
  let next = await shield.decide(SAFE_OBS, PROPOSED);
  for (const end = Date.now() + 15_000; next.source !== 'task' && Date.now() < end; ) {
    await sleep(100);
    next = await shield.decide(SAFE_OBS, PROPOSED);
  }
  t.equal(next.source, 'task', 'once the late run is over the same worker decides again');
  t.equal(shield.watchdogStats()?.replacements, 0);
});

void t.test('quarantine: a model that loops inside its declared state bounds is refused by the check, naming the time limit', async (t) => {
  const dir = await writeLoopingModel(join(t.testdir(), 'bounded'), { card: { obsLow: [-1, -0.5, -0.5], obsHigh: [102.5, 0.5, 0.5] } });
  // The high corner of the bounds makes one run take ~3 s: past the 1 s limit.
  const r = await timed(() => Shield.load({ modelDir: dir, prepareTimeoutMs: 1_000 }).then(
    async (s) => {
      await s.close();
      return null;
    },
    (err: unknown) => err,
  ));
  t.match(r.value, { code: 'E_MODEL', message: /took longer than the 1000 ms time limit/ });
  t.ok(r.ms < 3_000, `refused at the limit (${r.ms.toFixed(0)} ms)`);
  // Without bounds on the card the same model passes: the bounds are what the check covered.
  const unbounded = await writeLoopingModel(join(t.testdir(), 'unbounded'));
  const s = await Shield.load({ modelDir: unbounded });
  await s.close();
});

void t.test('a critic file that is a FIFO is refused, not waited on', { skip: process.platform === 'win32' }, async (t) => {
  const dir = await writeModelDir(join(t.testdir(), 'fifo'));
  execFileSync('rm', [join(dir, 'critic.onnx')]);
  execFileSync('mkfifo', [join(dir, 'critic.onnx')]);
  for (const inference of ['worker', 'in-thread'] as const) {
    await t.rejects(Shield.load({ modelDir: dir, inference }), { code: 'E_MODEL', message: /critic\.onnx: the critic model is not a regular file/ }, inference);
  }
});

void t.test('a Q_risk outside [0, 1] at run time is the out-of-range fail-safe, counted', async (t) => {
  // No sigmoid: Q_risk = 0.5 + 0.001·Σobs, inside [0, 1] on the check batch, negative at Σobs = −1000.
  const dir = await writeModelDir(join(t.testdir(), 'linear'), { noSigmoid: true, w: [1e-3, 1e-3, 1e-3, 0, 0, 0], b: 0.5 });
  for (const inference of ['worker', 'in-thread'] as const) {
    const shield = await Shield.load({ modelDir: dir, inference });
    const d = await shield.decide([-1000, 0, 0], PROPOSED);
    t.equal(d.source, 'failsafe', inference);
    t.equal(d.failsafeReason, 'out-of-range');
    t.equal(shield.stats().failsafesByReason['out-of-range'], 1);
    await shield.close();
  }
});

void t.test('cards that would switch the shield off or command an out-of-bounds fail-safe are refused, naming the field', async (t) => {
  const eps = await writeModelDir(join(t.testdir(), 'eps1'), { card: { epsRisk: 1 } });
  await t.rejects(Shield.load({ modelDir: eps }), { code: 'E_MODEL', message: /epsRisk: must be below 1 .*\(got 1\)/ });
  const fs = await writeModelDir(join(t.testdir(), 'failsafe'), { card: { failsafe: [0, 2, 0] } });
  await t.rejects(Shield.load({ modelDir: fs }), { code: 'E_MODEL', message: /failsafe\[1\]: is outside the action bounds \[-1, 1\] \(got 2\)/ });
});

void t.test('a process whose critic is stuck for good still fails safe every tick, answers SIGTERM and ends', async (t) => {
  const { spawn } = await import('node:child_process');
  const dir = await writeLoopingModel(join(t.testdir(), 'forever'));
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '..', 'integration', 'helpers', 'stuck-shield.ts'), dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const until = (re: RegExp, ms: number) =>
    new Promise<void>((resolve, reject) => {
      const end = Date.now() + ms;
      const poll = setInterval(() => {
        if (re.test(out)) {
          clearInterval(poll);
          resolve();
        } else if (Date.now() > end) {
          clearInterval(poll);
          reject(new Error(`no ${re} within ${ms} ms; output:\n${out}`));
        }
      }, 20);
    });
  await until(/tick 30 /, 60_000);
  const ticks = out.split('\n').filter((l) => l.startsWith('tick '));
  t.match(ticks[4] ?? '', /^tick 5 failsafe deadline$/, 'the stuck tick is the deadline fail-safe');
  t.ok(ticks.slice(5, 10).every((l) => / failsafe deadline$/.test(l)), 'and so is every tick while stuck');
  t.match(out, /tick \d+ task -/, 'after the replacement, ticks outside the looping state decide normally');
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  child.kill('SIGTERM');
  const how = await exited;
  t.match(out, /\nhold\n/, 'SIGTERM publishes the fail-safe');
  t.match(out, /inference thread\(s\) stuck in a model graph cannot be joined/, 'and says why it ends the hard way');
  t.ok(how.signal === 'SIGKILL' || how.code === 0, `the process ended (${how.signal ?? how.code})`);
});
