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

void t.test('--dynamics-every and --dynamics-epochs are checked up front', async (t) => {
  const models = ['--robot', 'nav2', '--models', 'no-such-dir', '--broker', 'mqtt://127.0.0.1:1'];
  await t.rejects(trainer([...base, '--dynamics-every', '2']), /--dynamics-every needs --models DIR \(a model trained with --recovery model-based\)/);
  await t.rejects(trainer([...base, '--dynamics-epochs', '2']), /--dynamics-epochs needs --models DIR/);
  await t.rejects(trainer([...models, '--dynamics-every', '0']), /--dynamics-every must be an integer ≥ 1, got '0'/);
  await t.rejects(trainer([...models, '--dynamics-epochs', '1.5']), /--dynamics-epochs must be an integer ≥ 1, got '1.5'/);
});
