/**
 * Dependency-free SVG line charts: cumulative successes and violations per episode (the
 * Recovery RL paper's main plot, thesis ch. 4), optionally with a shaded band per line (the
 * mean ± standard error over seeds that `rshield experiment` draws).
 */
export interface Series {
  readonly label: string;
  readonly color: string;
  readonly dashed?: boolean;
  readonly values: readonly number[];
  /** Shaded from lower[i] to upper[i] under the line (same length as values). */
  readonly band?: { readonly lower: readonly number[]; readonly upper: readonly number[] };
}

export interface ChartOptions {
  readonly title: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  readonly width?: number;
  readonly height?: number;
}

/** Digits that tell the axis ticks of a range apart (0 for counts, 2 for a ratio near 1). */
function tickDecimals(span: number): number {
  return span >= 10 ? 0 : span >= 1 ? 1 : 2;
}

export function lineChartSvg(o: ChartOptions): string {
  const width = o.width ?? 720;
  const height = o.height ?? 420;
  const { series } = o;
  const m = { left: 64, right: 250, top: 36, bottom: 44 };
  const w = width - m.left - m.right;
  const h = height - m.top - m.bottom;
  const n = Math.max(1, ...series.map((s) => s.values.length));
  const yMax = Math.max(1, ...series.flatMap((s) => [...s.values, ...(s.band?.upper ?? [])]).filter(Number.isFinite));
  const x = (i: number): number => m.left + (w * i) / Math.max(1, n - 1);
  const y = (v: number): number => m.top + h - (h * v) / yMax;
  const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const digits = tickDecimals(yMax);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  parts.push(`<text x="${m.left}" y="22" font-size="15">${esc(o.title)}</text>`);
  const ticks = 5;
  for (let k = 0; k <= ticks; k++) {
    const v = (yMax * k) / ticks;
    const yy = y(v).toFixed(1);
    parts.push(`<line x1="${m.left}" x2="${m.left + w}" y1="${yy}" y2="${yy}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${m.left - 6}" y="${yy}" text-anchor="end" dominant-baseline="middle">${v.toFixed(digits)}</text>`);
  }
  parts.push(`<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${m.top + h}" stroke="#333"/>`);
  parts.push(`<line x1="${m.left}" x2="${m.left + w}" y1="${m.top + h}" y2="${m.top + h}" stroke="#333"/>`);
  parts.push(`<text x="${m.left + w / 2}" y="${height - 10}" text-anchor="middle">episode</text>`);
  parts.push(`<text x="14" y="${m.top + h / 2}" text-anchor="middle" transform="rotate(-90 14 ${m.top + h / 2})">${esc(o.yLabel)}</text>`);
  parts.push(`<text x="${m.left + w}" y="${m.top + h + 16}" text-anchor="end">${n}</text>`);
  parts.push(`<text x="${m.left}" y="${m.top + h + 16}" text-anchor="start">1</text>`);
  for (const s of series) {
    if (s.band === undefined) continue;
    const upper = s.band.upper.map((v, j) => `${x(j).toFixed(1)},${y(v).toFixed(1)}`);
    const lower = s.band.lower.map((v, j) => `${x(j).toFixed(1)},${y(v).toFixed(1)}`).reverse();
    parts.push(`<polygon fill="${s.color}" fill-opacity="0.18" stroke="none" points="${[...upper, ...lower].join(' ')}"/>`);
  }
  series.forEach((s, i) => {
    const pts = s.values.map((v, j) => `${x(j).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    const dash = s.dashed === true ? ' stroke-dasharray="6 4"' : '';
    parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2"${dash} points="${pts}"/>`);
    const ly = m.top + 10 + i * 20;
    const last = s.values[s.values.length - 1] ?? 0;
    parts.push(`<line x1="${m.left + w + 16}" x2="${m.left + w + 40}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"${dash}/>`);
    parts.push(`<text x="${m.left + w + 46}" y="${ly}" dominant-baseline="middle">${esc(s.label)} (${Number.isInteger(last) ? last : last.toFixed(2)})</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

export function cumulativePlotSvg(title: string, series: readonly Series[], width = 720, height = 420): string {
  return lineChartSvg({ title, yLabel: 'cumulative count', series, width, height });
}
