// `rshield run --sim --policy FILE.onnx`: the shield in front of a learned (SAC) task policy.
import t from 'tap';
import { join } from 'node:path';
import { run } from '../../src/cli/commands/run.js';
import { isRShieldError } from '../../src/core/errors.js';
import { SacAgent } from '../../src/learn/sac/sac-agent.js';
import { startBroker } from '../helpers/broker.js';

void t.test('rshield run shields an exported SAC policy tick by tick', async (t) => {
  const broker = await startBroker();
  t.teardown(() => broker.stop());
  const dir = t.testdir({});
  const normalizer = { obsMean: [-10, 0], obsStd: [30, 3], actCenter: [0, 0], actHalfRange: [1, 1] };
  const agent = await SacAgent.create({ obsDim: 2, actDim: 2, normalizer, seed: 1, batch: 8, sizes: { hidden: [16, 16] }, threads: 1 });
  await agent.writePolicy(join(dir, 'sac.onnx'));
  await agent.release();
  const out: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => void out.push(a.join(' '));
  let code: number | string;
  try {
    code = await run(['--robot', 'nav1', '--sim', '--broker', broker.url, '--allow-unsigned', '--ticks', '40', '--rate', '500', '--deadline-us', '50000', '--spool', join(dir, 'spool'), '--policy', join(dir, 'sac.onnx')]);
  } catch (e) {
    code = isRShieldError(e) ? `${e.code} ${e.message}` : String(e);
  } finally {
    console.log = log;
  }
  t.equal(code, 0);
  t.match(out.join('\n'), /stopped after 40 ticks: \d+ interventions, \d+ fail-safes/);
});
