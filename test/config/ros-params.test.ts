import t from 'tap';
import { parseRosParams, ROS_PARAM_DEFAULTS } from '../../src/config/ros-params.js';

void t.test('the defaults validate; the wait parameters default to the library defaults (negative)', (t) => {
  const p = parseRosParams({ ...ROS_PARAM_DEFAULTS }, 'rshield');
  t.equal(p.worker_spin_us, -1);
  t.equal(p.wake_lead_us, -1);
  t.end();
});

void t.test('worker_spin_us and wake_lead_us: taken in range, refused above 1 s with the name and value', (t) => {
  t.equal(parseRosParams({ ...ROS_PARAM_DEFAULTS, worker_spin_us: 1200, wake_lead_us: 200 }, 'rshield').worker_spin_us, 1200);
  t.throws(() => parseRosParams({ ...ROS_PARAM_DEFAULTS, worker_spin_us: 2e6 }, 'rshield'), /ROS parameters of node 'rshield': .*worker_spin_us.*2000000/);
  t.throws(() => parseRosParams({ ...ROS_PARAM_DEFAULTS, wake_lead_us: 'soon' }, 'rshield'), /wake_lead_us/);
  t.end();
});

void t.test('an unknown parameter is refused by name', (t) => {
  t.throws(() => parseRosParams({ ...ROS_PARAM_DEFAULTS, worker_spin: 5 }, 'rshield'), /worker_spin/);
  t.end();
});
