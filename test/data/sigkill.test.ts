import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import t from 'tap';
import { readDataset } from '../../src/data/index.js';
import { OBS_DIM, syntheticTransition } from './synthetic.js';

const dir = mkdtempSync(join(tmpdir(), 'rshield-kill-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

void t.test('after SIGKILL the reader recovers all but the last second of data', async (t) => {
  const out = join(dir, 'killed.mcap');
  const fixture = new URL('./fixtures/killed-writer.ts', import.meta.url).pathname;
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, out], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });

  // Reports as the parent received them: the child had written `count` by `at`.
  const reports: { at: number; count: number }[] = [];
  const killedAt = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code, signal) => reject(new Error(`writer exited early (code ${code}, signal ${signal})`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = /^written (\d+)$/.exec(line);
      if (m === null) return;
      reports.push({ at: performance.now(), count: Number(m[1]) });
      const first = reports[0];
      if (first !== undefined && performance.now() - first.at > 2500 && child.signalCode === null) {
        child.removeAllListeners('exit');
        const at = performance.now();
        child.kill('SIGKILL');
        resolve(at);
      }
    });
  });
  const exit = await new Promise<string | null>((resolve) => child.once('exit', (_c, signal) => resolve(signal)));
  t.equal(exit, 'SIGKILL');

  const safe = reports.filter((r) => r.at <= killedAt - 1000).reduce((m, r) => Math.max(m, r.count), 0);
  const last = reports.reduce((m, r) => Math.max(m, r.count), 0);
  const d = await readDataset([out]);
  t.equal(d.files[0]?.complete, false, 'the file has no footer: it was cut off');
  t.ok(safe > 300, `the child wrote ${safe} transitions more than 1 s before the kill`);
  t.ok(d.size >= safe, `recovered ${d.size} ≥ ${safe} written by 1 s before the kill (last report ${last})`);
  let wrong = 0;
  for (let i = 0; i < d.size; i++) {
    const s = syntheticTransition(i);
    if (d.step[i] !== s.step || d.obs[i * OBS_DIM] !== s.obs[0] || d.cost[i] !== s.cost) wrong++;
  }
  t.equal(wrong, 0, 'every recovered transition is the one written');
});
