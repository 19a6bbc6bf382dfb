import { main } from '../../src/cli/main.js';

/** The part of a tap Test that captures console output. */
export interface Capturing {
  capture(o: Console, m: 'log' | 'error'): () => { args: unknown[] }[];
}

/** Runs `rshield <argv…>` in this process; returns the exit code and what it printed. */
export async function runCli(t: Capturing, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const log = t.capture(console, 'log');
  const error = t.capture(console, 'error');
  const code = await main(argv);
  const text = (calls: { args: unknown[] }[]): string => calls.map((c) => c.args.map(String).join(' ')).join('\n');
  return { code, out: text(log()), err: text(error()) };
}
