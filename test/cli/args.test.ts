import t from 'tap';
import { intOption, numberOption, parseCommandArgs } from '../../src/cli/args.js';

const table = { steps: { type: 'string' }, json: { type: 'boolean' } } as const;

void t.test('usage errors name the option and say what to do', async (t) => {
  t.throws(() => parseCommandArgs('train', ['--nope'], table), { code: 'E_USAGE', message: /Unknown option '--nope'.*\(see rshield train --help\)$/ });
  t.throws(() => parseCommandArgs('train', ['--steps', '-3'], table), {
    code: 'E_USAGE',
    message: "--steps takes a value; a value that starts with '-' is written --steps=VALUE (see rshield train --help)",
  });
  t.same(parseCommandArgs('train', ['--steps=-3', 'x'], table), { values: { steps: '-3' }, positionals: ['x'] });
  t.throws(() => intOption('steps', '2.5', 1, 1), { code: 'E_USAGE', message: "--steps must be an integer ≥ 1, got '2.5'" });
  t.throws(() => numberOption('eps', 'abc', 0), { code: 'E_USAGE', message: "--eps must be a number, got 'abc'" });
  t.equal(intOption('steps', undefined, 7, 1), 7);
  t.equal(numberOption('eps', '-0.5', 0), -0.5);
});
