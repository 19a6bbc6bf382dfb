/**
 * Seed for a robot's construction-time parameters (MESA's random B, a random pole length),
 * kept apart from the episode stream so that createEnv({seed: s}).reset() and
 * env.reset(s) give the same episode whatever parameters were drawn.
 */
export function paramSeed(seed: number): number {
  return (seed ^ 0x6a09e667) >>> 0;
}
