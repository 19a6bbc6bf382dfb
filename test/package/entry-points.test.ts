// The package's entry points: `rshield` is the shield, robots, datasets and model cards, and
// loading it pulls in neither MQTT, ROS 2, the trainer nor the CLI (read from the import graph:
// every value import reachable from src/index.ts); the rest has its own subpath export.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Files reachable from `entry` through value imports and re-exports (type-only ones load nothing). */
function reachable(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const todo = [entry];
  while (todo.length > 0) {
    const file = todo.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^(?:import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s+)?'([^']+)'/gms)) {
      if (m[1] !== undefined) continue;
      const spec = m[2]!;
      if (spec.startsWith('.')) todo.push(normalize(join(dirname(file), spec.replace(/\.js$/, '.ts'))));
      else packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
    }
  }
  return { files, packages };
}

void t.test("import 'rshield' loads the shield without MQTT, ROS 2, the trainer or the CLI", async (t) => {
  const { files, packages } = reachable(join(root, 'src', 'index.ts'));
  const layers = new Set([...files].map((f) => relative(join(root, 'src'), f).split('/')[0]!));
  t.ok(files.has(join(root, 'src', 'inference', 'shield.ts')), 'the shield is in');
  for (const layer of ['transport', 'app', 'cli', 'learn']) t.notOk(layers.has(layer), `no ${layer}/ file is loaded`);
  for (const pkg of ['mqtt', 'rclnodejs', 'ws', '@foxglove/ws-protocol']) t.notOk(packages.has(pkg), `${pkg} is not loaded`);
  const api = await import('../../src/index.js');
  t.equal(typeof api.Shield.load, 'function');
  t.equal(typeof api.createEnv, 'function');
  t.equal(typeof api.readDataset, 'function');
});

void t.test('every subpath export names a source entry point that exports what the docs use', async (t) => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, string | { default: string }> };
  const entries = Object.entries(pkg.exports).filter(([k]) => k !== './package.json');
  t.same(entries.map(([k]) => k).sort(), ['.', './mqtt', './nn', './ros2']);
  for (const [key, target] of entries) {
    const js = typeof target === 'string' ? target : target.default;
    const src = join(root, js.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts'));
    t.ok(existsSync(src), `${key} → ${relative(root, src)}`);
  }
  const mqtt = await import('../../src/mqtt.js');
  t.equal(typeof mqtt.MqttTransport, 'function', 'rshield/mqtt: MqttTransport');
  t.equal(typeof mqtt.TrainerNode, 'function', 'rshield/mqtt: TrainerNode');
  const ros2 = await import('../../src/ros2.js');
  t.equal(typeof ros2.runRos2Shield, 'function', 'rshield/ros2: runRos2Shield');
  const nn = await import('../../src/nn.js');
  t.equal(typeof nn.GraphBuilder, 'function', 'rshield/nn: GraphBuilder');
});
