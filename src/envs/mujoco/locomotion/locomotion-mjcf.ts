/**
 * MJCF of MESA's disabled-robot domains (reference §6.3), written for this project in the
 * usual planar-cheetah and quadruped-ant layouts. One change that makes C(s) a Cartesian
 * region: the cheetah's head is a sphere (radius 0.046 m) and the ant's torso a sphere
 * (radius 0.25 m), so "head (torso) touches the floor" is exactly "its centre is lower than
 * its radius" — what a robot profile's stay-out box can state.
 */
export const HEAD_RADIUS = 0.046;
export const TORSO_RADIUS = 0.25;

export function halfCheetahMjcf(): string {
  const leg = (name: string, pos: string, axis: string, range: string, geom: string): string =>
    `<body name="${name}" pos="${pos}"><joint name="${name}" type="hinge" axis="${axis}" range="${range}" limited="true" damping="6" stiffness="120" armature="0.1"/>${geom}`;
  return `<mujoco model="halfcheetah-disabled">
  <compiler angle="radian"/>
  <option timestep="0.01" integrator="RK4"/>
  <default><geom contype="1" conaffinity="0" condim="3" friction="0.4 0.1 0.1" rgba="0.8 0.6 0.4 1"/></default>
  <worldbody>
    <geom name="floor" type="plane" size="40 2 0.1" conaffinity="1" rgba="0.85 0.85 0.8 1"/>
    <body name="torso" pos="0 0 0.7">
      <joint name="rootx" type="slide" axis="1 0 0" armature="0" damping="0" limited="false"/>
      <joint name="rootz" type="slide" axis="0 0 1" armature="0" damping="0" limited="false"/>
      <joint name="rooty" type="hinge" axis="0 1 0" armature="0" damping="0" limited="false"/>
      <geom name="torso" type="capsule" fromto="-0.5 0 0 0.5 0 0" size="0.046"/>
      <geom name="head" type="sphere" pos="0.6 0 0.1" size="${HEAD_RADIUS}" rgba="0.85 0.3 0.25 1"/>
      ${leg('bthigh', '-0.5 0 0', '0 1 0', '-0.52 1.05', '<geom type="capsule" pos="0.1 0 -0.13" axisangle="0 1 0 -3.8" size="0.046 0.145"/>')}
        ${leg('bshin', '0.16 0 -0.25', '0 1 0', '-0.785 0.785', '<geom type="capsule" pos="-0.14 0 -0.07" axisangle="0 1 0 -2.03" size="0.046 0.15"/>')}
          ${leg('bfoot', '-0.28 0 -0.14', '0 1 0', '-0.4 0.785', '<geom type="capsule" pos="0.03 0 -0.097" axisangle="0 1 0 -0.27" size="0.046 0.094"/>')}</body>
        </body>
      </body>
      ${leg('fthigh', '0.5 0 0', '0 1 0', '-1 0.7', '<geom type="capsule" pos="-0.07 0 -0.12" axisangle="0 1 0 0.52" size="0.046 0.133"/>')}
        ${leg('fshin', '-0.14 0 -0.24', '0 1 0', '-1.2 0.87', '<geom type="capsule" pos="0.065 0 -0.09" axisangle="0 1 0 -0.6" size="0.046 0.106"/>')}
          ${leg('ffoot', '0.13 0 -0.18', '0 1 0', '-0.5 0.5', '<geom type="capsule" pos="0.045 0 -0.07" axisangle="0 1 0 -0.6" size="0.046 0.07"/>')}</body>
        </body>
      </body>
    </body>
  </worldbody>
  <actuator>
    <motor joint="bthigh" gear="120" ctrlrange="-1 1" ctrllimited="true"/>
    <motor joint="bshin" gear="90" ctrlrange="-1 1" ctrllimited="true"/>
    <motor joint="bfoot" gear="60" ctrlrange="-1 1" ctrllimited="true"/>
    <motor joint="fthigh" gear="120" ctrlrange="-1 1" ctrllimited="true"/>
    <motor joint="fshin" gear="60" ctrlrange="-1 1" ctrllimited="true"/>
    <motor joint="ffoot" gear="30" ctrlrange="-1 1" ctrllimited="true"/>
  </actuator>
</mujoco>
`;
}

/** The ant's legs in the reference's order of actuator pairs (leg k → actuators below). */
export const ANT_LEG_ACTUATORS: readonly (readonly [number, number])[] = [
  [2, 3],
  [4, 5],
  [6, 7],
  [0, 1],
];

export function antMjcf(): string {
  // Legs at 45°, each a hip (hinge about z) and an ankle; geoms named leg<k>_* so a disabled
  // leg's geoms can be found. Leg k's actuators are ANT_LEG_ACTUATORS[k].
  const legs = [
    { k: 3, dx: 1, dy: 1, ankle: '-1 1 0', range: '0.52 1.22' },
    { k: 0, dx: -1, dy: 1, ankle: '1 1 0', range: '-1.22 -0.52' },
    { k: 1, dx: -1, dy: -1, ankle: '-1 1 0', range: '-1.22 -0.52' },
    { k: 2, dx: 1, dy: -1, ankle: '1 1 0', range: '0.52 1.22' },
  ];
  const body = legs
    .map(({ k, dx, dy, ankle, range }) => {
      const a = 0.2 * dx;
      const b = 0.2 * dy;
      return `      <body name="leg${k}" pos="0 0 0">
        <geom name="leg${k}_aux" type="capsule" fromto="0 0 0 ${a} ${b} 0" size="0.08"/>
        <body pos="${a} ${b} 0">
          <joint name="hip${k}" type="hinge" axis="0 0 1" range="-0.52 0.52" limited="true"/>
          <geom name="leg${k}_thigh" type="capsule" fromto="0 0 0 ${a} ${b} 0" size="0.08"/>
          <body pos="${a} ${b} 0">
            <joint name="ankle${k}" type="hinge" axis="${ankle}" range="${range}" limited="true"/>
            <geom name="leg${k}_shin" type="capsule" fromto="0 0 0 ${2 * a} ${2 * b} 0" size="0.08"/>
          </body>
        </body>
      </body>`;
    })
    .join('\n');
  // Actuator order 0..7 = hip3, ankle3, hip0, ankle0, hip1, ankle1, hip2, ankle2: leg k owns
  // ANT_LEG_ACTUATORS[k] (leg0 → 2, 3; leg1 → 4, 5; leg2 → 6, 7; leg3 → 0, 1), as the reference.
  const motors = [3, 0, 1, 2].flatMap((k) => [`hip${k}`, `ankle${k}`]).map((j) => `    <motor joint="${j}" gear="150" ctrlrange="-1 1" ctrllimited="true"/>`).join('\n');
  return `<mujoco model="ant-disabled">
  <compiler angle="radian"/>
  <option timestep="0.01" integrator="RK4"/>
  <default>
    <joint damping="1" armature="1"/>
    <geom contype="1" conaffinity="0" condim="3" friction="1 0.5 0.5" density="5" rgba="0.8 0.6 0.4 1"/>
  </default>
  <worldbody>
    <geom name="floor" type="plane" size="40 40 0.1" conaffinity="1" rgba="0.85 0.85 0.8 1"/>
    <body name="torso" pos="0 0 0.75">
      <freejoint name="root"/>
      <geom name="torso_geom" type="sphere" size="${TORSO_RADIUS}" rgba="0.85 0.3 0.25 1"/>
${body}
    </body>
  </worldbody>
  <actuator>
${motors}
  </actuator>
</mujoco>
`;
}
