/**
 * MJCF of Object Extraction (reference §1.5, §1.6), written for this project: a Cartesian
 * gripper (slide x, y, z, hinge z, two finger slides, position servos, gravity compensated)
 * above three standing boxes of half-size 0.015 × 0.03 × 0.12 m and mass 0.5 kg in a row
 * along x, 0.05 m apart (the reference's 0.05 spacing; its boxes are 0.06 wide along the row,
 * so they would overlap: ours stand thin side to thin side with 0.02 m gaps). The middle
 * (red) one is the target. The dynamic variant adds a second gripper, the distractor.
 */
export const EXTRACTION_TIMESTEP = 0.005;
/** Substeps per env step: 40 × 5 ms = 0.2 s (the reference interpolates over 500 × 5 ms). */
export const EXTRACTION_FRAME_SKIP = 40;
export const BLOCK_HALF = [0.015, 0.03, 0.12] as const;
export const BLOCK_SPACING = 0.05;
/** Finger joint travel: 0 is open (fingers 0.05 m from the axis), FINGER_TRAVEL closed onto the axis. */
export const FINGER_TRAVEL = 0.05;
/** Joints of one gripper in qpos order. */
export const GRIPPER_JOINTS = ['x', 'y', 'z', 'yaw', 'f1', 'f2'] as const;

/** A gripper whose x, y, z joints are the palm's world position (the body sits at the origin). */
function gripper(prefix: string, rgba: string): string {
  const j = (n: string): string => `${prefix}${n}`;
  return `    <body name="${j('gripper')}" gravcomp="1">
      <joint name="${j('x')}" type="slide" axis="1 0 0" damping="20"/>
      <joint name="${j('y')}" type="slide" axis="0 1 0" damping="20"/>
      <joint name="${j('z')}" type="slide" axis="0 0 1" damping="20"/>
      <joint name="${j('yaw')}" type="hinge" axis="0 0 1" damping="1"/>
      <geom name="${j('palm')}" type="box" size="0.02 0.065 0.01" mass="0.5" rgba="${rgba}"/>
      <body name="${j('finger1')}" pos="0 0.05 -0.05" gravcomp="1">
        <joint name="${j('f1')}" type="slide" axis="0 -1 0" range="0 ${FINGER_TRAVEL}" limited="true" damping="5"/>
        <geom name="${j('finger1')}" type="box" size="0.008 0.005 0.04" mass="0.05" friction="2 0.01 0.001" rgba="${rgba}"/>
      </body>
      <body name="${j('finger2')}" pos="0 -0.05 -0.05" gravcomp="1">
        <joint name="${j('f2')}" type="slide" axis="0 1 0" range="0 ${FINGER_TRAVEL}" limited="true" damping="5"/>
        <geom name="${j('finger2')}" type="box" size="0.008 0.005 0.04" mass="0.05" friction="2 0.01 0.001" rgba="${rgba}"/>
      </body>
    </body>`;
}

function gripperActuators(prefix: string): string {
  const p = (n: string, kp: number): string => `    <position name="${prefix}${n}" joint="${prefix}${n}" kp="${kp}"/>`;
  return [p('x', 600), p('y', 600), p('z', 600), p('yaw', 20), p('f1', 150), p('f2', 150)].join('\n');
}

export function extractionMjcf(opts: { distractor: boolean }): string {
  const [hx, hy, hz] = BLOCK_HALF;
  const block = (i: number, rgba: string): string => `    <body name="block${i}" pos="${(i - 1) * BLOCK_SPACING} -0.12 ${hz}">
      <freejoint name="block${i}"/>
      <geom name="block${i}" type="box" size="${hx} ${hy} ${hz}" mass="0.5" friction="1 0.005 0.0001" rgba="${rgba}"/>
    </body>`;
  const distractor = opts.distractor ? gripper('d_', '0.35 0.35 0.8 1') : '';
  return `<mujoco model="object-extraction${opts.distractor ? '-dynamic' : ''}">
  <compiler angle="radian"/>
  <option timestep="${EXTRACTION_TIMESTEP}" integrator="implicitfast"/>
  <worldbody>
    <geom name="floor" type="plane" size="0.6 0.6 0.01" rgba="0.9 0.88 0.82 1"/>
${gripper('', '0.25 0.25 0.25 1')}
${block(0, '0.8 0.75 0.3 1')}
${block(1, '0.85 0.15 0.15 1')}
${block(2, '0.8 0.75 0.3 1')}
${distractor}
  </worldbody>
  <actuator>
${gripperActuators('')}
${opts.distractor ? gripperActuators('d_') : ''}
  </actuator>
</mujoco>
`;
}
