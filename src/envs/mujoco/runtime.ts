import type { MainModule, MjModel } from 'mujoco-js';
import { RShieldError } from '../../core/errors.js';

/** Module name in a variable so bundlers and tsc leave the optional dependency alone. */
const MODULE = 'mujoco-js';
/** Where model files are written in the WebAssembly module's in-memory file system. */
const DIR = '/rshield';

/**
 * The loaded MuJoCo WebAssembly module. It is asynchronous to load (the WebAssembly instance
 * is compiled once per process, ~0.1–0.2 s) while createEnv is synchronous, so commands that
 * may build a MuJoCo robot await loadMujoco() first (the registry's prepareRobot does).
 */
export interface MujocoRuntime {
  readonly mj: MainModule;
  readonly version: string;
  /** Compiles an MJCF document into a model; errors carry MuJoCo's own message. */
  compile(name: string, xml: string): MjModel;
}

let loading: Promise<MujocoRuntime> | undefined;
let loaded: MujocoRuntime | undefined;

/**
 * Imports and instantiates mujoco-js, the optional dependency, once per process. Where it is
 * missing or cannot instantiate, throws ONE clear E_UNAVAILABLE line.
 */
export function loadMujoco(): Promise<MujocoRuntime> {
  loading ??= instantiate().then((rt) => (loaded = rt));
  return loading;
}

/** The runtime loadMujoco() made, for synchronous constructors; E_UNAVAILABLE before it. */
export function mujocoRuntime(robot: string): MujocoRuntime {
  if (loaded === undefined) {
    throw new RShieldError(
      'E_UNAVAILABLE',
      `${robot}: the MuJoCo runtime is not loaded; await prepareRobot('${robot}') (or loadMujoco()) before createEnv — rshield's commands do`,
      { robot },
    );
  }
  return loaded;
}

/** Instantiates a MuJoCo module by package name: mujoco-js, or another build a test names. */
export async function instantiate(moduleName = MODULE): Promise<MujocoRuntime> {
  // MuJoCo reports XML and compile errors through the module's stderr: keep the last lines so
  // that an error names what MuJoCo said instead of printing it out of band.
  const said: string[] = [];
  const printErr = (line: string): void => {
    said.push(line);
    if (said.length > 20) said.shift();
  };
  let mj: MainModule;
  try {
    const mod = (await import(moduleName)) as { default: (o?: unknown) => Promise<MainModule> };
    mj = await mod.default({ printErr, print: printErr });
    if (typeof mj.mj_step !== 'function' || typeof mj.MjModel?.loadFromXML !== 'function') {
      throw new Error('module does not look like mujoco-js (no mj_step / MjModel.loadFromXML)');
    }
  } catch (err) {
    const why = ((err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '').replace(/ imported from .*/, '');
    throw new RShieldError(
      'E_UNAVAILABLE',
      `MuJoCo robots unavailable: cannot load ${moduleName} (${why}); install the optional dependency with \`npm install mujoco-js\``,
      {},
      { cause: err },
    );
  }
  mj.FS.mkdir(DIR);
  mj.FS.mount(mj.MEMFS, { root: '.' }, DIR);
  let serial = 0;
  return {
    mj,
    version: mj.mj_versionString(),
    compile(name: string, xml: string): MjModel {
      const path = `${DIR}/${name}-${serial++}.xml`;
      said.length = 0;
      mj.FS.writeFile(path, xml);
      let model: MjModel | undefined;
      let cause: unknown;
      try {
        // Returns no model (not a throw) when the file cannot be parsed.
        model = mj.MjModel.loadFromXML(path);
      } catch (err) {
        cause = err;
      } finally {
        mj.FS.unlink(path);
      }
      if (model === undefined || (model as MjModel | null) === null) {
        // The WebAssembly build throws XML errors as a bare mjXError (no text): name it at least.
        const thrown = cause instanceof Error ? (cause.message ?? '') || `${cause.name} (the WebAssembly build gives no detail)` : 'no model and no message';
        const what = said.filter((l) => l.trim() !== '').join(' ') || thrown;
        throw new RShieldError('E_CONFIG', `${name}: MuJoCo cannot compile the model: ${what}`, { robot: name }, { cause });
      }
      return model;
    },
  };
}
