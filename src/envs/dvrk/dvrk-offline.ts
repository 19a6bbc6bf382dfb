import { Rng } from '../../core/rng.js';
import type { RawTransition } from '../raw-transition.js';
import { type EnvOptions } from '../options.js';
import { DvrkReacherEnv } from './dvrk-env.js';
import { dvrkReacherGeometry as G, dvrkReacherViolation } from './geometry.js';

/** Steps per operator rollout; a rollout also ends at its first violation. */
const ROLLOUT_STEPS = 8;
/** Share of rollouts that probe a workspace face instead of the stay-out zone. */
const WALL_SHARE = 0.2;
/**
 * Share of rollouts that are free moves across the workspace at up to full speed. Without them
 * every logged action heads into a constraint and a critic trained on the data rates every
 * action as dangerous, including the controller's fast moves far from the zone.
 */
const FREE_SHARE = 0.4;
const MM = 0.001;

/** Where a rollout starts and the point its operator steers toward. */
interface Approach {
  start: [number, number, number];
  aim: [number, number, number];
  /** Commanded speed, m/step (before the action bound). */
  speed: number;
}

function workspacePoint(rng: Rng, margin: number): [number, number, number] {
  const w = G.workspace;
  return [rng.uniform(w.x[0] + margin, w.x[1] - margin), rng.uniform(w.y[0] + margin, w.y[1] - margin), rng.uniform(w.z[0] + margin, w.z[1] - margin)];
}

/** A free move: from anywhere in the workspace toward another point (half the time the target) at 1–7 mm/step. */
function freeMove(rng: Rng): Approach {
  const start = workspacePoint(rng, 2 * MM);
  const aim = rng.next() < 0.5 ? ([...G.target] as [number, number, number]) : workspacePoint(rng, 0);
  return { start, aim, speed: rng.uniform(1, 7) * MM };
}

/**
 * A point on the outward normal of the zone's side: `offset` metres outside its surface
 * (negative: inside), at azimuth `phi` and height `z`.
 */
function zonePoint(phi: number, z: number, offset: number): [number, number, number] {
  const { center, radius } = G.zone;
  const r = radius + offset;
  return [center[0] + r * Math.cos(phi), center[1] + r * Math.sin(phi), z];
}

function zoneApproach(rng: Rng): Approach {
  // Mostly from the side at a random height and bearing; sometimes down onto the post's top.
  const overshoot = rng.uniform(-5, 1.5) * MM;
  if (rng.next() < 0.2) {
    const { center, radius, z } = G.zone;
    const rho = radius * Math.sqrt(rng.next());
    const phi = rng.uniform(0, 2 * Math.PI);
    const x = center[0] + rho * Math.cos(phi);
    const y = center[1] + rho * Math.sin(phi);
    return { start: [x, y, z[1] + rng.uniform(2, 8) * MM], aim: [x, y, z[1] + overshoot], speed: rng.uniform(0.5, 2) * MM };
  }
  const phi = rng.uniform(0, 2 * Math.PI);
  const z = rng.uniform(G.zone.z[0] + 5 * MM, G.zone.z[1] - 5 * MM);
  return { start: zonePoint(phi, z, rng.uniform(2, 8) * MM), aim: zonePoint(phi, z, overshoot), speed: rng.uniform(0.5, 2) * MM };
}

function wallApproach(rng: Rng): Approach {
  const w = G.workspace;
  const ranges = [w.x, w.y, w.z] as const;
  const p: [number, number, number] = [0, 0, 0];
  for (let i = 0; i < 3; i++) {
    const [lo, hi] = ranges[i] as readonly [number, number];
    p[i] = rng.uniform(lo + 5 * MM, hi - 5 * MM);
  }
  const axis = rng.int(3);
  const high = rng.next() < 0.5;
  const [lo, hi] = ranges[axis] as readonly [number, number];
  const face = high ? hi : lo;
  const inward = high ? -1 : 1;
  const start = [...p] as [number, number, number];
  const aim = [...p] as [number, number, number];
  start[axis] = face + inward * rng.uniform(2, 8) * MM;
  aim[axis] = face + inward * rng.uniform(-5, 1.5) * MM;
  return { start, aim, speed: rng.uniform(0.5, 2) * MM };
}

/**
 * The dvrk-reacher D_offline: a noisy operator. 60% of rollouts probe the constraints slowly:
 * they start 2–8 mm from the stay-out zone (any bearing, any height, or above it) or from a
 * workspace face, and steer at 0.5–2 mm/step toward a point between 1.5 mm short of the
 * boundary and 5 mm past it. 40% are free moves across the workspace at 1–7 mm/step (half of
 * them toward the target), which sometimes cross the zone too. Hand tremor 0.3 mm per axis;
 * at most 8 steps, ending at the first violation. The arm's hidden gains are redrawn for
 * every rollout.
 */
export function* dvrkOffline(n: number, seed: number, params: EnvOptions): Generator<RawTransition> {
  const rng = new Rng(seed);
  const env = new DvrkReacherEnv({ ...params, seed: rng.nextUint32() });
  const act = new Float32Array(3);
  let count = 0;
  for (let episode = 0; count < n; episode++) {
    let a: Approach;
    const kind = rng.next();
    do a = kind < FREE_SHARE ? freeMove(rng) : kind < FREE_SHARE + (1 - FREE_SHARE) * WALL_SHARE ? wallApproach(rng) : zoneApproach(rng);
    while (dvrkReacherViolation(a.start));
    let obs = env.resetAt(a.start);
    const speed = a.speed;
    for (let step = 0; step < ROLLOUT_STEPS && count < n; step++) {
      count++;
      const dx = a.aim[0] - (obs[0] as number);
      const dy = a.aim[1] - (obs[1] as number);
      const dz = a.aim[2] - (obs[2] as number);
      const d = Math.hypot(dx, dy, dz);
      const k = d > speed ? speed / d : 1;
      act[0] = k * dx + 0.3 * MM * rng.normal();
      act[1] = k * dy + 0.3 * MM * rng.normal();
      act[2] = k * dz + 0.3 * MM * rng.normal();
      const r = env.step(act);
      yield { obs, act: Float32Array.from(act), cost: r.violation ? 1 : 0, nextObs: r.obs, done: r.done, episode, step };
      obs = r.obs;
      if (r.violation) break;
    }
  }
}
