/**
 * A real MQTT broker for tests on a free loopback port: `mosquitto` when the binary exists (CI
 * installs it), else an embedded aedes broker. Says which on stderr. `restart()` keeps the port
 * and the persisted sessions (mosquitto's persistence file, aedes' persistence object), so a
 * client with a persistent session gets what was published while it was away.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestBroker {
  readonly kind: 'mosquitto' | 'aedes';
  readonly port: number;
  readonly url: string;
  /** Stops for good and removes its files. */
  stop(): Promise<void>;
  /** Takes the broker down, keeping port and persisted sessions for `up`. */
  down(): Promise<void>;
  up(): Promise<void>;
}

export function mosquittoBinary(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin'])) {
    const p = join(dir, 'mosquitto');
    if (dir !== '' && existsSync(p)) return p;
  }
  return undefined;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Config line that keeps mosquitto, started as root (containers, CI), from dropping to the
 * `mosquitto` user, which could not read or write the test's private temporary folder.
 */
export function mosquittoUserLine(): string {
  return process.getuid?.() === 0 ? 'user root' : '';
}

/** Starts mosquitto with a config file; resolves once it logs that it is running. */
export async function spawnMosquitto(binary: string, confPath: string): Promise<ChildProcess> {
  const child = spawn(binary, ['-c', confPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  await new Promise<void>((resolve, reject) => {
    // A start that never says it runs fails the test with mosquitto's log instead of hanging it.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mosquitto did not start within ${START_MS} ms: ${log.trim()}`));
    }, START_MS);
    child.stderr?.on('data', (d: Buffer) => {
      log += d.toString();
      if (/mosquitto version \S+ running/.test(log)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`mosquitto exited with ${code}: ${log.trim()}`));
    });
  });
  child.stderr?.resume();
  return child;
}

const START_MS = 15_000;
const STOP_MS = 5_000;

/** SIGTERM, then wait for exit (mosquitto writes its persistence file on the way out); SIGKILL after 5 s. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_MS);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export async function startBroker(options: { forceAedes?: boolean } = {}): Promise<TestBroker> {
  const port = await freePort();
  // RSHIELD_TEST_BROKER=aedes runs the suite on the fallback broker where mosquitto is installed.
  const bin = options.forceAedes === true || process.env.RSHIELD_TEST_BROKER === 'aedes' ? undefined : mosquittoBinary();
  if (bin !== undefined) {
    const dir = await mkdtemp(join(tmpdir(), 'rshield-mosq-'));
    const conf = join(dir, 'mosquitto.conf');
    await writeFile(
      conf,
      [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence true', `persistence_location ${dir}/`, 'log_dest stderr', 'max_queued_messages 100000', mosquittoUserLine(), ''].join('\n'),
    );
    let child = await spawnMosquitto(bin, conf);
    process.stderr.write(`# test broker: mosquitto (${bin}) on port ${port}\n`);
    return {
      kind: 'mosquitto',
      port,
      url: `mqtt://127.0.0.1:${port}`,
      stop: async () => {
        await stopChild(child);
        await rm(dir, { recursive: true, force: true });
      },
      down: () => stopChild(child),
      up: async () => {
        child = await spawnMosquitto(bin, conf);
      },
    };
  }
  const { Aedes } = await import('aedes');
  const { default: memoryPersistence } = (await import('aedes-persistence')) as unknown as { default: () => unknown };
  const persistence = memoryPersistence();
  let broker: Awaited<ReturnType<typeof Aedes.createBroker>>;
  let server: Server;
  const up = async (): Promise<void> => {
    broker = await Aedes.createBroker({ persistence });
    server = createServer(broker.handle);
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  };
  const down = async (): Promise<void> => {
    // Drop client sockets too: closing only the listener would keep old connections alive.
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  await up();
  process.stderr.write(`# test broker: embedded aedes (${process.env.RSHIELD_TEST_BROKER === 'aedes' || options.forceAedes === true ? 'asked for' : 'mosquitto not found'}) on port ${port}\n`);
  let isUp = true;
  return {
    kind: 'aedes',
    port,
    url: `mqtt://127.0.0.1:${port}`,
    stop: async () => (isUp ? down() : undefined),
    down: async () => {
      isUp = false;
      await down();
    },
    up: async () => {
      await up();
      isUp = true;
    },
  };
}
