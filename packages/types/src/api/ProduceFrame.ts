/**
 * Brook's binary produce request: many partitions' record batches in one body, so the broker moves bytes
 * without per-record JSON work. Layout (big-endian):
 *   int16 topicCount, per topic: int16 nameLength, name (UTF-8), int32 partitionCount,
 *   per partition: int32 partition, int32 batchesLength, batches (encoded RecordBatch v2, concatenated).
 * The answer is JSON: ProduceFrameResponse.
 */
import { BrookError } from '../errors';
import { FrameReader } from './FrameReader';

export const PRODUCE_FRAME_CONTENT_TYPE = 'application/vnd.brook.produce';

export interface PartitionBatches {
  topic: string;
  partition: number;
  batches: Buffer;
}

export interface PartitionProduceResult {
  topic: string;
  partition: number;
  /** Offset of the first record appended; -1 on error. */
  baseOffset: number;
  error: { code: string; message: string; [k: string]: unknown } | null;
}

export interface ProduceFrameResponse {
  results: PartitionProduceResult[];
}

export function encodeProduceFrame(entries: PartitionBatches[]): Buffer {
  const byTopic = new Map<string, PartitionBatches[]>();
  for (const e of entries) {
    const list = byTopic.get(e.topic);
    if (list) list.push(e);
    else byTopic.set(e.topic, [e]);
  }
  let size = 2;
  for (const [topic, list] of byTopic) {
    size += 2 + Buffer.byteLength(topic) + 4;
    for (const e of list) size += 8 + e.batches.length;
  }
  const out = Buffer.allocUnsafe(size);
  let pos = out.writeInt16BE(byTopic.size, 0);
  for (const [topic, list] of byTopic) {
    const len = Buffer.byteLength(topic);
    pos = out.writeInt16BE(len, pos);
    pos += out.write(topic, pos, 'utf8');
    pos = out.writeInt32BE(list.length, pos);
    for (const e of list) {
      pos = out.writeInt32BE(e.partition, pos);
      pos = out.writeInt32BE(e.batches.length, pos);
      pos += e.batches.copy(out, pos);
    }
  }
  return out;
}

/** Decodes a frame; the batches are views into `frame`, not copies. */
export function decodeProduceFrame(frame: Buffer): PartitionBatches[] {
  const out: PartitionBatches[] = [];
  const r = new FrameReader(frame, 'produce frame');
  const topicCount = r.int16();
  for (let t = 0; t < topicCount; t++) {
    const topic = r.string(r.int16());
    const partitionCount = r.int32();
    for (let p = 0; p < partitionCount; p++) {
      const partition = r.int32();
      out.push({ topic, partition, batches: r.bytes(r.int32()) });
    }
  }
  if (!r.done) throw new BrookError('CORRUPT_RECORD', 'trailing bytes after the produce frame');
  return out;
}
