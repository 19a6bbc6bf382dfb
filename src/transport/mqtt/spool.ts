/**
 * Bounded on-disk FIFO of encoded transition batches. Every batch is written here first and
 * deleted only after the broker acknowledged it (QoS 1), so a broker outage or a restart of the
 * shield loses nothing within the bound. Beyond the bound the OLDEST batches are dropped and
 * counted: the trainer learns more from what the robot does now than from what it did then.
 */
import { mkdir, readFile, readdir, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RShieldError } from '../../core/errors.js';

export interface SpoolOptions {
  readonly dir: string;
  /** At most this many batches wait on disk. */
  readonly maxBatches: number;
  /** And at most this many bytes. */
  readonly maxBytes: number;
}

interface Entry {
  readonly name: string;
  readonly bytes: number;
  written: boolean;
  sending: boolean;
}

const SUFFIX = '.rstb';

export class TransitionSpool {
  readonly dir: string;
  private readonly maxBatches: number;
  private readonly maxBytes: number;
  private readonly entries: Entry[] = [];
  private next: number;
  private totalBytes = 0;
  private droppedBatches = 0;
  private io: Promise<void> = Promise.resolve();
  private ioError: Error | undefined;

  private constructor(options: SpoolOptions, next: number) {
    this.dir = options.dir;
    this.maxBatches = options.maxBatches;
    this.maxBytes = options.maxBytes;
    this.next = next;
  }

  /** Opens (creating) a spool directory; batches left by an earlier run are kept and sent first. */
  static async open(options: SpoolOptions): Promise<TransitionSpool> {
    try {
      await mkdir(options.dir, { recursive: true });
      const names = (await readdir(options.dir)).filter((n) => /^\d{16}\.rstb$/.test(n)).sort();
      const last = names[names.length - 1];
      const spool = new TransitionSpool(options, last === undefined ? 0 : Number(last.slice(0, 16)) + 1);
      for (const name of names) {
        const s = await stat(join(options.dir, name));
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

  /** Batches dropped because the bound was reached. */
  get dropped(): number {
    return this.droppedBatches;
  }

  /** Queues a batch; the disk write happens off the caller's path, in order. */
  push(batch: Uint8Array): void {
    const name = `${String(this.next++).padStart(16, '0')}${SUFFIX}`;
    const entry: Entry = { name, bytes: batch.byteLength, written: false, sending: false };
    this.entries.push(entry);
    this.totalBytes += batch.byteLength;
    this.io = this.io.then(async () => {
      if (!this.entries.includes(entry)) return; // dropped before it reached the disk
      try {
        await writeFile(join(this.dir, name), batch);
        entry.written = true;
        if (!this.entries.includes(entry)) await unlink(join(this.dir, name)).catch(() => undefined);
      } catch (err) {
        this.ioError = err as Error;
        this.remove(entry);
        this.droppedBatches++;
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
   * Sends waiting batches oldest first while `canSend()` holds; each is deleted only after
   * `send` resolves. Returns the number sent; stops at the first failed send (the batch stays).
   */
  async drain(send: (batch: Uint8Array) => Promise<void>, canSend: () => boolean): Promise<number> {
    let sent = 0;
    await this.io;
    while (canSend()) {
      const head = this.entries.find((e) => e.written && !e.sending);
      if (head === undefined) break;
      head.sending = true;
      try {
        const bytes = await readFile(join(this.dir, head.name));
        await send(bytes);
      } catch {
        head.sending = false;
        break;
      }
      head.sending = false;
      if (this.entries.includes(head)) {
        this.remove(head);
        await unlink(join(this.dir, head.name)).catch(() => undefined);
      }
      sent++;
      if (!this.entries.some((e) => e.written)) await this.io;
    }
    return sent;
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
        this.io = this.io.then(() => unlink(path).catch(() => undefined));
      }
    }
  }
}
