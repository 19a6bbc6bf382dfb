import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RShieldError } from '../../core/errors.js';
import { createController, robotNames } from '../../envs/index.js';
import { sceneOf } from '../../envs/scene.js';
import { Shield } from '../../inference/shield.js';
import { parseCommandArgs, requiredOption, stringOption, type OptionTable } from '../args.js';
import { riskMapSvg } from '../plots/scene-plot.js';
import { RISK_MAP_CELLS, riskMap, riskMapRows } from '../plots/trajectories.js';

const options: OptionTable = {
  models: { type: 'string' },
  out: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

const HELP = `usage: rshield inspect --models DIR [--out DIR] [--json]

Loads a model directory as the shield would (card, graphs, check batch), prints its card
summary, and for a simulated robot draws OUT/risk-map.svg: Q_risk of the critic over the
robot's workspace for the scripted controller's action, with the constraints and ε_risk.

options:
  --models DIR   the model directory (required)
  --out DIR      where the map goes (default rshield-inspect)
  --json         print the summary as one JSON object`;

export interface InspectSummary {
  readonly dir: string;
  readonly robot: string;
  readonly version: string;
  readonly createdAt: string;
  readonly obsDim: number;
  readonly actDim: number;
  readonly epsRisk: number;
  readonly gammaRisk: number;
  readonly hysteresis: number;
  readonly recoveryMode: string;
  readonly failsafe: readonly number[] | null;
  readonly fused: boolean;
  readonly metrics: Record<string, unknown>;
  readonly data: readonly { readonly file: string; readonly transitions: number }[];
  readonly riskMap: string | null;
}

/** `rshield inspect`: what a model directory holds and where its critic sees danger. */
export async function inspect(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('inspect', argv, options);
  if (values.help === true) {
    console.log(HELP);
    return 0;
  }
  if (positionals.length > 0) throw new RShieldError('E_USAGE', `unexpected argument '${positionals[0]}' (see rshield inspect --help)`);
  const dir = requiredOption(values, 'models', 'inspect');
  const outDir = stringOption(values, 'out') ?? 'rshield-inspect';
  const shield = await Shield.load({ modelDir: dir });
  let summary: InspectSummary;
  try {
    const c = shield.card;
    const scene = sceneOf(c.robot);
    let map: string | null = null;
    if (scene !== null && robotNames.includes(c.robot)) {
      await mkdir(outDir, { recursive: true }).catch((err: unknown) => {
        throw new RShieldError('E_IO', `--out '${outDir}': cannot create directory: ${(err as Error).message}`, { path: outDir });
      });
      const ny = riskMapRows(scene);
      const q = await riskMap(dir, scene, createController(c.robot, { seed: 0 }), RISK_MAP_CELLS, ny);
      map = join(outDir, 'risk-map.svg');
      await writeFile(map, riskMapSvg(scene, `${c.robot}: Q_risk of ${c.version} for the controller's action`, { nx: RISK_MAP_CELLS, ny, q }, shield.epsRisk));
    }
    summary = {
      dir, robot: c.robot, version: c.version, createdAt: c.createdAt, obsDim: c.obsDim, actDim: c.actDim,
      epsRisk: shield.epsRisk, gammaRisk: c.gammaRisk, hysteresis: c.hysteresis, recoveryMode: shield.recoveryMode,
      failsafe: c.failsafe ?? null, fused: shield.fused, metrics: c.metrics ?? {},
      data: (c.data ?? []).map((d) => ({ file: d.file, transitions: d.transitions })), riskMap: map,
    };
  } finally {
    await shield.close();
  }
  console.log(values.json === true ? JSON.stringify(summary) : text(summary));
  return 0;
}

function text(s: InspectSummary): string {
  const metric = (k: string): string => (typeof s.metrics[k] === 'number' ? String(s.metrics[k]) : 'n/a');
  return [
    `model ${s.version} for ${s.robot} (${s.dir}), made ${s.createdAt}`,
    `  obs ${s.obsDim}, act ${s.actDim}; ε_risk ${s.epsRisk}, γ_risk ${s.gammaRisk}, hysteresis ${s.hysteresis}; recovery ${s.recoveryMode}; fail-safe ${s.failsafe === null ? 'hold (no action)' : `[${s.failsafe.join(', ')}]`}`,
    `  held-out AUROC ${metric('auroc')} (violation within ${metric('aurocHorizon')} steps, ${metric('validationTransitions')} transitions); ${s.fused ? 'one fused session' : 'two sessions'}`,
    `  trained on ${s.data.length === 0 ? 'unrecorded data' : s.data.map((d) => `${d.file} (${d.transitions})`).join(', ')}`,
    ...(s.metrics.calibration === undefined ? [] : [`  ε_risk calibrated from ${JSON.stringify((s.metrics.calibration as { target?: unknown }).target ?? null)}`]),
    s.riskMap === null ? '  no risk map: not a simulated robot' : `wrote ${s.riskMap}`,
  ].join('\n');
}
