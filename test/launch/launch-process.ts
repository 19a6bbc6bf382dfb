// `ros2 launch` of one of the repository's launch files as a child process, its output kept.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../src/config/profile.js';

export interface Launch {
  readonly proc: ChildProcess;
  output: string;
  /** Resolves on 'close' (after the last output is read), not 'exit' (which may come before it). */
  readonly exited: Promise<number | null>;
}

export function launch(file: string, args: readonly string[], opts: { cwd?: string } = {}): Launch {
  const proc = spawn('ros2', ['launch', join(packageRoot(), 'launch', file), ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}) });
  const l: Launch = { proc, output: '', exited: new Promise((r) => proc.on('close', (code) => r(code))) };
  proc.stdout?.on('data', (b: Buffer) => (l.output += b.toString()));
  proc.stderr?.on('data', (b: Buffer) => (l.output += b.toString()));
  return l;
}

/** The pid of the process `name` (its executable's name="…") from the launch log, for signals to it alone. */
export function launchedPid(l: Launch, name: string): number {
  return Number(new RegExp(`\\[${name}-\\d+\\]: process started with pid \\[(\\d+)\\]`).exec(l.output)?.[1]);
}

/**
 * Ctrl-C as a terminal delivers it: SIGINT to the process (the terminal's process group) and
 * one more from launch; resolves with launch's exit code.
 */
export async function interrupt(l: Launch, name: string): Promise<number | null> {
  const pid = launchedPid(l, name);
  if (pid > 0) process.kill(pid, 'SIGINT');
  l.proc.kill('SIGINT');
  return l.exited;
}

/** Stops a launch that is still running (teardown). */
export async function stopLaunch(...ls: Launch[]): Promise<void> {
  for (const l of ls) if (l.proc.exitCode === null && l.proc.signalCode === null) l.proc.kill('SIGTERM');
  await Promise.all(ls.map((l) => l.exited));
}
