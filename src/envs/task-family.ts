/**
 * Task families for MESA (thesis ch. 5; reference notes §6.3): one robot whose dynamics
 * parameters differ from task to task. Training tasks are drawn from a distribution, the test
 * robot is a held-out member (the "changed robot" the critic must adapt to). Parameters are
 * ordinary createEnv options, so a dataset's metadata is enough to rebuild its robot.
 */
import { RShieldError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { CARTPOLE_LENGTH_RANGE } from './cartpole/cartpole-env.js';
import type { EnvOptions } from './options.js';

export interface TaskFamily {
  readonly name: string;
  /** The robot every task of the family is (its registry name). */
  readonly robot: string;
  readonly description: string;
  /** Dynamics parameters of training task `index`, deterministic in (seed, index). */
  train(seed: number, index: number): EnvOptions;
  /** Dynamics parameters of the test robot, deterministic in seed. */
  test(seed: number): EnvOptions;
}

/** A stream per (seed, task) that does not overlap the env's own seeds (Rng is xoshiro-seeded by a mix). */
function taskRng(seed: number, index: number): Rng {
  return new Rng(((seed * 0x9e3779b1) ^ (index * 0x85ebca6b) ^ 0x4d455341) >>> 0);
}

const TEST_INDEX = 0x7fff;
const round = (x: number): number => Number(x.toFixed(4));

/** MESA nav: B = diag(U(0.5, 1.5), U(0.5, 1.5)) per task; the test robot draws its own B (§6.3). */
function navFamily(robot: 'nav1' | 'nav2'): TaskFamily {
  const draw = (rng: Rng): EnvOptions => ({ B: [round(rng.uniform(0.5, 1.5)), round(rng.uniform(0.5, 1.5))] });
  return {
    name: robot,
    robot,
    description: `${robot} with input matrix B = diag(U(0.5, 1.5), U(0.5, 1.5)) per task; the test robot draws its own B`,
    train: (seed, i) => draw(taskRng(seed, i)),
    test: (seed) => draw(taskRng(seed, TEST_INDEX)),
  };
}

/** The dVRK arm's per-axis cable gains: nominal U(0.95, 1.1) and one weakened axis. */
const DVRK_WEAK_RANGE = [0.4, 0.75] as const;
const DVRK_NOMINAL_RANGE = [0.95, 1.1] as const;

const builtIn: readonly TaskFamily[] = [
  navFamily('nav1'),
  navFamily('nav2'),
  {
    name: 'cartpole-length',
    robot: 'cartpole-length',
    description: `cartpole with pole length L ~ U(${CARTPOLE_LENGTH_RANGE.join(', ')}) m per training task; the test pole is 1.0 m`,
    train: (seed, i) => ({ length: round(taskRng(seed, i).uniform(...CARTPOLE_LENGTH_RANGE)) }),
    test: () => ({ length: 1.0 }),
  },
  {
    name: 'dvrk-reacher-weak-axis',
    robot: 'dvrk-reacher',
    description:
      `dVRK reacher whose cable gains are fixed per task: one axis weakened to U(${DVRK_WEAK_RANGE.join(', ')}), ` +
      `the others U(${DVRK_NOMINAL_RANGE.join(', ')}); the test arm has a weak x axis (0.5) and tightened y, z cables (1.25)`,
    train: (seed, i) => {
      const rng = taskRng(seed, i);
      const weak = rng.int(3);
      return { gain: [0, 1, 2].map((k) => round(k === weak ? rng.uniform(...DVRK_WEAK_RANGE) : rng.uniform(...DVRK_NOMINAL_RANGE))) };
    },
    test: () => ({ gain: [0.5, 1.25, 1.25] }),
  },
];

const families = new Map<string, TaskFamily>(builtIn.map((f) => [f.name, f]));

/**
 * Adds a family (e.g. halfcheetah-disabled once its robot is registered). A name that exists
 * is refused: a family's tasks must mean the same thing in every dataset that names it.
 */
export function registerTaskFamily(f: TaskFamily): void {
  if (families.has(f.name)) throw new RShieldError('E_CONFIG', `task family '${f.name}' is already registered`, { family: f.name });
  families.set(f.name, f);
}

export function taskFamilyNames(): string[] {
  return [...families.keys()];
}

export function taskFamily(name: string): TaskFamily {
  const f = families.get(name);
  if (f === undefined) {
    throw new RShieldError('E_CONFIG', `unknown task family '${name}' (known: ${taskFamilyNames().join(', ')})`, { family: name, known: taskFamilyNames() });
  }
  return f;
}
