import type { RobotProfile } from '../../config/profile.js';
import type { SinkFs } from '../../data/file-sink.js';
import { McapRecorder } from '../../data/mcap-recorder.js';
import type { DatasetMeta } from '../../data/dataset-meta.js';
import { TransitionWriter } from '../../data/transition-writer.js';
import { DemoRecorder } from './demo-recorder.js';

export interface DemoRecording {
  readonly tap: DemoRecorder;
  /** Ends the open episode, writes the summary and closes the file. */
  close(): void;
}

/**
 * Opens an MCAP demo recording for a profile: raw ROS topics in CDR plus the transitions channel
 * that `rshield train` reads, labelled as the profile's simulated robot (its `env`), so the
 * models trained from it fit that observation layout. Chunks are flushed on a timer, so a killed
 * recorder leaves a file readable up to the last flushed chunk. A disk error stops the recording
 * (the file stays readable up to its last whole chunk), is logged once and shows on
 * /diagnostics; the shield node goes on.
 */
export function openDemoRecording(path: string, profile: RobotProfile, opts: { autostart?: boolean; log?: (line: string) => void; fs?: SinkFs; nowNs?: () => bigint } = {}): DemoRecording {
  const log = opts.log ?? (() => undefined);
  const recorder = McapRecorder.open(path, { ...(opts.fs !== undefined ? { fs: opts.fs } : {}), onFault: (why) => log(`disk error: ${why}; the shield keeps running`) });
  const transitions = TransitionWriter.attach(recorder, profileDatasetMeta(profile, `rshield record (${profile.name}, ${profile.arm})`));
  const tap = new DemoRecorder({ recorder, transitions, profile, ...(opts.autostart !== undefined ? { autostart: opts.autostart } : {}), ...(opts.log ? { log: opts.log } : {}), ...(opts.nowNs ? { nowNs: opts.nowNs } : {}) });
  return {
    tap,
    close() {
      if (recorder.closed) return;
      tap.finish();
      transitions.close();
      recorder.close();
    },
  };
}

/**
 * The dataset a profile's tip yields: obs = tip xyz, act = the executed step (bounded by the
 * hard limit), labelled as the profile's simulated robot (its `env`), so the models trained
 * from it fit that observation layout.
 */
export function profileDatasetMeta(profile: RobotProfile, generator: string): Omit<DatasetMeta, 'version' | 'created'> {
  const m = profile.limits.maxStepM;
  return {
    robot: profile.env,
    obsDim: 3,
    actDim: 3,
    actLow: Float32Array.from([-m, -m, -m]),
    actHigh: Float32Array.from([m, m, m]),
    generator,
    seed: 0,
    requested: 0,
    obsNames: ['x', 'y', 'z'],
    units: 'm',
    params: { profile: profile.name, arm: profile.arm, kind: profile.kind },
  };
}
