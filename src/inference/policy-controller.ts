/**
 * A learned task policy as the shielded controller: an ONNX model obs [N, obsDim] → action
 * [N, actDim] (its first input and output), such as the SAC policy that `src/learn/sac`
 * exports. ONNX Runtime runs asynchronously, so the loop calls prepare(obs) before act(obs)
 * (src/core/types.ts); the action is clipped to the robot's bounds.
 */
import ort from 'onnxruntime-node';
import { RShieldError } from '../core/errors.js';
import { clampInto } from '../core/decision-rule.js';
import type { Controller, EnvSpec } from '../core/types.js';

export class OnnxPolicyController implements Controller {
  readonly #obs: Float32Array;
  readonly #action: Float32Array;
  readonly #feed: Record<string, ort.Tensor>;
  #ready = false;

  private constructor(
    private readonly session: ort.InferenceSession,
    input: string,
    private readonly output: string,
    private readonly spec: EnvSpec,
    private readonly path: string,
  ) {
    this.#obs = new Float32Array(spec.obsDim);
    this.#action = new Float32Array(spec.actDim);
    this.#feed = { [input]: new ort.Tensor('float32', this.#obs, [1, spec.obsDim]) };
  }

  /** Loads `path` and checks one forward pass gives actDim values for obsDim inputs. */
  static async load(path: string, spec: EnvSpec): Promise<OnnxPolicyController> {
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(path, { intraOpNumThreads: 1 });
    } catch (err) {
      throw new RShieldError('E_MODEL', `--policy ${path}: cannot load ONNX model: ${(err as Error).message}`, { path }, { cause: err });
    }
    const input = session.inputNames[0];
    const output = session.outputNames[0];
    if (input === undefined || output === undefined) {
      await session.release();
      throw new RShieldError('E_MODEL', `--policy ${path}: the model needs an input and an output`, { path });
    }
    const c = new OnnxPolicyController(session, input, output, spec, path);
    try {
      await c.prepare(new Float32Array(spec.obsDim));
    } catch (err) {
      await session.release();
      throw err;
    }
    return c;
  }

  async prepare(obs: Float32Array): Promise<void> {
    this.#ready = false;
    this.#obs.set(obs);
    let values: unknown;
    try {
      values = (await this.session.run(this.#feed))[this.output]?.data;
    } catch (err) {
      throw new RShieldError('E_MODEL', `--policy ${this.path}: inference failed for obs of ${this.spec.obsDim} values: ${(err as Error).message}`, { path: this.path }, { cause: err });
    }
    if (!(values instanceof Float32Array) || values.length !== this.spec.actDim) {
      const n = values instanceof Float32Array ? values.length : 0;
      throw new RShieldError('E_MODEL', `--policy ${this.path}: output '${this.output}' has ${n} values, robot ${this.spec.name} has actDim ${this.spec.actDim}`, { path: this.path });
    }
    clampInto(this.#action, values, this.spec.actLow, this.spec.actHigh);
    this.#ready = true;
  }

  /** The action prepared for `obs` (an array owned by the controller). */
  act(obs: Float32Array): Float32Array {
    if (!this.#ready || obs.some((v, i) => v !== this.#obs[i])) {
      throw new RShieldError('E_USAGE', `--policy ${this.path}: act() for an observation prepare() was not called with`);
    }
    return this.#action;
  }

  reset(): void {
    this.#ready = false;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
