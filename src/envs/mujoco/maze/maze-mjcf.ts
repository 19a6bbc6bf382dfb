import { mazeGeometry } from '../../maze/geometry.js';

/** Physics step of the MuJoCo maze; MuJoCo's default, as the reference sets none (§1.3). */
export const MAZE_MUJOCO_TIMESTEP = 0.002;
/** Substeps per env step: 500 × 2 ms = 1 s of pushing, as the reference. */
export const MAZE_MUJOCO_FRAME_SKIP = 500;
/** Height of the tool's centre above the floor; the tool does not touch the floor (see below). */
const TOOL_Z = 0.03;

/**
 * MJCF of the Recovery RL maze (reference §1.3), written from mazeGeometry so that the MuJoCo
 * walls are the kinematic maze's walls: two slide joints (range ±0.3, damping 0.01) carry a
 * cylinder of radius 0.025 and half-height 0.025 at density 1000, pushed by two motors of
 * gear 0.05 (ctrlrange ±3); four boundary planes and the four interior walls as boxes of
 * half-extents 0.005 × 0.2 × 0.02.
 *
 * One change from the reference: the floor has no contacts with the tool (contype 0), so every
 * contact is a violation (the reference counts `ncon > 3`, its 3 cylinder–floor contacts being
 * the baseline) and floor friction cannot eat the 5 mN push.
 */
export function mazeMjcf(): string {
  const g = mazeGeometry;
  const h = g.arenaHalfWidth;
  const r = g.toolRadius;
  const walls = g.walls
    .map((w) => {
      const cx = (w.x[0] + w.x[1]) / 2;
      const cy = (w.y[0] + w.y[1]) / 2;
      const hx = (w.x[1] - w.x[0]) / 2;
      const hy = (w.y[1] - w.y[0]) / 2;
      return `    <geom name="${w.name}" type="box" pos="${cx} ${cy} 0.02" size="${hx} ${hy} 0.02" rgba="0.45 0.45 0.5 1"/>`;
    })
    .join('\n');
  return `<mujoco model="maze-mujoco">
  <compiler angle="radian"/>
  <option timestep="${MAZE_MUJOCO_TIMESTEP}" gravity="0 0 -9.81"/>
  <default>
    <geom contype="1" conaffinity="1" friction="1 0.005 0.0001"/>
  </default>
  <worldbody>
    <geom name="floor" type="plane" size="${h} ${h} 0.01" contype="0" conaffinity="0" rgba="0.92 0.92 0.88 1"/>
    <geom name="bound_xp" type="plane" pos="${h} 0 0" zaxis="-1 0 0" size="${h} 0.04 0.01" rgba="0.3 0.3 0.35 1"/>
    <geom name="bound_xn" type="plane" pos="${-h} 0 0" zaxis="1 0 0" size="${h} 0.04 0.01" rgba="0.3 0.3 0.35 1"/>
    <geom name="bound_yp" type="plane" pos="0 ${h} 0" zaxis="0 -1 0" size="${h} 0.04 0.01" rgba="0.3 0.3 0.35 1"/>
    <geom name="bound_yn" type="plane" pos="0 ${-h} 0" zaxis="0 1 0" size="${h} 0.04 0.01" rgba="0.3 0.3 0.35 1"/>
${walls}
    <site name="goal" type="sphere" pos="${g.goal[0]} ${g.goal[1]} 0.001" size="${g.goalThreshold}" rgba="0.2 0.7 0.3 0.5"/>
    <body name="tool" pos="0 0 ${TOOL_Z}">
      <joint name="x" type="slide" axis="1 0 0" range="${-h} ${h}" limited="true" damping="0.01"/>
      <joint name="y" type="slide" axis="0 1 0" range="${-h} ${h}" limited="true" damping="0.01"/>
      <geom name="tool" type="cylinder" size="${r} 0.025" density="1000" rgba="0.85 0.2 0.2 1"/>
    </body>
  </worldbody>
  <actuator>
    <motor name="fx" joint="x" gear="0.05" ctrlrange="-3 3" ctrllimited="true"/>
    <motor name="fy" joint="y" gear="0.05" ctrlrange="-3 3" ctrllimited="true"/>
  </actuator>
</mujoco>
`;
}
