/** Collecting the paths of a run for trajectoryPlotSvg, and the critic's Q_risk map for riskMapSvg. */
import type { Controller, Transition } from '../../core/types.js';
import type { TickRecord } from '../../core/episode-runner.js';
import type { Scene } from '../../envs/scene.js';
import { criticScores } from '../../inference/critic-scores.js';
import { gridPoints, type TrajectoryPoint } from './scene-plot.js';

type Point = { -readonly [K in keyof TrajectoryPoint]: TrajectoryPoint[K] };

/** Keeps the first `maxEpisodes` episodes' paths: the point at s_t carries Q_risk and source of tick t. */
export class PathCollector {
  readonly paths: Point[][] = [];
  readonly #scene: Scene;
  readonly #max: number;

  constructor(scene: Scene, maxEpisodes: number) {
    this.#scene = scene;
    this.#max = maxEpisodes;
  }

  add(t: Transition, tick: TickRecord): void {
    if (t.episode >= this.#max) return;
    let path = this.paths[t.episode];
    if (path === undefined) {
      const [x, y] = this.#scene.point(t.obs);
      path = [{ x, y, q: Number.NaN, recovery: false, violation: false }];
      this.paths[t.episode] = path;
    }
    const here = path[path.length - 1]!;
    here.q = tick.qRisk;
    here.recovery = tick.source === 'recovery' || tick.source === 'failsafe';
    const [x, y] = this.#scene.point(t.nextObs);
    path.push({ x, y, q: Number.NaN, recovery: false, violation: t.cost > 0 });
  }
}

/** Q_risk(s, a_controller(s)) on an nx × ny grid of the scene's plane. */
export async function riskMap(modelDir: string, scene: Scene, controller: Controller, nx: number, ny: number): Promise<Float32Array> {
  const points = gridPoints(scene, nx, ny);
  const first = scene.observationAt(0, 0);
  const obs = new Float32Array(points.length * first.length);
  let act: Float32Array | undefined;
  for (const [i, [x, y]] of points.entries()) {
    const o = scene.observationAt(x, y);
    obs.set(o, i * o.length);
    controller.reset(0);
    const a = controller.act(o);
    act ??= new Float32Array(points.length * a.length);
    act.set(a, i * a.length);
  }
  return criticScores(modelDir, obs, act ?? new Float32Array(0), points.length);
}

/** Columns of a risk map; rows follow the plane's aspect ratio. */
export const RISK_MAP_CELLS = 60;

export function riskMapRows(scene: Scene): number {
  return Math.max(4, Math.round((RISK_MAP_CELLS * (scene.y[1] - scene.y[0])) / (scene.x[1] - scene.x[0])));
}
