/**
 * Pictures of a MuJoCo robot drawn from its geoms (orthographic, world frame): a top view and
 * a side view next to each other. MuJoCo's WebAssembly build has no OpenGL context in Node,
 * so this is how docs/robots.md shows the MJCF. Boxes and cylinders are drawn as the convex
 * hull of their projected outline, capsules as round-capped strokes, spheres as discs.
 */
import type { GeomView } from '../../envs/mujoco/mujoco-sim.js';

type View = 'top' | 'side';
type P2 = [number, number];

const W = 360;
const H = 300;
const PAD = 24;

/** The world point p of a geom (local coordinates l) projected on the view's plane. */
function project(g: GeomView, l: readonly number[], view: View): P2 {
  const m = g.mat;
  const w = [0, 1, 2].map((r) => (g.pos[r] as number) + (m[3 * r] as number) * (l[0] as number) + (m[3 * r + 1] as number) * (l[1] as number) + (m[3 * r + 2] as number) * (l[2] as number));
  return view === 'top' ? [w[0] as number, w[1] as number] : [w[0] as number, w[2] as number];
}

function hull(points: P2[]): P2[] {
  const p = [...points].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const cross = (o: P2, a: P2, b: P2): number => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const half = (pts: P2[]): P2[] => {
    const out: P2[] = [];
    for (const q of pts) {
      while (out.length >= 2 && cross(out[out.length - 2]!, out[out.length - 1]!, q) <= 0) out.pop();
      out.push(q);
    }
    return out.slice(0, -1);
  };
  return [...half(p), ...half(p.reverse())];
}

function outline(g: GeomView, view: View): P2[] | null {
  const [a, b, c] = g.size;
  if (g.type === 'box') {
    const pts: P2[] = [];
    for (const sx of [-1, 1]) for (const sy of [-1, 1]) for (const sz of [-1, 1]) pts.push(project(g, [sx * a, sy * b, sz * c], view));
    return hull(pts);
  }
  if (g.type === 'cylinder') {
    const pts: P2[] = [];
    for (let k = 0; k < 24; k++) {
      const t = (2 * Math.PI * k) / 24;
      for (const sz of [-1, 1]) pts.push(project(g, [a * Math.cos(t), a * Math.sin(t), sz * b], view));
    }
    return hull(pts);
  }
  return null;
}

const rgb = (c: readonly number[]): string => `rgb(${c.slice(0, 3).map((v) => Math.round(255 * v)).join(',')})`;

/** The bounding window of what is drawn (planes excluded), with a margin. */
function windowOf(geoms: readonly GeomView[], view: View): { x: [number, number]; y: [number, number] } {
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (const g of geoms) {
    if (g.type === 'plane') continue;
    const r = Math.max(...g.size);
    const [px, py] = project(g, [0, 0, 0], view);
    x0 = Math.min(x0, px - r); x1 = Math.max(x1, px + r); y0 = Math.min(y0, py - r); y1 = Math.max(y1, py + r);
  }
  if (view === 'side') y0 = Math.min(y0, -0.02);
  const m = 0.05 * Math.max(x1 - x0, y1 - y0);
  return { x: [x0 - m, x1 + m], y: [y0 - m, y1 + m] };
}

function panel(geoms: readonly GeomView[], view: View, dx: number, win?: { x: [number, number]; y: [number, number] }): string {
  const w = win ?? windowOf(geoms, view);
  const s = Math.min((W - 2 * PAD) / (w.x[1] - w.x[0]), (H - 2 * PAD) / (w.y[1] - w.y[0]));
  const X = (x: number): number => dx + PAD + (x - w.x[0]) * s;
  const Y = (y: number): number => H - PAD - (y - w.y[0]) * s;
  const f = (v: number): string => v.toFixed(1);
  const parts: string[] = [`<clipPath id="clip-${view}"><rect x="${dx}" y="0" width="${W}" height="${H}"/></clipPath>`, `<rect x="${dx}" y="0" width="${W}" height="${H}" fill="#fbfbf8" stroke="#ccc"/>`, `<g clip-path="url(#clip-${view})">`];
  // Side view: paint far to near (larger y first); top view: low to high.
  const order = [...geoms].sort((a, b) => (view === 'top' ? a.pos[2] - b.pos[2] : b.pos[1] - a.pos[1]));
  for (const g of order) {
    const fill = rgb(g.rgba);
    if (g.type === 'plane') {
      const normal = [g.mat[2] as number, g.mat[5] as number, g.mat[8] as number];
      if (view === 'side' && Math.abs(normal[2]!) > 0.9) parts.push(`<line x1="${f(X(w.x[0]))}" y1="${f(Y(g.pos[2]))}" x2="${f(X(w.x[1]))}" y2="${f(Y(g.pos[2]))}" stroke="#888" stroke-width="2"/>`);
      if (view === 'top' && Math.abs(normal[2]!) < 0.1) {
        // A wall plane: a line through its centre, across its normal, as long as its larger size.
        const len = Math.max(g.size[0], g.size[1]);
        const [ux, uy] = [-normal[1]!, normal[0]!];
        const a: P2 = [g.pos[0] - len * ux, g.pos[1] - len * uy];
        const b: P2 = [g.pos[0] + len * ux, g.pos[1] + len * uy];
        parts.push(`<line x1="${f(X(a[0]))}" y1="${f(Y(a[1]))}" x2="${f(X(b[0]))}" y2="${f(Y(b[1]))}" stroke="${fill}" stroke-width="3"/>`);
      }
      continue;
    }
    if (g.type === 'sphere' || g.type === 'ellipsoid') {
      const [cx, cy] = project(g, [0, 0, 0], view);
      parts.push(`<circle cx="${f(X(cx))}" cy="${f(Y(cy))}" r="${f(g.size[0] * s)}" fill="${fill}" stroke="#333" stroke-width="0.5"/>`);
      continue;
    }
    if (g.type === 'capsule') {
      const [a, b] = [project(g, [0, 0, -g.size[1]], view), project(g, [0, 0, g.size[1]], view)];
      parts.push(`<line x1="${f(X(a[0]))}" y1="${f(Y(a[1]))}" x2="${f(X(b[0]))}" y2="${f(Y(b[1]))}" stroke="${fill}" stroke-width="${f(2 * g.size[0] * s)}" stroke-linecap="round"/>`);
      continue;
    }
    const o = outline(g, view);
    if (o !== null) parts.push(`<polygon points="${o.map(([x, y]) => `${f(X(x))},${f(Y(y))}`).join(' ')}" fill="${fill}" stroke="#333" stroke-width="0.5"/>`);
  }
  parts.push('</g>');
  const label = view === 'top' ? 'top (x right, y up)' : 'side (x right, z up)';
  const scaleM = Math.pow(10, Math.floor(Math.log10((w.x[1] - w.x[0]) / 3)));
  parts.push(`<text x="${dx + 8}" y="16" font-size="12" font-family="sans-serif">${label}</text>`);
  parts.push(`<line x1="${dx + W - PAD - scaleM * s}" y1="${H - 8}" x2="${dx + W - PAD}" y2="${H - 8}" stroke="#000" stroke-width="2"/><text x="${f(dx + W - PAD - scaleM * s)}" y="${H - 12}" font-size="10" font-family="sans-serif">${scaleM} m</text>`);
  return parts.join('\n');
}

/** Top and side views of the geoms, titled; `top` fixes the top view's window (default: fit). */
export function geomPicture(title: string, geoms: readonly GeomView[], top?: { x: [number, number]; y: [number, number] }): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * W}" height="${H + 24}" viewBox="0 -24 ${2 * W} ${H + 24}">
<text x="4" y="-8" font-size="14" font-family="sans-serif">${title}</text>
${panel(geoms, 'top', 0, top)}
${panel(geoms, 'side', W)}
</svg>
`;
}
