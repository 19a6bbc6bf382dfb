/**
 * Top-down pictures of what the shield did (`rshield demo`, `rshield inspect`): trajectories
 * coloured by Q_risk with the recovery steps marked, and a Q_risk map of the critic over the
 * plane for the controller's action. Plain SVG with axis ticks, units and a legend.
 */
import type { Scene } from '../../envs/scene.js';

export interface TrajectoryPoint {
  readonly x: number;
  readonly y: number;
  /** Q_risk of the proposed action at this state; NaN where no shield ran. */
  readonly q: number;
  /** The recovery policy (or the fail-safe) chose the action taken from here. */
  readonly recovery: boolean;
  /** Reaching this point violated a constraint. */
  readonly violation: boolean;
}

export interface TrajectoryRun {
  readonly label: string;
  readonly paths: readonly (readonly TrajectoryPoint[])[];
  /** Unshielded runs are drawn as thin grey dashes under the shielded ones. */
  readonly unshielded: boolean;
}

/** Green (0) → yellow (ε) → red (1): below ε the shield lets the controller act. */
export function riskColor(q: number, eps: number): string {
  const t = Math.min(1, Math.max(0, q));
  const lerp = (a: number, b: number, u: number): number => Math.round(a + (b - a) * u);
  const [r, g, b] = t <= eps
    ? [lerp(26, 255, eps === 0 ? 1 : t / eps), lerp(152, 200, eps === 0 ? 1 : t / eps), lerp(80, 40, eps === 0 ? 1 : t / eps)]
    : [lerp(255, 200, (t - eps) / (1 - eps)), lerp(200, 20, (t - eps) / (1 - eps)), lerp(40, 30, (t - eps) / (1 - eps))];
  return `rgb(${r},${g},${b})`;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** Round tick steps (1, 2, 5 × 10^k) giving about `n` ticks over [lo, hi]. */
function ticks(lo: number, hi: number, n = 5): number[] {
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((k) => k * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(10)));
  return out;
}

class Frame {
  readonly parts: string[] = [];
  readonly left = 70;
  readonly top = 40;
  readonly w: number;
  readonly h: number;
  readonly width: number;
  readonly height: number;
  readonly scene: Scene;

  constructor(scene: Scene, title: string, plotWidth = 560) {
    this.scene = scene;
    this.w = plotWidth;
    // Equal scale on both axes: distances on the picture are distances in the workspace.
    this.h = Math.max(120, Math.round((plotWidth * (scene.y[1] - scene.y[0])) / (scene.x[1] - scene.x[0])));
    this.width = this.left + this.w + 230;
    this.height = this.top + this.h + 56;
    this.parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${this.width}" height="${this.height}" viewBox="0 0 ${this.width} ${this.height}" font-family="sans-serif" font-size="12">`);
    this.parts.push(`<rect width="${this.width}" height="${this.height}" fill="white"/>`);
    this.parts.push(`<text x="${this.left}" y="24" font-size="15">${esc(title)}</text>`);
  }

  px(x: number): number {
    return this.left + (this.w * (x - this.scene.x[0])) / (this.scene.x[1] - this.scene.x[0]);
  }

  py(y: number): number {
    return this.top + this.h - (this.h * (y - this.scene.y[0])) / (this.scene.y[1] - this.scene.y[0]);
  }

  /** Axes, constraints and goal, drawn over whatever came before. */
  overlay(): void {
    const s = this.scene;
    const unit = s.unit === '' ? '' : ` (${s.unit})`;
    for (const c of s.constraints) {
      if (c.kind === 'rect') {
        const x0 = this.px(Math.max(c.x[0], s.x[0]));
        const x1 = this.px(Math.min(c.x[1], s.x[1]));
        const y0 = this.py(Math.min(c.y[1], s.y[1]));
        const y1 = this.py(Math.max(c.y[0], s.y[0]));
        if (x1 > x0 && y1 > y0) this.parts.push(`<rect x="${x0.toFixed(1)}" y="${y0.toFixed(1)}" width="${(x1 - x0).toFixed(1)}" height="${(y1 - y0).toFixed(1)}" fill="#555" fill-opacity="0.55" stroke="#222"/>`);
      } else {
        const r = (this.w * c.r) / (s.x[1] - s.x[0]);
        this.parts.push(`<circle cx="${this.px(c.cx).toFixed(1)}" cy="${this.py(c.cy).toFixed(1)}" r="${r.toFixed(1)}" fill="#555" fill-opacity="0.55" stroke="#222"/>`);
      }
    }
    const gr = Math.max(4, (this.w * s.goalRadius) / (s.x[1] - s.x[0]));
    this.parts.push(`<circle cx="${this.px(s.goal[0]).toFixed(1)}" cy="${this.py(s.goal[1]).toFixed(1)}" r="${gr.toFixed(1)}" fill="none" stroke="#1f77b4" stroke-width="2"/>`);
    this.parts.push(`<rect x="${this.left}" y="${this.top}" width="${this.w}" height="${this.h}" fill="none" stroke="${s.boundaryIsConstraint ? '#222' : '#999'}" stroke-width="${s.boundaryIsConstraint ? 3 : 1}"/>`);
    for (const v of ticks(s.x[0], s.x[1])) {
      this.parts.push(`<line x1="${this.px(v).toFixed(1)}" x2="${this.px(v).toFixed(1)}" y1="${this.top + this.h}" y2="${this.top + this.h + 5}" stroke="#333"/>`);
      this.parts.push(`<text x="${this.px(v).toFixed(1)}" y="${this.top + this.h + 18}" text-anchor="middle">${v}</text>`);
    }
    for (const v of ticks(s.y[0], s.y[1])) {
      this.parts.push(`<line x1="${this.left - 5}" x2="${this.left}" y1="${this.py(v).toFixed(1)}" y2="${this.py(v).toFixed(1)}" stroke="#333"/>`);
      this.parts.push(`<text x="${this.left - 8}" y="${this.py(v).toFixed(1)}" text-anchor="end" dominant-baseline="middle">${v}</text>`);
    }
    this.parts.push(`<text x="${this.left + this.w / 2}" y="${this.top + this.h + 36}" text-anchor="middle">${esc(s.axes[0] + unit)}</text>`);
    this.parts.push(`<text x="16" y="${this.top + this.h / 2}" text-anchor="middle" transform="rotate(-90 16 ${this.top + this.h / 2})">${esc(s.axes[1] + unit)}</text>`);
    if (s.note !== undefined) this.parts.push(`<text x="${this.left}" y="${this.height - 6}" font-size="10" fill="#555">${esc(s.note)}</text>`);
  }

  legend(items: readonly string[]): void {
    items.forEach((svg, i) => this.parts.push(`<g transform="translate(${this.left + this.w + 16}, ${this.top + 8 + 20 * i})">${svg}</g>`));
  }

  /** A vertical Q_risk colour bar with ε marked. */
  colorBar(eps: number, at: number): void {
    const x = this.left + this.w + 16;
    const y0 = this.top + at;
    const hh = Math.min(160, this.h - at);
    for (let k = 0; k < 40; k++) {
      const q = 1 - k / 40;
      this.parts.push(`<rect x="${x}" y="${(y0 + (hh * k) / 40).toFixed(1)}" width="14" height="${(hh / 40 + 0.5).toFixed(1)}" fill="${riskColor(q, eps)}"/>`);
    }
    for (const q of [0, eps, 1]) this.parts.push(`<text x="${x + 20}" y="${(y0 + hh * (1 - q)).toFixed(1)}" dominant-baseline="middle">${q === eps ? `ε_risk ${eps}` : q}</text>`);
    this.parts.push(`<text x="${x}" y="${y0 - 14}">Q_risk</text>`);
  }

  svg(): string {
    return `${this.parts.join('\n')}\n</svg>\n`;
  }
}

const swatch = (line: string, label: string): string => `${line}<text x="30" y="4" dominant-baseline="middle">${esc(label)}</text>`;

/** Unshielded and shielded paths of the same episodes; shielded segments coloured by Q_risk. */
export function trajectoryPlotSvg(scene: Scene, title: string, runs: readonly TrajectoryRun[], eps: number): string {
  const f = new Frame(scene, title);
  for (const run of runs.filter((r) => r.unshielded)) {
    for (const p of run.paths) {
      const pts = p.map((q) => `${f.px(q.x).toFixed(1)},${f.py(q.y).toFixed(1)}`).join(' ');
      f.parts.push(`<polyline fill="none" stroke="#888" stroke-width="1" stroke-dasharray="4 3" points="${pts}"/>`);
    }
  }
  for (const run of runs.filter((r) => !r.unshielded)) {
    for (const p of run.paths) {
      for (let i = 1; i < p.length; i++) {
        const a = p[i - 1]!;
        const b = p[i]!;
        f.parts.push(`<line x1="${f.px(a.x).toFixed(1)}" y1="${f.py(a.y).toFixed(1)}" x2="${f.px(b.x).toFixed(1)}" y2="${f.py(b.y).toFixed(1)}" stroke="${riskColor(a.q, eps)}" stroke-width="2"/>`);
      }
      for (const q of p.filter((q) => q.recovery)) f.parts.push(`<circle cx="${f.px(q.x).toFixed(1)}" cy="${f.py(q.y).toFixed(1)}" r="3" fill="none" stroke="#000"/>`);
    }
  }
  for (const run of runs) {
    for (const q of run.paths.flat().filter((q) => q.violation)) {
      const x = f.px(q.x);
      const y = f.py(q.y);
      f.parts.push(`<path d="M${(x - 4).toFixed(1)},${(y - 4).toFixed(1)}L${(x + 4).toFixed(1)},${(y + 4).toFixed(1)}M${(x - 4).toFixed(1)},${(y + 4).toFixed(1)}L${(x + 4).toFixed(1)},${(y - 4).toFixed(1)}" stroke="${run.unshielded ? '#888' : '#d62728'}" stroke-width="2"/>`);
    }
  }
  f.overlay();
  f.legend([
    swatch('<line x1="0" x2="24" y1="4" y2="4" stroke="#888" stroke-dasharray="4 3"/>', 'unshielded path'),
    swatch('<line x1="0" x2="24" y1="4" y2="4" stroke="rgb(26,152,80)" stroke-width="2"/>', 'shielded path'),
    swatch('<circle cx="12" cy="4" r="3" fill="none" stroke="#000"/>', 'recovery took over'),
    swatch('<path d="M8,0L16,8M8,8L16,0" stroke="#d62728" stroke-width="2"/>', 'violation'),
    swatch('<rect x="4" y="-2" width="16" height="12" fill="#555" fill-opacity="0.55" stroke="#222"/>', 'constraint'),
    swatch('<circle cx="12" cy="4" r="5" fill="none" stroke="#1f77b4" stroke-width="2"/>', 'goal'),
  ]);
  f.colorBar(eps, 150);
  return f.svg();
}

/** Q_risk of the critic on an nx × ny grid over the plane (row-major from the bottom-left cell). */
export function riskMapSvg(scene: Scene, title: string, grid: { readonly nx: number; readonly ny: number; readonly q: ArrayLike<number> }, eps: number): string {
  const f = new Frame(scene, title);
  const cw = f.w / grid.nx;
  const ch = f.h / grid.ny;
  for (let j = 0; j < grid.ny; j++) {
    for (let i = 0; i < grid.nx; i++) {
      const q = grid.q[j * grid.nx + i] ?? 0;
      f.parts.push(`<rect x="${(f.left + i * cw).toFixed(1)}" y="${(f.top + f.h - (j + 1) * ch).toFixed(1)}" width="${(cw + 0.3).toFixed(1)}" height="${(ch + 0.3).toFixed(1)}" fill="${riskColor(q, eps)}"/>`);
    }
  }
  f.overlay();
  f.legend([
    swatch('<rect x="4" y="-2" width="16" height="12" fill="#555" fill-opacity="0.55" stroke="#222"/>', 'constraint'),
    swatch('<circle cx="12" cy="4" r="5" fill="none" stroke="#1f77b4" stroke-width="2"/>', 'goal'),
  ]);
  f.colorBar(eps, 70);
  return f.svg();
}

/** Cell centres of an nx × ny grid over the scene's window, in the order riskMapSvg reads them. */
export function gridPoints(scene: Scene, nx: number, ny: number): [number, number][] {
  const out: [number, number][] = [];
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) out.push([scene.x[0] + ((i + 0.5) * (scene.x[1] - scene.x[0])) / nx, scene.y[0] + ((j + 0.5) * (scene.y[1] - scene.y[0])) / ny]);
  }
  return out;
}
