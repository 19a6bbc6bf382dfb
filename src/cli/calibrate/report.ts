/** The trade-off table and curve of `rshield calibrate`. */
import type { CalibrationResult } from '../commands/calibrate.js';

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

export function calibrationTable(r: CalibrationResult): string {
  const withData = r.heldOut.rows > 0;
  const withRollouts = r.rollouts !== null;
  const header = ['ε_risk'];
  if (withData) header.push('missed', 'recall', 'false alarms', 'flagged');
  if (withRollouts) header.push('successes', 'violations', 'interventions');
  header.push('violation rate', 'intervention rate');
  const rows = [header];
  const chosenEps = r.chosen !== null && r.chosen.eps !== null ? r.chosen.eps : undefined;
  for (const row of r.rows) {
    const cells = [`${row.eps.toFixed(2)}${row.eps === chosenEps ? ' *' : row.eps === r.model.epsRisk ? ' (card)' : ''}`];
    if (withData) cells.push(`${row.heldOut.missedViolations}/${r.heldOut.violatingEpisodes}`, pct(row.heldOut.recall), pct(row.heldOut.falseAlarmShare), pct(row.heldOut.flaggedShare));
    if (row.rollout !== undefined) cells.push(`${row.rollout.successes}/${row.rollout.episodes}`, `${row.rollout.violations}/${row.rollout.episodes}`, String(row.rollout.interventions));
    cells.push(pct(row.violationRate), pct(row.interventionRate));
    rows.push(cells);
  }
  const widths = header.map((_, c) => Math.max(...rows.map((x) => (x[c] ?? '').length)));
  const lines = rows.map((x) => x.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join('  ').trimEnd());
  const sources = [
    withData ? `held-out: ${r.heldOut.rows} rows, ${r.heldOut.episodes} episodes (${r.heldOut.violatingEpisodes} violating), positives = a violation within ${r.horizon} steps` : null,
    withRollouts ? `rollouts: ${r.rollouts?.episodes} shielded episodes per ε from seed ${r.rollouts?.seed} (rates are measured on them)` : null,
  ].filter((s) => s !== null);
  const chosen =
    r.chosen === null
      ? 'no target given: nothing written but the report (--violation-rate X or --max-interventions Y chooses ε)'
      : r.chosen.eps === null
        ? `not calibrated: ${r.chosen.reason}`
        : `chosen ε_risk ${r.chosen.eps} (card had ${r.model.epsRisk}): wrote ${r.chosen.dir} as version ${r.chosen.version}${r.chosen.signed ? ', signed' : ', unsigned (--sign-key signs it)'}`;
  return [`rshield calibrate: ${r.model.robot}, model ${r.model.version} (ε_risk ${r.model.epsRisk})`, ...sources, ...lines, chosen, `wrote ${r.files.report}, ${r.files.plot}`].join('\n');
}

/** Violation and intervention rates (and held-out recall) against ε, with the card's and the chosen ε marked. */
export function calibrationPlotSvg(r: CalibrationResult, width = 720, height = 420): string {
  const m = { left: 64, right: 210, top: 36, bottom: 48 };
  const w = width - m.left - m.right;
  const h = height - m.top - m.bottom;
  const x = (e: number): number => m.left + w * e;
  const y = (v: number): number => m.top + h - h * Math.min(1, Math.max(0, v));
  const series = [
    { label: 'violation rate', color: '#d62728', values: r.rows.map((row) => row.violationRate) },
    { label: 'intervention rate', color: '#1f77b4', values: r.rows.map((row) => row.interventionRate) },
    ...(r.heldOut.rows > 0 ? [{ label: 'held-out recall', color: '#2ca02c', values: r.rows.map((row) => row.heldOut.recall) }] : []),
    ...(r.rollouts !== null ? [{ label: 'success rate', color: '#7f7f7f', values: r.rows.map((row) => (row.rollout === undefined || row.rollout.episodes === 0 ? 0 : row.rollout.successes / row.rollout.episodes)) }] : []),
  ];
  const p: string[] = [];
  p.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  p.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  p.push(`<text x="${m.left}" y="22" font-size="15">${esc(`ε_risk calibration: ${r.model.robot}, model ${r.model.version}`)}</text>`);
  for (let k = 0; k <= 5; k++) {
    const v = k / 5;
    p.push(`<line x1="${m.left}" x2="${m.left + w}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e5e5e5"/>`);
    p.push(`<text x="${m.left - 6}" y="${y(v).toFixed(1)}" text-anchor="end" dominant-baseline="middle">${(100 * v).toFixed(0)}%</text>`);
    p.push(`<text x="${x(v).toFixed(1)}" y="${m.top + h + 16}" text-anchor="middle">${v.toFixed(1)}</text>`);
  }
  p.push(`<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${m.top + h}" stroke="#333"/>`);
  p.push(`<line x1="${m.left}" x2="${m.left + w}" y1="${m.top + h}" y2="${m.top + h}" stroke="#333"/>`);
  p.push(`<text x="${m.left + w / 2}" y="${height - 10}" text-anchor="middle">ε_risk (threshold on Q_risk)</text>`);
  p.push(`<text x="14" y="${m.top + h / 2}" text-anchor="middle" transform="rotate(-90 14 ${m.top + h / 2})">share</text>`);
  const marker = (e: number, label: string, dash: string): void => {
    p.push(`<line x1="${x(e).toFixed(1)}" x2="${x(e).toFixed(1)}" y1="${m.top}" y2="${m.top + h}" stroke="#555" stroke-dasharray="${dash}"/>`);
    p.push(`<text x="${(x(e) + 4).toFixed(1)}" y="${m.top + 12}">${esc(label)}</text>`);
  };
  marker(r.model.epsRisk, `card ${r.model.epsRisk}`, '2 3');
  if (r.chosen !== null && r.chosen.eps !== null) marker(r.chosen.eps, `chosen ${r.chosen.eps}`, '6 3');
  series.forEach((s, i) => {
    const pts = s.values.map((v, j) => `${x(r.rows[j]?.eps ?? 0).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    p.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts}"/>`);
    const ly = m.top + 10 + 20 * i;
    p.push(`<line x1="${m.left + w + 16}" x2="${m.left + w + 40}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"/>`);
    p.push(`<text x="${m.left + w + 46}" y="${ly}" dominant-baseline="middle">${esc(s.label)}</text>`);
  });
  p.push('</svg>');
  return `${p.join('\n')}\n`;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
}
