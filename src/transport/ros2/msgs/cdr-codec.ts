import { parse } from '@foxglove/rosmsg';
import { MessageReader, MessageWriter } from '@foxglove/rosmsg2-serialization';
import type { RosMsgType } from './definitions.js';
import { ros2msgSchema } from './schema.js';

/** Encodes and decodes one message type as ROS 2 CDR, against its official definition. */
export class CdrCodec {
  readonly type: RosMsgType;
  readonly schemaText: string;
  readonly #writer: MessageWriter;
  readonly #reader: MessageReader;

  constructor(type: RosMsgType) {
    this.type = type;
    this.schemaText = ros2msgSchema(type);
    const definitions = parse(this.schemaText, { ros2: true });
    this.#writer = new MessageWriter(definitions);
    this.#reader = new MessageReader(definitions);
  }

  /** CDR bytes (with the 4-byte encapsulation header) of a message shaped as rclnodejs delivers it. */
  encode(message: unknown): Uint8Array {
    return this.#writer.writeMessage(message);
  }

  decode<T = unknown>(bytes: ArrayBufferView): T {
    return this.#reader.readMessage<T>(bytes);
  }
}

const codecs = new Map<RosMsgType, CdrCodec>();

/** One shared codec per type: parsing a definition is done once per process. */
export function cdrCodec(type: RosMsgType): CdrCodec {
  let codec = codecs.get(type);
  if (codec === undefined) {
    codec = new CdrCodec(type);
    codecs.set(type, codec);
  }
  return codec;
}
