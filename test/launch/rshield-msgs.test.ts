// The rshield_msgs interface package (ros2/rshield_msgs): its .msg files are the schema texts
// rshield writes into MCAP (so they never drift), and, where ROS 2, colcon and Fast-CDR's
// headers are installed, colcon builds it and with it sourced `ros2 topic echo` decodes a
// played `rshield demo` recording's transitions.
import t from 'tap';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { packageRoot } from '../../src/config/profile.js';
import { TRANSITION_SCHEMA_TEXT } from '../../src/data/transition-message.js';
import { DECISION_SCHEMA_TEXT } from '../../src/cli/demo/recording.js';
import { runCli } from '../helpers/cli.js';

const run = promisify(execFile);
const pkg = join(packageRoot(), 'ros2', 'rshield_msgs');
const onPath = (bin: string): boolean => (process.env['PATH'] ?? '').split(delimiter).some((d) => existsSync(join(d, bin)));
const skip = process.env['ROS_DISTRO'] === undefined ? 'no ROS 2 sourced'
  : !onPath('colcon') ? 'colcon not installed (apt-get install colcon python3-colcon-ros python3-colcon-cmake)'
  : !existsSync('/usr/include/fastcdr') ? 'Fast-CDR headers not installed (apt-get install libfastcdr-dev build-essential python3-dev python3-numpy)'
  : false;

void t.test('the .msg files are the schemas rshield writes', (t) => {
  t.equal(readFileSync(join(pkg, 'msg', 'Transition.msg'), 'utf8'), TRANSITION_SCHEMA_TEXT, 'rshield_msgs/msg/Transition');
  t.equal(readFileSync(join(pkg, 'msg', 'Decision.msg'), 'utf8'), DECISION_SCHEMA_TEXT, 'rshield_msgs/msg/Decision');
  t.end();
});

void t.test('colcon builds rshield_msgs; ros2 topic echo decodes a played demo recording', { skip, timeout: 300_000 }, async (t) => {
  const ws = mkdtempSync(join(tmpdir(), 'rshield-msgs-'));
  // The system Python: CMake's Python discovery must not pick a version manager's shim.
  await run('colcon', ['--log-base', join(ws, 'log'), 'build', '--base-paths', pkg, '--build-base', join(ws, 'build'), '--install-base', join(ws, 'install'),
    '--cmake-args', '-DPython3_EXECUTABLE=/usr/bin/python3', '-DPYTHON_EXECUTABLE=/usr/bin/python3'], { timeout: 240_000, maxBuffer: 64 * 1024 * 1024 });
  const prefix = join(ws, 'install', 'rshield_msgs');
  const env = {
    ...process.env,
    AMENT_PREFIX_PATH: `${prefix}${delimiter}${process.env['AMENT_PREFIX_PATH'] ?? ''}`,
    LD_LIBRARY_PATH: `${join(prefix, 'lib')}${delimiter}${process.env['LD_LIBRARY_PATH'] ?? ''}`,
    PYTHONPATH: `${join(prefix, 'local', 'lib', 'python3.11', 'dist-packages')}${delimiter}${process.env['PYTHONPATH'] ?? ''}`,
    ROS_DOMAIN_ID: String(40 + (process.pid % 50)),
  };
  t.match((await run('ros2', ['interface', 'show', 'rshield_msgs/msg/Transition'], { env })).stdout, /float32\[\] obs[\s\S]*bool has_next_act/);
  const out = join(ws, 'demo');
  t.equal((await runCli(t, 'demo', '--episodes', '2', '--out', out)).code, 0);
  const echo = spawn('ros2', ['topic', 'echo', '--once', '/rshield/transitions', 'rshield_msgs/msg/Transition'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let echoed = '';
  let echoErr = '';
  echo.stdout.on('data', (b: Buffer) => (echoed += b.toString()));
  echo.stderr.on('data', (b: Buffer) => (echoErr += b.toString()));
  const echoDone = new Promise<void>((resolve) => echo.on('close', () => resolve()));
  t.teardown(() => echo.kill('SIGINT'));
  // Played in a loop until the echo has one: discovery may take a while on a loaded machine.
  const play = spawn('ros2', ['bag', 'play', '--loop', join(out, 'shielded.mcap')], { env, stdio: 'ignore' });
  t.teardown(() => play.kill('SIGINT'));
  await Promise.race([echoDone, new Promise((r) => setTimeout(r, 60_000))]);
  play.kill('SIGINT');
  t.match(echoed, /obs:[\s\S]*cost: [01]\.0[\s\S]*episode: \d+[\s\S]*has_next_act: (true|false)/, `a transition decoded by ROS 2 from the recording${echoed === '' ? ` (echo said: ${echoErr.slice(-500)})` : ''}`);
});
