/**
 * Bounded on-disk FIFO of encoded transition batches. Every batch is written here first and
 * deleted only after the broker acknowledged it (QoS 1), so a broker outage or a restart of the
 * shield loses nothing within the bound. Beyond the bound the OLDEST batches are dropped and
 * counted: the trainer learns more from what the robot does now than from what it did then.
 *
 * A disk error (ENOSPC, EIO, ...) stops writing for the rest of the run: later batches are
 * dropped and counted, what is already on disk is still sent, and the fault is reported once
 * ('fault' event, `fault`). An empty or short file is never sent: it is deleted and counted.
 *
 * A batch is written as `<name>.part` and renamed when whole, so a file with a batch's name is
 * always complete, also after a SIGKILL or power loss mid-write; `.part` files left by such a
 * run are deleted when the spool is opened again.
 */
import { EventEmitter } from 'node:events';
import * as nodeFs from 'node:fs/promises';
import { join } from 'node:path';
import { RShieldError } from '../../core/errors.js';

/** The file operations the spool uses: node:fs/promises, or a test's seam that injects faults. */
export interface SpoolFs {
  writeFile(path: string, data: Uint8Array): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  readFile(path: string): Promise<Uint8Array>;
  unlink(path: string): Promise<void>;
}

export interface SpoolOptions {
  readonly dir: string;
  /** At most this many batches wait on disk. */
  readonly maxBatches: number;
  /** And at most this many bytes. */
  readonly maxBytes: number;
  /** Default: node:fs/promises. */
  readonly fs?: SpoolFs;
}

export interface SpoolEvents {
  /** The first disk error: writing has stopped; `reason` names the file and the error code. */
  fault: [reason: string];
}

interface Entry {
  readonly name: string;
  readonly bytes: number;
  written: boolean;
  sending: boolean;
}

const SUFFIX = '.rstb';
const PART = '.part';

export class TransitionSpool extends EventEmitter<SpoolEvents> {
  readonly dir: string;
  private readonly maxBatches: number;
  private readonly maxBytes: number;
  private readonly fs: SpoolFs;
  private readonly entries: Entry[] = [];
  private next: number;
  private totalBytes = 0;
  private droppedBatches = 0;
  private io: Promise<void> = Promise.resolve();
  private ioError: Error | undefined;
  private faultReason: string | undefined;
  private emptySkipped = 0;

  private constructor(options: SpoolOptions, next: number) {
    super();
    this.fs = options.fs ?? nodeFs;
    this.dir = options.dir;
    this.maxBatches = options.maxBatches;
    this.maxBytes = options.maxBytes;
    this.next = next;
  }

  /** Opens (creating) a spool directory; batches left by an earlier run are kept and sent first. */
  static async open(options: SpoolOptions): Promise<TransitionSpool> {
    try {
      await nodeFs.mkdir(options.dir, { recursive: true });
      const all = await nodeFs.readdir(options.dir);
      const names = all.filter((n) => /^\d{16}\.rstb$/.test(n)).sort();
      const last = names[names.length - 1];
      const spool = new TransitionSpool(options, last === undefined ? 0 : Number(last.slice(0, 16)) + 1);
      for (const name of all.filter((n) => /^\d{16}\.rstb\.part$/.test(n))) {
        // A write that a kill or power loss interrupted: never renamed, never sent.
        spool.emptySkipped++;
        await spool.fs.unlink(join(options.dir, name)).catch(() => undefined);
      }
      for (const name of names) {
        const s = await nodeFs.stat(join(options.dir, name));
        if (s.size === 0) {
          // Left by a write that failed (full disk) or was killed: nothing to send.
          spool.emptySkipped++;
          await spool.fs.unlink(join(options.dir, name)).catch(() => undefined);
          continue;
        }
        spool.entries.push({ name, bytes: s.size, written: true, sending: false });
        spool.totalBytes += s.size;
      }
      spool.enforceBound();
      return spool;
    } catch (err) {
      if (err instanceof RShieldError) throw err;
      throw new RShieldError('E_IO', `cannot open transition spool ${options.dir}: ${(err as Error).message}`, { dir: options.dir });
    }
  }

  /** Batches waiting (written or being written). */
  get pending(): number {
    return this.entries.length;
  }

  /** Batches dropped because the bound was reached, or not written after a disk error. */
  get dropped(): number {
    return this.droppedBatches;
  }

  /** Empty or short spool files deleted instead of being sent. */
  get skippedEmpty(): number {
    return this.emptySkipped;
  }

  /** The disk error that stopped writing, once there was one. */
  get fault(): string | undefined {
    return this.faultReason;
  }

  /** Queues a batch; the disk write happens off the caller's path, in order. */
  push(batch: Uint8Array): void {
    if (this.faultReason !== undefined || batch.byteLength === 0) {
      this.droppedBatches++;
      return;
    }
    const name = `${String(this.next++).padStart(16, '0')}${SUFFIX}`;
    const entry: Entry = { name, bytes: batch.byteLength, written: false, sending: false };
    this.entries.push(entry);
    this.totalBytes += batch.byteLength;
    this.io = this.io.then(async () => {
      if (!this.entries.includes(entry)) return; // dropped before it reached the disk
      if (this.faultReason !== undefined) {
        this.remove(entry);
        this.droppedBatches++;
        return;
      }
      const path = join(this.dir, name);
      const part = path + PART;
      try {
        await this.fs.writeFile(part, batch);
        await this.fs.rename(part, path);
        entry.written = true;
        if (!this.entries.includes(entry)) await this.fs.unlink(path).catch(() => undefined);
      } catch (err) {
        this.ioError = err as Error;
        this.remove(entry);
        this.droppedBatches++;
        await this.fs.unlink(part).catch(() => undefined); // a partial file must not be sent later
        this.stopWriting(path, err);
      }
    });
    this.enforceBound();
  }

  /** Resolves when every queued write has reached the disk. */
  async flushed(): Promise<void> {
    await this.io;
  }

  /** The last disk error, if any (the batch it hit is counted as dropped). */
  get lastError(): Error | undefined {
    return this.ioError;
  }

  /**
   * Sends waiting batches oldest first while `canSend()` holds, up to `window` of them awaiting
   * their acknowledgement at once (QoS 1 round trips overlap; `send` is called in spool order);
   * each is deleted only after its `send` resolves. Returns the number sent. A failed send stops
   * the drain and its batch stays; with a window above 1, later batches already sent may have
   * been acknowledged meanwhile (the trainer does not depend on order).
   */
  async drain(send: (batch: Uint8Array) => Promise<void>, canSend: () => boolean, window = 1): Promise<number> {
    let sent = 0;
    let failed = false;
    const inFlight = new Set<Promise<void>>();
    const done = async (e: Entry): Promise<void> => {
      e.sending = false;
      if (this.entries.includes(e)) {
        this.remove(e);
        await this.fs.unlink(join(this.dir, e.name)).catch(() => undefined);
      }
    };
    await this.io;
    for (;;) {
      while (!failed && inFlight.size < window && canSend()) {
        const head = this.entries.find((e) => e.written && !e.sending);
        if (head === undefined) break;
        head.sending = true;
        let bytes: Uint8Array;
        try {
          bytes = await this.fs.readFile(join(this.dir, head.name));
        } catch {
          head.sending = false;
          failed = true;
          break;
        }
        if (bytes.byteLength !== head.bytes || bytes.byteLength === 0) {
          this.emptySkipped++; // truncated on disk: never sent as a batch
          await done(head);
          continue;
        }
        const p: Promise<void> = send(bytes).then(
          async () => {
            sent++;
            await done(head);
          },
          () => {
            head.sending = false;
            failed = true;
          },
        ).finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
      if (inFlight.size > 0) {
        await Promise.race(inFlight);
        continue;
      }
      // Nothing in flight: batches still being written may be sent in this drain too.
      if (failed || !canSend() || !this.entries.some((e) => !e.written)) break;
      await this.io;
      if (!this.entries.some((e) => e.written && !e.sending)) break;
    }
    return sent;
  }

  private stopWriting(path: string, err: unknown): void {
    if (this.faultReason !== undefined) return;
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    this.faultReason = `spool ${this.dir}: ${code} writing ${path}: ${err instanceof Error ? err.message : String(err)}; writing stopped, ${this.entries.filter((e) => e.written).length} batches on disk are still sent`;
    this.emit('fault', this.faultReason);
  }

  private remove(entry: Entry): void {
    const i = this.entries.indexOf(entry);
    if (i < 0) return;
    this.entries.splice(i, 1);
    this.totalBytes -= entry.bytes;
  }

  private enforceBound(): void {
    while (this.entries.length > this.maxBatches || (this.totalBytes > this.maxBytes && this.entries.length > 1)) {
      const victim = this.entries.find((e) => !e.sending);
      if (victim === undefined) return;
      this.remove(victim);
      this.droppedBatches++;
      if (victim.written) {
        const path = join(this.dir, victim.name);
        this.io = this.io.then(() => this.fs.unlink(path).catch(() => undefined));
      }
    }
  }
}
