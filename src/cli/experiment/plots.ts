/**
 * The thesis's three plots of an experiment (ch. 4; reference notes §5): the ratio
 * (S+1)/(V+1), cumulative successes and cumulative violations against the episode, one line
 * per algorithm at the mean over seeds with a ± standard-error band.
 */
import { lineChartSvg, type Series } from '../demo/plot.js';
import type { Curves, MeanSe } from '../../app/experiment/summary.js';

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

export const PLOTS = {
  ratio: { file: 'ratio.svg', yLabel: 'ratio (S+1)/(V+1)' },
  successes: { file: 'successes.svg', yLabel: 'cumulative successes' },
  violations: { file: 'violations.svg', yLabel: 'cumulative violations' },
} as const;

function series(label: string, color: string, points: readonly MeanSe[]): Series {
  const values = points.map((p) => p.mean ?? 0);
  const se = points.map((p) => p.se ?? 0);
  return { label, color, values, band: { lower: values.map((v, i) => v - se[i]!), upper: values.map((v, i) => v + se[i]!) } };
}

/** File name → SVG text for each plot. */
export function experimentPlots(title: string, byAlgo: ReadonlyMap<string, Curves>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [metric, p] of Object.entries(PLOTS) as [keyof typeof PLOTS, (typeof PLOTS)[keyof typeof PLOTS]][]) {
    const lines = [...byAlgo].map(([algo, c], i) => series(algo, COLORS[i % COLORS.length]!, c[metric]));
    out.set(p.file, lineChartSvg({ title: `${title}: ${p.yLabel}, mean ± s.e.`, yLabel: p.yLabel, series: lines }));
  }
  return out;
}
