// Without a loadable rclnodejs (no ROS 2 here), the ROS 2 commands exit with ONE clear line.
import t from 'tap';
import { main } from '../../../src/cli/main.js';
import { runRos2Shield } from '../../../src/app/ros2-shield.js';

async function capture(argv: string[]): Promise<{ code: number; err: string[]; out: string[] }> {
  const err: string[] = [];
  const out: string[] = [];
  const [e, l] = [console.error, console.log];
  console.error = (s: string) => err.push(s);
  console.log = (s: string) => out.push(s);
  try {
    return { code: await main(argv), err, out };
  } finally {
    console.error = e;
    console.log = l;
  }
}

void t.test('sim and record without rclnodejs: one line naming the fix, non-zero exit', { skip: process.env['ROS_DISTRO'] !== undefined && 'ROS 2 is sourced here' }, async (t) => {
  for (const argv of [['sim', '--robot', 'dvrk-reacher', '--transport', 'ros2'], ['record', '--profile', 'psm1', '--out', 'x.mcap']]) {
    const r = await capture(argv);
    t.equal(r.code, 1, `${argv[0]}: exit 1`);
    t.equal(r.err.length, 1, `${argv[0]}: one line`);
    t.match(r.err[0], /cannot load rclnodejs.*source your ROS 2 setup.*npm install rclnodejs/);
    t.notMatch(r.err[0], /\n\s+at /, 'no stack trace');
  }
  await t.rejects(runRos2Shield({ params: { model_dir: 'models/dvrk-reacher' } }), { code: 'E_UNAVAILABLE' }, 'runRos2Shield (rshield run --transport ros2) refuses the same way');
});

void t.test('bad options are one E_USAGE line', async (t) => {
  const r = await capture(['sim', '--robot', 'nav1', '--transport', 'ros2']);
  t.equal(r.code, 2);
  t.match(r.err[0], /'nav1' has no ROS 2 interface/);
  const m = await capture(['sim', '--transport', 'mqtt']);
  t.equal(m.code, 2);
  t.match(m.err[0], /--transport must be ros2/);
  const h = await capture(['record', '--help']);
  t.equal(h.code, 0);
  t.match(h.out.join('\n'), /--out FILE/);
});
