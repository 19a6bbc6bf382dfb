// `rshield trainer` option checks that fail before anything starts.
import t from 'tap';
import { trainer } from '../../src/cli/commands/trainer.js';

const base = ['--robot', 'nav1', '--data', 'x.mcap', '--broker', 'mqtt://127.0.0.1:1'];

void t.test('--adapt-on-drift and --adapt-steps are checked up front', async (t) => {
  await t.rejects(trainer([...base, '--adapt-on-drift', '0']), /--adapt-on-drift must be an integer ≥ 1, got '0'/);
  await t.rejects(trainer([...base, '--adapt-on-drift', '200000']), /--adapt-on-drift must be at most 100000 transitions, got 200000/);
  await t.rejects(trainer([...base, '--adapt-steps', '50']), /--adapt-steps needs --adapt-on-drift N/);
  await t.rejects(trainer([...base, '--adapt-on-drift', '300', '--adapt-steps', 'x']), /--adapt-steps must be an integer ≥ 1, got 'x'/);
});
