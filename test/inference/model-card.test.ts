import t from 'tap';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseModelCard } from '../../src/config/model-card.js';
import { loadModelCard } from '../../src/models/model-dir.js';
import { cardFor } from './helpers/models.js';

void t.test('a valid card parses, with defaults applied', (t) => {
  const c = parseModelCard(cardFor(), 'x');
  t.equal(c.hysteresis, 0);
  t.equal(c.failsafe, undefined);
  t.equal(c.critic.inputs.act, 'act');
  t.end();
});

void t.test('errors name every bad path and its value', (t) => {
  const bad = { ...cardFor(), obsDim: -3, actLow: [-1, -1], epsRisk: 2, critic: { file: '../x.onnx', inputs: { obs: 'o' }, output: 'q' } };
  const err = t.throws(() => parseModelCard(bad, 'dir/model.json')) as Error & { code: string };
  t.equal(err.code, 'E_MODEL');
  t.match(err.message, /^dir\/model.json: invalid model card: /);
  t.match(err.message, /obsDim: .*\(got -3\)/);
  t.match(err.message, /epsRisk: .*\(got 2\)/);
  t.match(err.message, /critic\.file: must be a path inside the model directory \(got "\.\.\/x\.onnx"\)/);
  t.match(err.message, /critic\.inputs\.act/);
  // Cross-field checks run once the fields themselves are valid.
  t.throws(() => parseModelCard({ ...cardFor(), actLow: [-1, -1] }, "c"), /actLow: has 2 values, actDim is 3/);
  t.throws(() => parseModelCard({ ...cardFor(), format: 'other/2' }, 'c'), /format/);
  t.throws(() => parseModelCard({ ...cardFor(), actLow: [1, 0, 0], actHigh: [0, 1, 1] }, 'c'), /actLow\.0: 1 is above actHigh\[0\] = 0/);
  t.end();
});

void t.test('loadModelCard: missing file and bad JSON are E_MODEL with the path', async (t) => {
  const dir = t.testdir({ 'model.json': '{ nope' });
  await t.rejects(loadModelCard(dir), { code: 'E_MODEL', message: /model\.json: not valid JSON/ });
  const empty = join(dir, 'empty');
  await mkdir(empty);
  await t.rejects(loadModelCard(empty), { code: 'E_MODEL', message: /model\.json: cannot read model card: no such file/ });
  await writeFile(join(empty, 'model.json'), JSON.stringify(cardFor()));
  t.equal((await loadModelCard(empty)).robot, 'test-bot');
});
