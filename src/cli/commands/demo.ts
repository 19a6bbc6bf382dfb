import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RShieldError } from '../../core/errors.js';
import { RECOVERY_MODES, isRecoveryMode } from '../../core/recovery-mode.js';
import { PLANNER_PRESETS, type PlannerPreset } from '../../config/planner-settings.js';
import { cameraOf, createController, createEnv, hasCamera, knownRobot, prepareRobot, robotNames } from '../../envs/index.js';
import { DEFAULT_DEADLINE_US, Shield } from '../../inference/shield.js';
import { ImageShield } from '../../inference/image-shield.js';
import { loadRobotProfile } from '../../config/profile.js';
import { intOption, numberOption, parseCommandArgs, stringOption, type OptionTable } from '../args.js';
import { runEpisodes, type RunTotals, type TickRecord } from '../../core/episode-runner.js';
import { shippedModelDir } from '../../models/shipped-models.js';
import { cumulativePlotSvg } from '../demo/plot.js';
import { DemoRecording } from '../demo/recording.js';
import { createProgress } from '../progress.js';
import type { Transition } from '../../core/types.js';
import type { FailsafeReason } from '../../core/failsafe.js';
import { sceneOf } from '../../envs/scene.js';
import { FoxgloveLive } from '../../app/foxglove-live.js';
import { riskMapSvg, trajectoryPlotSvg } from '../plots/scene-plot.js';
import { PathCollector, riskMap, riskMapRows, RISK_MAP_CELLS } from '../plots/trajectories.js';

/** Episodes drawn in trajectories.svg: more would hide each other. */
const PLOTTED_EPISODES = 20;

const options: OptionTable = {
  robot: { type: 'string' },
  episodes: { type: 'string' },
  models: { type: 'string' },
  out: { type: 'string' },
  seed: { type: 'string' },
  eps: { type: 'string' },
  noise: { type: 'string' },
  recovery: { type: 'string' },
  planner: { type: 'string' },
  provider: { type: 'string' },
  'deadline-us': { type: 'string' },
  'prepare-timeout-ms': { type: 'string' },
  'require-cuda': { type: 'boolean' },
  json: { type: 'boolean' },
  foxglove: { type: 'string' },
  'foxglove-host': { type: 'string' },
  rate: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

function help(): string {
  return [
    'usage: rshield demo [--robot R] [--episodes N] [--models DIR] [--out DIR] [--json]',
    '',
    "Runs the robot's scripted controller (the \"existing controller\") unshielded and then shielded",
    'on the same episode seeds, prints successes, violations, the ratio (S+1)/(V+1), interventions',
    'and tick latency, and writes OUT/summary.json, OUT/cumulative.svg and OUT/shielded.mcap.',
    '',
    'options:',
    `  --robot R          ${robotNames.join(', ')} (default dvrk-reacher)`,
    '  --episodes N       episodes per run (default 100)',
    '  --models DIR       model directory (default: the shipped models/<robot>)',
    '  --out DIR          output directory (default rshield-demo)',
    '  --seed S           base seed of the episodes (default 0)',
    '  --eps E            override the card\'s ε_risk',
    '  --noise σ          exploration noise on the controller\'s actions, σ as a share of the',
    '                     action half-range (default 0: the scripted controller as it is)',
    '  --recovery M       policy (π_rec, the reference), nearest-safe (closest candidate action',
    '                     the critic rates safe) or model-based (CEM plan over the card\'s dynamics',
    '                     ensemble); default: the model card\'s recoveryMode',
    `  --planner P        model-based: sampling preset ${PLANNER_PRESETS.join(' or ')} (default: the card\'s settings)`,
    '  --provider P       cpu (default) or cuda; --require-cuda refuses a CPU fallback',
    '  --deadline-us N    tick deadline in µs; a later decision is the fail-safe (default 50000:',
    '                     the demo is not paced in real time, so a robot\'s tick-rate deadline',
    '                     would make results depend on the machine\'s load)',
    '  --prepare-timeout-ms N  time limit for loading and checking the model in its worker',
    '                     (default 20000; a slow planner preset such as --planner reference',
    '                     may need more)',
    '  --json             print the summary as one JSON object on stdout instead of the table',
    '  --foxglove PORT    live view of the shielded run for Foxglove (ws://127.0.0.1:PORT; open',
    '                     docs/foxglove-layout.json): Q_risk, decisions, a 3-D scene',
    '  --foxglove-host H  address to listen on (default 127.0.0.1: this machine only)',
    '  --rate HZ          pace the shielded run at HZ ticks/s (default: 50 with --foxglove, else',
    '                     as fast as it goes)',
  ].join('\n');
}

/**
 * The I/O side's spin on the worker's answer when the demo is not paced (µs): none. Unpaced, the
 * demo's thread never rests (environment step, recording, next tick), so a spinning I/O thread
 * and the inference worker keep both of a small machine's cores busy, and whatever else runs
 * there preempts one of them for a whole time slice. Sleeping on the answer instead (and the
 * library's worker spin, not the earlier 1 ms): tick p99 median 1 550 → 891 µs, p50 54 → 94 µs
 * (docs/shield.md, "The demo's tail").
 */
const UNPACED_SPIN_US = 0;

export interface DemoSummary {
  robot: string;
  episodes: number;
  seed: number;
  controllerNoise: number;
  model: { version: string; dir: string; epsRisk: number; provider: string; fused: boolean; recoveryMode: string };
  unshielded: Pick<RunTotals, 'successes' | 'violations' | 'ratio'>;
  shielded: Pick<RunTotals, 'successes' | 'violations' | 'ratio' | 'interventions' | 'failsafes' | 'ticks'> & {
    /** Nearest-safe mode only: searches run and how many fell back to π_rec(s). */
    nearestSafe?: { searches: number; fallbacks: number };
    /** Model-based mode only: plans run, plans with no finite cost, fail-safes for a missed deadline. */
    planner?: { plans: number; invalid: number; deadlineFailsafes: number };
    /** Violating episodes whose violation came on a recovery tick (the thesis's Table I). */
    violationsInRecovery: number;
    /** The shield's fail-safes by reason (deadline, stale, nan, …). */
    failsafesByReason: Readonly<Record<FailsafeReason, number>>;
  };
  /** Shielded violations as a share of unshielded ones; ratio gain = shielded ratio / unshielded ratio. */
  violationShare: number | null;
  ratioGain: number;
  tickUs: { p50: number; p99: number; max: number };
  seconds: number;
  files: { summary: string; plot: string; recording: string; trajectories?: string; riskMap?: string };
}

const round = (x: number, d = 2): number => Number(x.toFixed(d));

/** `rshield demo`: the main job on the embedded default (simulated robot, in-process). */
export async function demo(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('demo', argv, options);
  if (values.help === true) {
    console.log(help());
    return 0;
  }
  if (positionals.length > 0) throw new RShieldError('E_USAGE', `unexpected argument '${positionals[0]}' (see rshield demo --help)`);
  const robot = stringOption(values, 'robot') ?? 'dvrk-reacher';
  knownRobot(robot);
  const episodes = intOption('episodes', stringOption(values, 'episodes'), 100, 1);
  const seed = intOption('seed', stringOption(values, 'seed'), 0);
  const outDir = stringOption(values, 'out') ?? 'rshield-demo';
  const modelDir = stringOption(values, 'models') ?? shippedModelDir(robot);
  const provider = stringOption(values, 'provider') ?? 'cpu';
  if (provider !== 'cpu' && provider !== 'cuda') throw new RShieldError('E_USAGE', `--provider must be cpu or cuda, got '${provider}'`, { option: 'provider' });
  const epsText = stringOption(values, 'eps');
  const noise = numberOption('noise', stringOption(values, 'noise'), 0);
  if (noise < 0) throw new RShieldError('E_USAGE', `--noise must be ≥ 0, got ${noise}`, { option: 'noise' });
  const recovery = stringOption(values, 'recovery');
  if (recovery !== undefined && !isRecoveryMode(recovery)) {
    throw new RShieldError('E_USAGE', `--recovery must be one of ${RECOVERY_MODES.join(', ')}, got '${recovery}'`, { option: 'recovery' });
  }
  const planner = stringOption(values, 'planner');
  if (planner !== undefined && !(PLANNER_PRESETS as readonly string[]).includes(planner)) {
    throw new RShieldError('E_USAGE', `--planner must be one of ${PLANNER_PRESETS.join(', ')}, got '${planner}'`, { option: 'planner' });
  }
  const deadlineUs = numberOption('deadline-us', stringOption(values, 'deadline-us'), DEFAULT_DEADLINE_US);
  if (!(deadlineUs > 0)) throw new RShieldError('E_USAGE', `--deadline-us must be > 0, got ${deadlineUs}`, { option: 'deadline-us' });
  const prepareTimeoutMs = numberOption('prepare-timeout-ms', stringOption(values, 'prepare-timeout-ms'), 20_000);
  if (!(prepareTimeoutMs > 0)) throw new RShieldError('E_USAGE', `--prepare-timeout-ms must be > 0, got ${prepareTimeoutMs}`, { option: 'prepare-timeout-ms' });
  const json = values.json === true;
  const foxglovePort = stringOption(values, 'foxglove');
  const rateText = stringOption(values, 'rate');
  const rateHz = rateText === undefined ? (foxglovePort === undefined ? 0 : 50) : numberOption('rate', rateText, 0);
  if (!(rateHz >= 0)) throw new RShieldError('E_USAGE', `--rate must be ≥ 0 ticks/s, got ${rateText}`, { option: 'rate' });
  const t0 = performance.now();

  await prepareRobot(robot);
  const camera = cameraOf(robot);
  const epsRisk = epsText === undefined ? {} : { epsRisk: numberOption('eps', epsText, 0) };
  if (camera !== null && (recovery !== undefined || planner !== undefined || provider !== 'cpu')) {
    throw new RShieldError('E_USAGE', `--recovery, --planner and --provider are not available for the camera robot ${robot} (image models: policy recovery on CPU)`, { robot });
  }
  // A camera robot: the image shield, handed each state's frame before its tick (docs/images.md).
  const shield = camera !== null
    ? await ImageShield.load({ modelDir, robot, deadlineUs, imageStaleAfterMs: imageStaleAfterMs(robot), ...epsRisk })
    : await Shield.load({
      modelDir,
      robot,
      provider,
      requireCuda: values['require-cuda'] === true,
      deadlineUs,
      prepareTimeoutMs,
      ...(rateHz > 0 ? {} : { spinUs: UNPACED_SPIN_US }),
      ...(recovery === undefined ? {} : { recoveryMode: recovery }),
      ...(planner === undefined ? {} : { planner: planner as PlannerPreset }),
      ...epsRisk,
    });
  try {
    await mkdir(outDir, { recursive: true }).catch((err: unknown) => {
      throw new RShieldError('E_IO', `--out '${outDir}': cannot create directory: ${(err as Error).message}`, { path: outDir });
    });
    const scene = sceneOf(robot);
    const files = {
      summary: join(outDir, 'summary.json'), plot: join(outDir, 'cumulative.svg'), recording: join(outDir, 'shielded.mcap'),
      ...(scene === null ? {} : { trajectories: join(outDir, 'trajectories.svg') }),
      // The risk map scores states without frames: low-dimensional models only.
      ...(scene === null || camera !== null ? {} : { riskMap: join(outDir, 'risk-map.svg') }),
    };
    const drawn = Math.min(episodes, PLOTTED_EPISODES);
    const paths = scene === null ? null : { unshielded: new PathCollector(scene, drawn), shielded: new PathCollector(scene, drawn) };
    const env = createEnv(robot, { seed });
    const controller = createController(robot, { seed, noise });
    const progress = createProgress({ label: `demo ${robot}`, total: 2 * episodes, unit: 'episodes' });

    const unshielded = await runEpisodes({
      env, controller, episodes, seed,
      ...(paths === null ? {} : { onTransition: (t: Transition, tick: TickRecord) => paths.unshielded.add(t, tick) }),
      onEpisode: (n, t) => progress.update(n, { violations: t.violations }),
    });
    const recording = DemoRecording.open(files.recording, env.spec, seed, episodes, camera);
    const live = foxglovePort === undefined ? null : await FoxgloveLive.start({
      port: intOption('foxglove', foxglovePort, 0), robot, epsRisk: shield.epsRisk, scene, camera,
      ...(stringOption(values, 'foxglove-host') === undefined ? {} : { host: stringOption(values, 'foxglove-host') }),
    });
    if (live !== null) console.error(`demo: Foxglove live view on ${live.url} (${rateHz} ticks/s)`);
    const tickMs = rateHz > 0 ? 1000 / rateHz : 0;
    let shielded: RunTotals;
    let violationsInRecovery = 0;
    try {
      shielded = await runEpisodes({
        env, controller, episodes, seed, shield,
        ...(shield instanceof ImageShield && hasCamera(env) ? { beforeDecide: () => shield.pushFrame(env.frame(Date.now())) } : {}),
        onTransition: async (t, tick) => {
          if (t.cost > 0 && tick.source === 'recovery') violationsInRecovery++;
          paths?.shielded.add(t, tick);
          if (live !== null && tick.source !== 'unshielded') {
            live.publish(t.obs, tick.proposed, { action: t.act, qRisk: tick.qRisk, source: tick.source, failsafeReason: tick.failsafeReason ?? null }, shield.modelVersion);
          }
          recording.write(t, tick);
          if (tickMs > 0) await new Promise((r) => setTimeout(r, tickMs));
        },
        onEpisode: (n, t) => progress.update(episodes + n, { violations: t.violations }),
      });
    } finally {
      recording.close();
      await live?.close();
      env.close?.();
    }
    progress.stop(2 * episodes);

    const stats = shield.stats();
    const nearest = shield.nearestSafeStats();
    const plans = shield.plannerStats();
    const summary: DemoSummary = {
      robot,
      episodes,
      seed,
      controllerNoise: noise,
      model: { version: shield.modelVersion, dir: modelDir, epsRisk: shield.epsRisk, provider: shield.provider, fused: shield.fused, recoveryMode: shield.recoveryMode },
      unshielded: { successes: unshielded.successes, violations: unshielded.violations, ratio: round(unshielded.ratio, 3) },
      shielded: {
        successes: shielded.successes, violations: shielded.violations, ratio: round(shielded.ratio, 3),
        interventions: shielded.interventions, failsafes: shielded.failsafes, ticks: shielded.ticks,
        ...(nearest === null ? {} : { nearestSafe: nearest }),
        ...(plans === null ? {} : { planner: { ...plans, deadlineFailsafes: stats.failsafesByReason.deadline } }),
        violationsInRecovery,
        failsafesByReason: stats.failsafesByReason,
      },
      violationShare: unshielded.violations === 0 ? null : round(shielded.violations / unshielded.violations, 3),
      ratioGain: round(shielded.ratio / unshielded.ratio, 2),
      tickUs: { p50: round(stats.tickUs.p50, 1), p99: round(stats.tickUs.p99, 1), max: round(stats.tickUs.max, 1) },
      seconds: round((performance.now() - t0) / 1000, 1),
      files,
    };
    await writeFile(files.summary, `${JSON.stringify(summary, null, 2)}\n`);
    await writeFile(files.plot, cumulativePlotSvg(`rshield demo: ${robot}, ${episodes} episodes (model ${summary.model.version})`, [
      { label: 'successes, unshielded', color: '#1f77b4', dashed: true, values: unshielded.cumulativeSuccesses },
      { label: 'violations, unshielded', color: '#d62728', dashed: true, values: unshielded.cumulativeViolations },
      { label: 'successes, shielded', color: '#1f77b4', values: shielded.cumulativeSuccesses },
      { label: 'violations, shielded', color: '#d62728', values: shielded.cumulativeViolations },
    ]));
    if (scene !== null && paths !== null && files.trajectories !== undefined) {
      await writeFile(files.trajectories, trajectoryPlotSvg(scene, `${robot}: first ${drawn} episodes, unshielded (grey) and shielded`, [
        { label: 'unshielded', unshielded: true, paths: paths.unshielded.paths },
        { label: 'shielded', unshielded: false, paths: paths.shielded.paths },
      ], shield.epsRisk));
    }
    if (scene !== null && files.riskMap !== undefined) {
      const version = summary.model.version;
      const q = await riskMap(modelDir, scene, createController(robot, { seed }), RISK_MAP_CELLS, riskMapRows(scene));
      await writeFile(files.riskMap, riskMapSvg(scene, `${robot}: Q_risk of ${version} for the controller's action`, { nx: RISK_MAP_CELLS, ny: riskMapRows(scene), q }, shield.epsRisk));
    }
    console.log(json ? JSON.stringify(summary) : table(summary));
    return 0;
  } finally {
    await shield.close();
  }
}

/** The profile's camera staleness limit (every camera robot's sim profile declares one). */
function imageStaleAfterMs(robot: string): number {
  const ms = loadRobotProfile(robot).imageStaleAfterMs;
  if (ms === undefined) throw new RShieldError('E_CONFIG', `robot profile ${robot} has no imageStaleAfterMs`, { robot });
  return ms;
}

function table(s: DemoSummary): string {
  const rows = [
    ['run', 'episodes', 'successes', 'violations', 'ratio', 'interventions', 'tick p50', 'tick p99'],
    ['unshielded', String(s.episodes), String(s.unshielded.successes), String(s.unshielded.violations), s.unshielded.ratio.toFixed(2), '-', '-', '-'],
    ['shielded', String(s.episodes), String(s.shielded.successes), String(s.shielded.violations), s.shielded.ratio.toFixed(2), String(s.shielded.interventions), `${s.tickUs.p50} µs`, `${s.tickUs.p99} µs`],
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const lines = rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd());
  const share = s.violationShare === null ? 'n/a (no unshielded violations)' : `${(100 * s.violationShare).toFixed(1)}% of unshielded`;
  return [
    `rshield demo: ${s.robot}${s.controllerNoise > 0 ? ` (controller noise σ ${s.controllerNoise})` : ''}, model ${s.model.version} (ε_risk ${s.model.epsRisk}), ONNX Runtime ${s.model.provider}${s.model.fused ? ', fused graph' : ''}${s.model.recoveryMode === 'policy' ? '' : `, ${s.model.recoveryMode} recovery`}`,
    ...lines,
    `shielded violations: ${share}; ratio ${s.ratioGain}× unshielded; ${s.seconds} s`,
    `wrote ${[s.files.summary, s.files.plot, s.files.recording, s.files.trajectories, s.files.riskMap].filter((f) => f !== undefined).join(', ')}`,
  ].join('\n');
}
