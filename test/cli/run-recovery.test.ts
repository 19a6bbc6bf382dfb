import t from 'tap';
import { main } from '../../src/cli/main.js';

void t.test('rshield run --recovery: a bad mode is one line and E_USAGE, before anything connects', async (t) => {
  const error = t.capture(console, 'error');
  const code = await main(['run', '--robot', 'nav2', '--sim', '--broker', 'mqtt://127.0.0.1:1', '--allow-unsigned', '--recovery', 'closest']);
  t.equal(code, 2);
  t.match(error().map((c) => c.args.map(String).join(' ')).join('\n'), /^rshield run: --recovery must be one of policy, nearest-safe, got 'closest'$/);
});

void t.test('rshield run --help lists --recovery', async (t) => {
  const log = t.capture(console, 'log');
  t.equal(await main(['run', '--help']), 0);
  t.match(log().map((c) => c.args.map(String).join(' ')).join('\n'), /--recovery M +policy .* or nearest-safe/);
});
