/**
 * A Lagrange multiplier learned in log space, as the reference's LR and RCPO baselines do
 * (notes §4): Adam on L = log ν·(ε − Q_risk) with Q_risk held fixed, so ν grows while the
 * measured risk exceeds ε and shrinks while it stays below. One scalar: plain JavaScript.
 */
export class DualVariable {
  #logValue: number;
  #m = 0;
  #v = 0;
  #t = 0;

  constructor(
    initial: number,
    private readonly lr: number,
    private readonly epsRisk: number,
  ) {
    if (!(initial > 0)) throw new RangeError(`a multiplier starts > 0, got ${initial}`);
    this.#logValue = Math.log(initial);
  }

  get value(): number {
    return Math.exp(this.#logValue);
  }

  /** One Adam step (β 0.9, 0.999) on dL/d log ν = ε − risk. */
  update(risk: number): void {
    if (!Number.isFinite(risk)) return;
    const grad = this.epsRisk - risk;
    this.#t++;
    this.#m = 0.9 * this.#m + 0.1 * grad;
    this.#v = 0.999 * this.#v + 0.001 * grad * grad;
    const mHat = this.#m / (1 - 0.9 ** this.#t);
    const vHat = this.#v / (1 - 0.999 ** this.#t);
    this.#logValue -= (this.lr * mHat) / (Math.sqrt(vHat) + 1e-8);
  }
}
