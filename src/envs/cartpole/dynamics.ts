/**
 * Cart-pole physics standing in for MESA's MuJoCo model (env/assets/cartpole.xml, §6.3):
 * gravity 9.81, RK4 with dt 0.02 and frame skip 2, slider and hinge damping 1, motor gear 100
 * (force = 100·a N, a ∈ [-3, 3]), geoms of density 1000. The cart is the capsule r 0.1,
 * half-length 0.1 (10.47 kg); the pole a capsule of radius 0.049 and length L, modelled as a
 * uniform rod (COM at L/2, inertia m·L²/3 about the hinge) with the capsule's mass.
 * θ = 0 is upright; the tip is at (x + L sin θ, L cos θ).
 */
export const cartpoleConstants = {
  gravity: 9.81,
  dt: 0.02,
  frameSkip: 2,
  gear: 100,
  cartMass: 1000 * (Math.PI * 0.1 ** 2 * 0.2 + (4 / 3) * Math.PI * 0.1 ** 3),
  poleRadius: 0.049,
  density: 1000,
  sliderDamping: 1,
  hingeDamping: 1,
  /** The slider joint's range: the cart stops hard at ±2.5 m. */
  railLimit: 2.5,
} as const;

export function poleMass(length: number): number {
  const r = cartpoleConstants.poleRadius;
  return cartpoleConstants.density * (Math.PI * r * r * length + (4 / 3) * Math.PI * r ** 3);
}

/**
 * ds/dt for s = [x, θ, ẋ, θ̇] under cart force F, from the Lagrangian of a cart with a rod:
 *   (M+m)ẍ + m l cosθ θ̈ − m l sinθ θ̇² = F − b_x ẋ
 *   m l cosθ ẍ + I θ̈ − m g l sinθ = −b_θ θ̇        (l = L/2, I = m L²/3)
 */
export function cartpoleDerivative(s: Float64Array, force: number, length: number, m: number, out: Float64Array): void {
  const c = cartpoleConstants;
  const th = s[1] as number;
  const xd = s[2] as number;
  const thd = s[3] as number;
  const l = length / 2;
  const inertia = (m * length * length) / 3;
  const cos = Math.cos(th);
  const sin = Math.sin(th);
  const a11 = c.cartMass + m;
  const a12 = m * l * cos;
  const r1 = force - c.sliderDamping * xd + m * l * sin * thd * thd;
  const r2 = m * c.gravity * l * sin - c.hingeDamping * thd;
  const det = a11 * inertia - a12 * a12;
  out[0] = xd;
  out[1] = thd;
  out[2] = (r1 * inertia - a12 * r2) / det;
  out[3] = (a11 * r2 - a12 * r1) / det;
}

/** Scratch buffers for one RK4 integrator. */
export class CartpoleIntegrator {
  private readonly k1 = new Float64Array(4);
  private readonly k2 = new Float64Array(4);
  private readonly k3 = new Float64Array(4);
  private readonly k4 = new Float64Array(4);
  private readonly tmp = new Float64Array(4);

  constructor(
    private readonly length: number,
    private readonly mass = poleMass(length),
  ) {}

  /** One env step: frameSkip RK4 steps of dt under the held action, then the rail stop. */
  step(s: Float64Array, action: number): void {
    const c = cartpoleConstants;
    const f = c.gear * action;
    const h = c.dt;
    for (let k = 0; k < c.frameSkip; k++) {
      cartpoleDerivative(s, f, this.length, this.mass, this.k1);
      this.axpy(s, h / 2, this.k1);
      cartpoleDerivative(this.tmp, f, this.length, this.mass, this.k2);
      this.axpy(s, h / 2, this.k2);
      cartpoleDerivative(this.tmp, f, this.length, this.mass, this.k3);
      this.axpy(s, h, this.k3);
      cartpoleDerivative(this.tmp, f, this.length, this.mass, this.k4);
      for (let i = 0; i < 4; i++) {
        s[i] =
          (s[i] as number) +
          (h / 6) * ((this.k1[i] as number) + 2 * (this.k2[i] as number) + 2 * (this.k3[i] as number) + (this.k4[i] as number));
      }
      const x = s[0] as number;
      if (Math.abs(x) > c.railLimit) {
        s[0] = Math.sign(x) * c.railLimit;
        if (Math.sign(s[2] as number) === Math.sign(x)) s[2] = 0;
      }
    }
  }

  private axpy(s: Float64Array, h: number, k: Float64Array): void {
    for (let i = 0; i < 4; i++) this.tmp[i] = (s[i] as number) + h * (k[i] as number);
  }
}

/** C(s) of cartpole-length: the pole is below horizontal or the cart is at the rail's end. */
export function cartpoleViolation(x: number, theta: number): boolean {
  return Math.abs(theta) > Math.PI / 2 || Math.abs(x) >= 2.4;
}
