import { crc32 } from 'node:zlib';
import { McapChunkBuilder, McapRecordBuilder, Opcode, type McapTypes } from '@mcap/core';
import { systemClock, type Clock } from '../core/clock.js';
import { RShieldError } from '../core/errors.js';
import { FileSink, type SinkFs } from './file-sink.js';

/** A channel to record: a topic with its schema, e.g. a ROS 2 message type in CDR. */
export interface ChannelSpec {
  readonly topic: string;
  /** Schema name, e.g. `geometry_msgs/msg/PoseStamped`. */
  readonly schemaName: string;
  /** Schema text, e.g. a ROS 2 `.msg` definition with its dependencies. */
  readonly schemaText: string;
  /** Schema encoding; `ros2msg` by default. */
  readonly schemaEncoding?: string;
  /** Message encoding; `cdr` by default. */
  readonly encoding?: string;
  readonly metadata?: Readonly<Record<string, string>>;
}

export interface McapRecorderOptions {
  /** Cut a chunk once its records reach this many bytes (default 256 KiB). */
  readonly chunkBytes?: number;
  /**
   * The longest time, in ms, a message waits in the open chunk before the chunk is written
   * (default 500). Bounds what a SIGKILL loses; see docs/datasets.md "Durability".
   */
  readonly flushIntervalMs?: number;
  /** Monotonic clock (default the process clock); injected so tests drive it. */
  readonly clock?: Pick<Clock, 'monotonicUs'>;
  /**
   * Also check for a due flush on a timer, so a quiet channel does not hold a chunk open
   * (default true). The timer is unref'd: it never keeps the process alive.
   */
  readonly flushTimer?: boolean;
  /** MCAP header profile; `ros2` by default so ROS tooling treats the file as a bag. */
  readonly profile?: string;
  /** File operations (default node:fs); tests inject a failing disk here. */
  readonly fs?: SinkFs;
  /**
   * Called once when a write fails (ENOSPC, EIO, ...): recording stops there, the file is cut
   * back to its last whole record and stays readable, later messages are counted as dropped.
   */
  readonly onFault?: (reason: string) => void;
}

const DEFAULT_CHUNK_BYTES = 256 * 1024;
const DEFAULT_FLUSH_INTERVAL_MS = 500;
const LIBRARY = 'rshield (@mcap/core record builders)';

/**
 * Writes an MCAP file, chunk by chunk, in a way that survives being killed.
 *
 * Built from @mcap/core's record and chunk builders rather than its McapWriter because that
 * writer cuts chunks only by size and offers no flush: a slow channel would keep its messages
 * in memory, lost on SIGKILL. Here a chunk is also cut when its first message is older than
 * `flushIntervalMs`, and every chunk goes straight to the kernel (FileSink). Schemas, channels
 * and metadata are written outside chunks as soon as they are added, so a reader streaming a
 * truncated file knows them before the first chunk. `close` writes the summary (schemas,
 * channels, statistics, chunk and metadata indexes, summary offsets) and footer, as
 * McapWriter does, so indexed readers open the closed file.
 */
export class McapRecorder {
  readonly path: string;
  readonly #sink: FileSink;
  readonly #records = new McapRecordBuilder();
  readonly #chunk = new McapChunkBuilder({ useMessageIndex: true });
  readonly #chunkBytes: number;
  readonly #flushIntervalMs: number;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;

  readonly #schemas: McapTypes.Schema[] = [];
  readonly #channels = new Map<number, McapTypes.Channel>();
  readonly #chunkIndexes: McapTypes.ChunkIndex[] = [];
  readonly #metadataIndexes: McapTypes.MetadataIndex[] = [];
  readonly #channelCounts = new Map<number, bigint>();
  readonly #sequences = new Map<number, number>();
  #messageCount = 0;
  #messageStart = 0n;
  #messageEnd = 0n;
  /** CRC of the data section so far (magic up to, not including, DataEnd). */
  #dataCrc = 0;
  /** When the open chunk received its first message (ms on `now`); NaN when empty. */
  #chunkOpenedAt = Number.NaN;
  #closed = false;
  readonly #onFault: ((reason: string) => void) | undefined;
  #fault: string | undefined;
  /** Messages in chunks that reached the file. */
  #flushedMessages = 0;
  #droppedMessages = 0;

  private constructor(sink: FileSink, opts: McapRecorderOptions) {
    this.path = sink.path;
    this.#sink = sink;
    this.#chunkBytes = opts.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    this.#flushIntervalMs = opts.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS;
    const clock = opts.clock ?? systemClock;
    this.#now = () => clock.monotonicUs() / 1000;
    this.#onFault = opts.onFault;
    if (opts.flushTimer ?? true) {
      this.#timer = setInterval(() => this.flushIfDue(), Math.max(10, this.#flushIntervalMs / 4));
      this.#timer.unref();
    }
  }

  /** Creates (or truncates) `path` and writes the MCAP magic and header. */
  static open(path: string, opts: McapRecorderOptions = {}): McapRecorder {
    for (const key of ['chunkBytes', 'flushIntervalMs'] as const) {
      const v = opts[key];
      if (v !== undefined && !(v > 0)) throw new RShieldError('E_USAGE', `${key} must be positive, got ${v}`, { [key]: v });
    }
    const rec = new McapRecorder(FileSink.create(path, opts.fs), opts);
    rec.#records.writeMagic();
    rec.#records.writeHeader({ profile: opts.profile ?? 'ros2', library: LIBRARY });
    rec.#emitData();
    if (rec.#fault !== undefined) {
      rec.close();
      throw new RShieldError('E_IO', rec.#fault, { path });
    }
    return rec;
  }

  /** Why recording stopped early (a disk error), once it did. */
  get fault(): string | undefined {
    return this.#fault;
  }

  /** Messages given after a disk error (or lost in the chunk it hit): not in the file. */
  get droppedMessages(): number {
    return this.#droppedMessages;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Messages written so far, on all channels. */
  get messageCount(): number {
    return this.#messageCount;
  }

  /** Bytes in the file so far (what a SIGKILL now would leave). */
  get bytesWritten(): number {
    return this.#sink.position;
  }

  /** Registers a channel (and its schema, shared by channels of the same name and text). */
  addChannel(spec: ChannelSpec): number {
    this.#assertOpen();
    const schemaEncoding = spec.schemaEncoding ?? 'ros2msg';
    const data = new TextEncoder().encode(spec.schemaText);
    let schema = this.#schemas.find((s) => s.name === spec.schemaName && s.encoding === schemaEncoding && bytesEqual(s.data, data));
    if (schema === undefined) {
      schema = { id: this.#schemas.length + 1, name: spec.schemaName, encoding: schemaEncoding, data };
      this.#schemas.push(schema);
      this.#records.writeSchema(schema);
    }
    const channel: McapTypes.Channel = {
      id: this.#channels.size,
      schemaId: schema.id,
      topic: spec.topic,
      messageEncoding: spec.encoding ?? 'cdr',
      metadata: new Map(Object.entries(spec.metadata ?? {})),
    };
    this.#channels.set(channel.id, channel);
    this.#records.writeChannel(channel);
    this.#emitData();
    return channel.id;
  }

  /** Writes one name → key/value metadata record (outside chunks, immediately). */
  addMetadata(name: string, values: Readonly<Record<string, string>>): void {
    this.#assertOpen();
    const offset = BigInt(this.#sink.position);
    const length = this.#records.writeMetadata({ name, metadata: new Map(Object.entries(values)) });
    this.#metadataIndexes.push({ name, offset, length });
    this.#emitData();
  }

  /** Appends one serialized message. Writes the open chunk when it is full or old enough. */
  write(channelId: number, logTimeNs: bigint, data: Uint8Array): void {
    this.#assertOpen();
    if (!this.#channels.has(channelId)) {
      throw new RShieldError('E_USAGE', `channel ${channelId} is not registered in '${this.path}' (${this.#channels.size} channels)`, { channelId });
    }
    if (this.#fault !== undefined) {
      this.#droppedMessages++;
      return;
    }
    const sequence = this.#sequences.get(channelId) ?? 0;
    this.#sequences.set(channelId, sequence + 1);
    if (this.#chunk.numMessages === 0) this.#chunkOpenedAt = this.#now();
    this.#chunk.addMessage({ channelId, sequence, logTime: logTimeNs, publishTime: logTimeNs, data });
    if (this.#messageCount === 0 || logTimeNs < this.#messageStart) this.#messageStart = logTimeNs;
    if (this.#messageCount === 0 || logTimeNs > this.#messageEnd) this.#messageEnd = logTimeNs;
    this.#messageCount++;
    this.#channelCounts.set(channelId, (this.#channelCounts.get(channelId) ?? 0n) + 1n);
    if (this.#chunk.byteLength >= this.#chunkBytes) this.flush();
    else this.flushIfDue();
  }

  /** Writes the open chunk if its oldest message has waited `flushIntervalMs`. */
  flushIfDue(): void {
    if (this.#closed || this.#fault !== undefined || this.#chunk.numMessages === 0) return;
    if (this.#now() - this.#chunkOpenedAt >= this.#flushIntervalMs) this.flush();
  }

  /** Writes the open chunk and its message indexes to the file now. */
  flush(): void {
    this.#assertOpen();
    const chunk = this.#chunk;
    if (chunk.numMessages === 0 || this.#fault !== undefined) return;
    const records = chunk.buffer;
    const chunkStartOffset = BigInt(this.#sink.position);
    const chunkLength = this.#records.writeChunk({
      messageStartTime: chunk.messageStartTime,
      messageEndTime: chunk.messageEndTime,
      uncompressedSize: BigInt(records.byteLength),
      uncompressedCrc: crc32(records),
      compression: '',
      records,
    });
    const messageIndexStart = chunkStartOffset + chunkLength;
    const messageIndexOffsets = new Map<number, bigint>();
    let messageIndexLength = 0n;
    for (const index of chunk.indices) {
      if (index.records.length === 0) continue;
      messageIndexOffsets.set(index.channelId, messageIndexStart + messageIndexLength);
      messageIndexLength += this.#records.writeMessageIndex(index);
    }
    this.#chunkIndexes.push({
      messageStartTime: chunk.messageStartTime,
      messageEndTime: chunk.messageEndTime,
      chunkStartOffset,
      chunkLength,
      messageIndexOffsets,
      messageIndexLength,
      compression: '',
      compressedSize: BigInt(records.byteLength),
      uncompressedSize: BigInt(records.byteLength),
    });
    const messages = chunk.numMessages;
    chunk.reset();
    this.#chunkOpenedAt = Number.NaN;
    if (this.#emitData()) this.#flushedMessages += messages;
    else this.#droppedMessages += messages;
  }

  /** Writes the last chunk, the summary and the footer, then fsyncs and closes. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    try {
      if (this.#fault === undefined) this.#writeSummary();
    } finally {
      try {
        this.#sink.close();
      } catch (err) {
        this.#failed(err, this.#sink.position); // fsync failed: already reported if writes did
      }
    }
  }

  #writeSummary(): void {
    const r = this.#records;
    r.writeDataEnd({ dataSectionCrc: this.#dataCrc });
    const ok = this.#put(r.buffer);
    r.reset();
    if (!ok) return;

    const summaryStart = BigInt(this.#sink.position);
    const offsets: McapTypes.SummaryOffset[] = [];
    const group = (groupOpcode: number, write: () => bigint): void => {
      const groupStart = summaryStart + BigInt(r.length);
      const groupLength = write();
      if (groupLength > 0n) offsets.push({ groupOpcode, groupStart, groupLength });
    };
    group(Opcode.SCHEMA, () => this.#schemas.reduce((n, s) => n + r.writeSchema(s), 0n));
    group(Opcode.CHANNEL, () => [...this.#channels.values()].reduce((n, c) => n + r.writeChannel(c), 0n));
    group(Opcode.STATISTICS, () => r.writeStatistics({
      messageCount: BigInt(this.#messageCount),
      schemaCount: this.#schemas.length,
      channelCount: this.#channels.size,
      attachmentCount: 0,
      metadataCount: this.#metadataIndexes.length,
      chunkCount: this.#chunkIndexes.length,
      messageStartTime: this.#messageStart,
      messageEndTime: this.#messageEnd,
      channelMessageCounts: this.#channelCounts,
    }));
    group(Opcode.METADATA_INDEX, () => this.#metadataIndexes.reduce((n, m) => n + r.writeMetadataIndex(m), 0n));
    group(Opcode.CHUNK_INDEX, () => this.#chunkIndexes.reduce((n, c) => n + r.writeChunkIndex(c), 0n));
    const summaryOffsetStart = summaryStart + BigInt(r.length);
    for (const o of offsets) r.writeSummaryOffset(o);

    // The summary CRC covers the summary and the footer up to its own CRC field (MCAP spec,
    // Footer): opcode, record length, summary_start, summary_offset_start.
    const footerHead = new DataView(new ArrayBuffer(1 + 8 + 8 + 8));
    footerHead.setUint8(0, Opcode.FOOTER);
    footerHead.setBigUint64(1, 8n + 8n + 4n, true);
    footerHead.setBigUint64(9, summaryStart, true);
    footerHead.setBigUint64(17, summaryOffsetStart, true);
    const summaryCrc = crc32(footerHead, crc32(r.buffer));
    r.writeFooter({ summaryStart, summaryOffsetStart, summaryCrc });
    r.writeMagic();
    this.#put(r.buffer);
    r.reset();
  }

  /** Sends what the record builder holds to the file, as part of the data section; false after a disk error. */
  #emitData(): boolean {
    const bytes = this.#records.buffer;
    this.#dataCrc = crc32(bytes, this.#dataCrc);
    const ok = this.#put(bytes);
    this.#records.reset();
    return ok;
  }

  /** Writes whole records; on a disk error cuts the file back to before them and stops recording. */
  #put(bytes: Uint8Array): boolean {
    if (this.#fault !== undefined) return false;
    const start = this.#sink.position;
    try {
      this.#sink.write(bytes);
      return true;
    } catch (err) {
      this.#failed(err, start);
      return false;
    }
  }

  #failed(err: unknown, goodBytes: number): void {
    if (this.#fault !== undefined) return;
    const cause = (err as { cause?: unknown }).cause ?? err;
    const code = (cause as NodeJS.ErrnoException).code ?? 'error';
    const cut = this.#sink.truncate(goodBytes) ? `cut back to ${goodBytes} bytes` : `left at ${this.#sink.position} bytes (could not cut it back to ${goodBytes})`;
    this.#fault = `${code} writing '${this.path}': recording stopped; the file is ${cut} and readable up to its last whole chunk (${this.#flushedMessages} messages)`;
    this.#onFault?.(this.#fault);
  }

  #assertOpen(): void {
    if (this.#closed) throw new RShieldError('E_IO', `recorder for '${this.path}' is closed`, { path: this.path });
  }
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}
