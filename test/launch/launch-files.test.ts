// Launch files parse, and every file, launch argument, CLI option and ROS parameter they name exists.
import t, { type Test } from 'tap';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { parse as parseYaml } from 'yaml';
import { main } from '../../src/cli/main.js';
import { packageRoot } from '../../src/config/profile.js';
import { ROS_PARAM_DEFAULTS } from '../../src/config/ros-params.js';
import { robotNames } from '../../src/envs/index.js';

const root = packageRoot();
const launchDir = join(root, 'launch');
const xmlFiles = readdirSync(launchDir).filter((f) => f.endsWith('.launch.xml'));
const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => ['arg', 'executable', 'node', 'remap', 'param'].includes(name) });

const HUMBLE_EXECUTABLE_ATTRS = ['cmd', 'cwd', 'name', 'launch-prefix', 'output', 'respawn', 'respawn_delay', 'shell', 'env', 'if', 'unless'];

interface LaunchDoc {
  launch: { arg?: { name: string; default?: string }[]; executable?: ({ cmd: string; cwd?: string } & Record<string, string>)[]; node?: { pkg: string; exec: string; remap?: { from: string; to: string }[] }[] };
}

/** Substitutes $(dirname) and $(var x) (from defaults) as ros2 launch would. */
function substitute(s: string, file: string, args: Map<string, string>): string {
  // Argument defaults may hold substitutions themselves: expand until nothing changes.
  for (let prev = ''; prev !== s; ) {
    prev = s;
    s = s.replace(/\$\(var ([a-z_]+)\)/g, (_, n: string) => args.get(n) ?? `<undeclared ${n}>`).replace(/\$\(dirname\)/g, dirname(file));
  }
  return s;
}

/** What a CLI command's --help says (its options), or undefined where the command is still a placeholder. */
async function helpOf(command: string, transport: string | undefined): Promise<string | undefined> {
  const out: string[] = [];
  const log = console.log;
  const err = console.error;
  console.log = (s: string) => out.push(s);
  console.error = () => undefined;
  try {
    return (await main([command, ...(transport !== undefined ? ['--transport', transport] : []), '--help'])) === 0 ? out.join('\n') : undefined;
  } finally {
    console.log = log;
    console.error = err;
  }
}

function checkPath(t: Test, p: string, what: string): void {
  const rel = relative(root, normalize(p));
  if (rel.startsWith('models/')) {
    // Models are trained artefacts; the folder must at least be named after a robot.
    t.ok(robotNames.includes(rel.split('/')[1] ?? ''), `${what}: ${rel} is a robot's model folder`);
  } else {
    t.ok(existsSync(p), `${what}: ${rel} exists`);
  }
}

void t.test('the expected launch files exist', (t) => {
  for (const f of ['shield.launch.xml', 'shield.launch.py', 'record_demos.launch.xml', 'trainer.launch.xml', 'sim.launch.xml']) {
    t.ok(existsSync(join(launchDir, f)), f);
  }
  t.end();
});

for (const name of xmlFiles) {
  void t.test(`${name}: parses, and everything it names exists`, async (t) => {
    const file = join(launchDir, name);
    const text = readFileSync(file, 'utf8');
    t.equal(XMLValidator.validate(text), true, 'well-formed XML');
    const doc = parser.parse(text) as LaunchDoc;
    t.ok(doc.launch, '<launch> root');
    const args = new Map((doc.launch.arg ?? []).map((a) => [a.name, a.default ?? '']));
    for (const used of text.matchAll(/\$\(var ([a-z_]+)\)/g)) t.ok(args.has(used[1]!), `$(var ${used[1]}) is declared`);
    for (const [argName, def] of args) {
      if (def.includes('$(dirname)')) checkPath(t, substitute(def, file, args), `arg ${argName}`);
    }
    for (const ex of doc.launch.executable ?? []) {
      // Humble's XML frontend rejects any other attribute (launch/actions/execute_process.py parse()).
      for (const attr of Object.keys(ex)) t.ok(HUMBLE_EXECUTABLE_ATTRS.includes(attr), `<executable ${attr}=…> is accepted by Humble's XML frontend`);
      const words = substitute(ex.cmd, file, args).split(/\s+/);
      t.equal(words[0], 'node');
      checkPath(t, words[1]!, 'entry point');
      t.equal(relative(root, words[1]!), join('bin', 'rshield.js'));
      if (ex.cwd !== undefined) checkPath(t, substitute(ex.cwd, file, args), 'cwd');
      const command = words[2]!;
      const rosAt = words.indexOf('--ros-args');
      const appWords = rosAt < 0 ? words.slice(3) : words.slice(3, rosAt);
      const tAt = appWords.indexOf('--transport');
      const help = await helpOf(command, tAt >= 0 ? appWords[tAt + 1] : undefined);
      if (help === undefined) {
        t.ok(['trainer', 'run'].includes(command), `${command} is still a placeholder (its issue is open)`);
      } else {
        for (const opt of appWords.filter((w) => w.startsWith('--'))) t.match(help, new RegExp(`${opt}\\b`), `rshield ${command} ${opt} is a real option`);
      }
      if (rosAt >= 0) {
        const ros = words.slice(rosAt + 1);
        for (let i = 0; i < ros.length; i++) {
          if (ros[i] === '-p') {
            const param = ros[++i]!.split(':=')[0]!;
            t.ok(Object.hasOwn(ROS_PARAM_DEFAULTS, param), `-p ${param} is a declared ROS parameter`);
          } else if (ros[i] === '--params-file') {
            const pf = ros[++i]!;
            checkPath(t, pf, 'params file');
            const y = parseYaml(readFileSync(pf, 'utf8')) as Record<string, { ros__parameters: Record<string, unknown> }>;
            t.same(Object.keys(y), ['/**'], 'params keyed under /** (rclnodejs ignores /ns/node keys)');
            for (const k of Object.keys(y['/**']!.ros__parameters)) t.ok(Object.hasOwn(ROS_PARAM_DEFAULTS, k), `params file key ${k} is a declared ROS parameter`);
          }
        }
      }
    }
    for (const node of doc.launch.node ?? []) {
      for (const r of node.remap ?? []) t.match(substitute(r.to, file, args), /^\/rshield\/PSM\d\/servo_cp$/, "the controller's output goes to the shield's input");
    }
  });
}

void t.test('shield.launch.py is the twin of shield.launch.xml: same arguments, same command, existing paths', (t) => {
  const py = readFileSync(join(launchDir, 'shield.launch.py'), 'utf8');
  const xml = parser.parse(readFileSync(join(launchDir, 'shield.launch.xml'), 'utf8')) as LaunchDoc;
  const pyArgs = [...py.matchAll(/DeclareLaunchArgument\('([a-z_]+)'/g)].map((m) => m[1]);
  t.same(pyArgs.sort(), (xml.launch.arg ?? []).map((a) => a.name).sort());
  for (const m of py.matchAll(/os\.path\.join\(ROOT, ((?:'[^']+'(?:, )?)+)\)/g)) {
    const parts = [...m[1]!.matchAll(/'([^']+)'/g)].map((p) => p[1]!);
    checkPath(t, join(root, ...parts), 'python path');
  }
  for (const p of [...py.matchAll(/'([a-z_]+):='/g)].map((m) => m[1]!)) t.ok(Object.hasOwn(ROS_PARAM_DEFAULTS, p), `-p ${p} declared`);
  t.match(py, /'run', '--transport', 'ros2'/);
  t.end();
});

void t.test('package.xml and CMakeLists.txt make an ament_cmake package named rshield that installs launch/ and hardware/', (t) => {
  const pkg = readFileSync(join(root, 'package.xml'), 'utf8');
  t.equal(XMLValidator.validate(pkg), true);
  const p = (parser.parse(pkg) as { package: { name: string; buildtool_depend: string; export: { build_type: string }; exec_depend: string[] } }).package;
  t.equal(p.name, 'rshield');
  t.equal(p.buildtool_depend, 'ament_cmake');
  t.equal(p.export.build_type, 'ament_cmake');
  for (const dep of ['crtk_msgs', 'geometry_msgs', 'sensor_msgs', 'std_msgs', 'diagnostic_msgs', 'launch_xml']) t.ok(p.exec_depend.includes(dep), `exec_depend ${dep}`);
  const cmake = readFileSync(join(root, 'CMakeLists.txt'), 'utf8');
  t.match(cmake, /project\(rshield NONE\)/);
  t.match(cmake, /install\(DIRECTORY launch hardware bin dist/);
  t.match(cmake, /"\$@"/, 'the wrapper forwards --ros-args');
  t.match(cmake, /ament_package\(\)/);
  t.end();
});
