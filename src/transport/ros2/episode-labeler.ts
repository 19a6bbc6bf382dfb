import type { RobotProfile } from '../../config/profile.js';
import type { Transition } from '../../core/types.js';
import { ConstraintLabeler } from './constraints.js';

/** Where labelled transitions go: a TransitionWriter (MCAP), dataset columns, the online link. */
export interface TransitionSink {
  /** `t` and its arrays are reused by the next write: copy what you keep. */
  write(t: Transition, logTimeNs: bigint): void;
  readonly count: number;
}

export interface EpisodeLabelerOptions {
  readonly sink: TransitionSink;
  readonly constraints: RobotProfile['constraints'];
  /** Log time of the transition being written, ns since the epoch. */
  readonly nowNs: () => bigint;
  /** Label from the start, without waiting for 'start'. */
  readonly autostart?: boolean;
  readonly log?: (line: string) => void;
}

/**
 * Turns a stream of executed ticks of a 3-D tip (obs = measured tip, a = executed step) into
 * transitions (s, a, c, s', done), as `rshield record` does live and as a ROS bag of the
 * robot's topics is read back (`bag-dataset.ts`). c = C(s') from the profile's constraint
 * spec; a violation ends the episode (Recovery RL, thesis ch. 3) and the next begins once the
 * tip is out of violation again; 'start' / 'stop' open and close episodes; a hold breaks the
 * (s, a, s') chain, since the arm did not execute a.
 */
export class EpisodeLabeler {
  readonly #sink: TransitionSink;
  readonly #constraints: ConstraintLabeler;
  readonly #nowNs: () => bigint;
  readonly #log: (line: string) => void;
  #recording: boolean;
  #episode = 0;
  #step = 0;
  #hasPending = false;
  readonly #obs = new Float32Array(3);
  readonly #act = new Float32Array(3);
  readonly #nextObs = new Float32Array(3);
  readonly #nextAct = new Float32Array(3);
  readonly #latest = new Float32Array(3);
  /** The one row handed to the sink, overwritten by each write (a tick allocates nothing here). */
  readonly #row: { -readonly [K in keyof Transition]: Transition[K] } = {
    obs: this.#obs, act: this.#act, cost: 0, nextObs: this.#nextObs, done: false, episode: 0, step: 0, nextAct: undefined,
  };
  violations = 0;

  constructor(opts: EpisodeLabelerOptions) {
    this.#sink = opts.sink;
    this.#constraints = new ConstraintLabeler(opts.constraints);
    this.#nowNs = opts.nowNs;
    this.#recording = opts.autostart ?? false;
    this.#log = opts.log ?? (() => undefined);
  }

  /** Episodes closed so far (the id of the open one). */
  get episodes(): number {
    return this.#episode;
  }

  get transitionCount(): number {
    return this.#sink.count;
  }

  /** The latest measured tip: s' of an episode closed by 'stop'. */
  state(x: number, y: number, z: number): void {
    this.#latest[0] = x;
    this.#latest[1] = y;
    this.#latest[2] = z;
  }

  /** 'start' opens an episode (closing an open one), 'stop' closes it; anything else is ignored. */
  episode(command: string): void {
    if (command === 'start') {
      if (this.#recording) this.#endEpisode();
      this.#recording = true;
      this.#log(`episode ${this.#episode} started`);
    } else if (command === 'stop') {
      this.#endEpisode();
      this.#recording = false;
      this.#log(`stopped; ${this.#sink.count} transitions, ${this.violations} violations so far`);
    }
  }

  hold(): void {
    this.#hasPending = false;
  }

  /** One executed tick: the tip was at `obs` and the arm was sent `obs + executed`. */
  tick(obs: ArrayLike<number>, executed: ArrayLike<number>): void {
    if (!this.#recording) return;
    const violated = this.#constraints.violated(obs[0]!, obs[1]!, obs[2]!);
    if (this.#hasPending) {
      this.#nextObs.set(obs);
      this.#nextAct.set(executed);
      this.#write(violated !== null, true);
      if (violated !== null) {
        this.violations++;
        this.#log(`violation (${violated}) ends episode ${this.#episode}`);
        this.#episode++;
        this.#step = 0;
        this.#hasPending = false;
        return;
      }
    } else if (violated !== null) {
      return; // wait until the tip is out of violation to begin an episode
    }
    this.#obs.set(obs);
    this.#act.set(executed);
    this.#hasPending = true;
  }

  /** Ends the open episode (its pending step ends at the latest measured state). */
  finish(): void {
    this.#endEpisode();
  }

  #endEpisode(): void {
    if (this.#hasPending) {
      this.#nextObs.set(this.#latest);
      const c = this.#constraints.violated(this.#latest[0]!, this.#latest[1]!, this.#latest[2]!) !== null;
      if (c) this.violations++;
      this.#write(c, false, true);
    }
    if (this.#step > 0) this.#episode++;
    this.#step = 0;
    this.#hasPending = false;
  }

  #write(cost: boolean, withNextAct: boolean, forceDone = false): void {
    const r = this.#row;
    r.cost = cost ? 1 : 0;
    r.done = cost || forceDone;
    r.episode = this.#episode;
    r.step = this.#step++;
    r.nextAct = withNextAct && !cost ? this.#nextAct : undefined;
    this.#sink.write(r, this.#nowNs());
  }
}
