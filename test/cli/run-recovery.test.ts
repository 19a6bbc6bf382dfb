import t from 'tap';
import { runCli } from '../helpers/cli.js';

void t.test('rshield run --recovery: a bad mode is one line and E_USAGE, before anything connects', async (t) => {
  const r = await runCli(t, 'run', '--robot', 'nav2', '--sim', '--broker', 'mqtt://127.0.0.1:1', '--allow-unsigned', '--recovery', 'closest');
  t.equal(r.code, 2);
  t.match(r.err, /^rshield run: --recovery must be one of policy, nearest-safe, model-based, got 'closest'$/);
});

void t.test('rshield run --help lists --recovery', async (t) => {
  const r = await runCli(t, 'run', '--help');
  t.equal(r.code, 0);
  t.match(r.out, /--recovery M +policy .*, nearest-safe/);
  t.match(r.out, /or model-based/);
});
