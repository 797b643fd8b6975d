import { BrookError, type BatchHeader } from '@brook/types';
import type { StorageLogger } from './Log';
import {
  deleteProducerSnapshot,
  listProducerSnapshotOffsets,
  readProducerSnapshot,
  writeProducerSnapshot,
} from './ProducerSnapshotFile';
import { incrementSequence, inSequence, ProducerStateEntry, type BatchMetadata } from './ProducerStateEntry';

/** The original offsets of the batches of a leader append that were all retries of batches already in the log. */
export interface DuplicateAppend {
  firstOffset: number;
  lastOffset: number;
  /** When the first original was appended. */
  timestamp: number;
}

/**
 * The idempotent producers of one partition log (Kafka's ProducerStateManager): per producer id, its
 * epoch and its last 5 batches, always as of the log end. The leader checks producers' batches against it
 * (checkLeaderAppend) so a retried batch is answered with its original offsets instead of being appended
 * again; leader and followers alike apply every batch written (update), so a follower that becomes leader
 * dedupes the same retries. It persists as snapshots `<offset>.snapshot` (the state below that offset)
 * taken by the log; a log opened or truncated reloads the latest snapshot at or below its end and replays
 * the batches after it.
 */
export class ProducerStateManager {
  private readonly producers = new Map<number, ProducerStateEntry>();
  /** Offsets of the snapshot files in the directory, increasing. */
  private snapshotOffsets: number[];

  private constructor(
    private readonly dir: string,
    private readonly logger: StorageLogger,
  ) {
    this.snapshotOffsets = listProducerSnapshotOffsets(dir);
  }

  /** The manager of the log in `dir`, empty until truncateAndReload loads a snapshot. */
  static open(dir: string, logger: StorageLogger): ProducerStateManager {
    return new ProducerStateManager(dir, logger);
  }

  get isEmpty(): boolean {
    return this.producers.size === 0;
  }

  // -------------------------------------------------------------------------------------------------
  // Appends

  /**
   * Checks the producer batches of a leader append, in order, before anything is written (Kafka's
   * ProducerAppendInfo on the leader). A batch of a known producer with a lower epoch is refused; one
   * whose sequence range is a kept batch of the same epoch is a duplicate; a new epoch must start at
   * sequence 0; otherwise the batch must follow the producer's last sequence. A producer id never seen
   * (or expired) may start anywhere. Answers the originals when every batch is a duplicate, undefined
   * when none is; duplicates mixed with new batches are refused, as their offsets cannot be answered.
   */
  checkLeaderAppend(batches: readonly BatchHeader[]): DuplicateAppend | undefined {
    const duplicates: BatchMetadata[] = [];
    /** Epoch and last sequence of producers with a new batch earlier in this append. */
    const pending = new Map<number, { producerEpoch: number; lastSeq: number }>();
    for (const batch of batches) {
      const { producerId, producerEpoch, baseSequence } = batch;
      if (producerId < 0) continue;
      if (baseSequence < 0 || producerEpoch < 0) {
        throw new BrookError('INVALID_RECORD', `batch of idempotent producer ${producerId} has epoch ${producerEpoch} and sequence ${baseSequence}`);
      }
      const lastSeq = incrementSequence(baseSequence, batch.lastOffsetDelta);
      const entry = this.producers.get(producerId);
      const duplicate = pending.has(producerId) ? undefined : entry?.findDuplicateBatch(producerEpoch, baseSequence, lastSeq);
      if (duplicate !== undefined) {
        duplicates.push(duplicate);
        continue;
      }
      const current = pending.get(producerId) ?? entry;
      if (current !== undefined) checkSequence(producerId, producerEpoch, baseSequence, current);
      pending.set(producerId, { producerEpoch, lastSeq });
    }
    if (duplicates.length === 0) return undefined;
    if (duplicates.length < batches.length) {
      throw new BrookError('OUT_OF_ORDER_SEQUENCE', `an append mixes ${duplicates.length} retried batches with ${batches.length - duplicates.length} new ones`);
    }
    for (let i = 1; i < duplicates.length; i++) {
      if (duplicates[i]!.firstOffset !== duplicates[i - 1]!.lastOffset + 1) {
        throw new BrookError('OUT_OF_ORDER_SEQUENCE', `the retried batches of an append were not appended together (offsets ${duplicates[i - 1]!.lastOffset} and ${duplicates[i]!.firstOffset})`);
      }
    }
    return { firstOffset: duplicates[0]!.firstOffset, lastOffset: duplicates[duplicates.length - 1]!.lastOffset, timestamp: duplicates[0]!.timestamp };
  }

  /**
   * Applies a batch written to the log (with its final offsets), unchecked: on a follower, on replay and
   * after checkLeaderAppend. Batches without a producer id change nothing.
   */
  update(batch: BatchHeader, appendTimeMs: number): void {
    const { producerId, producerEpoch, baseSequence } = batch;
    if (producerId < 0) return;
    let entry = this.producers.get(producerId);
    if (entry === undefined) {
      entry = new ProducerStateEntry(producerId, producerEpoch);
      this.producers.set(producerId, entry);
    }
    entry.addBatch(producerEpoch, {
      firstSeq: baseSequence,
      lastSeq: incrementSequence(baseSequence, batch.lastOffsetDelta),
      firstOffset: batch.baseOffset,
      lastOffset: batch.lastOffset,
      timestamp: appendTimeMs,
    });
  }

  /**
   * The last offset of each producer's last batch (Kafka's lastRecordsOfActiveProducers): the cleaner
   * keeps those batches, if only as empty headers, so a state rebuilt from the log finds each producer's
   * last sequence again.
   */
  lastDataOffsets(): Map<number, number> {
    const offsets = new Map<number, number>();
    for (const [producerId, entry] of this.producers) offsets.set(producerId, entry.batches[entry.batches.length - 1]!.lastOffset);
    return offsets;
  }

  /** Forgets the producers that have not appended for `producerIdExpirationMs` (Kafka's removeExpiredProducers). */
  removeExpiredProducers(now: number, producerIdExpirationMs: number): void {
    for (const [producerId, entry] of this.producers) {
      if (now - entry.lastTimestamp >= producerIdExpirationMs) this.producers.delete(producerId);
    }
  }

  // -------------------------------------------------------------------------------------------------
  // Snapshots

  /**
   * Writes the state as the snapshot at `offset`, the log end (see writeProducerSnapshot for `sync`).
   * Answers its path, or undefined when that snapshot exists already: the log has not moved since.
   */
  takeSnapshot(offset: number, sync: boolean): string | undefined {
    if (this.snapshotOffsets.includes(offset)) return undefined;
    const file = writeProducerSnapshot(this.dir, offset, this.producers.values(), sync);
    this.snapshotOffsets.push(offset);
    this.snapshotOffsets.sort((a, b) => a - b);
    return file;
  }

  /** Deletes the snapshots below `offset`: their segments are gone, or newer snapshots serve recovery. */
  deleteSnapshotsBelow(offset: number): void {
    this.deleteSnapshotsWhere((o) => o < offset);
  }

  /** Deletes the snapshots above `offset`, the new log end: they hold batches no longer in the log. */
  deleteSnapshotsAbove(offset: number): void {
    this.deleteSnapshotsWhere((o) => o > offset);
  }

  /**
   * Kafka's truncateAndReload: the log now holds its batches from `firstOffset` to `logEndOffset`.
   * Deletes the snapshots outside that range, then loads the latest that reads soundly (deleting the
   * ones that do not). Answers the offset from which the log's batches must be applied (update) to bring
   * the state to the log end: that snapshot's, or `firstOffset` with an empty state when none is left.
   */
  truncateAndReload(firstOffset: number, logEndOffset: number): number {
    this.deleteSnapshotsWhere((o) => o < firstOffset || o > logEndOffset);
    this.producers.clear();
    while (this.snapshotOffsets.length > 0) {
      const offset = this.snapshotOffsets[this.snapshotOffsets.length - 1]!;
      try {
        for (const entry of readProducerSnapshot(this.dir, offset)) this.producers.set(entry.producerId, entry);
        return offset;
      } catch (err) {
        this.producers.clear();
        this.logger.warn({ dir: this.dir, offset, err: (err as Error).message }, 'deleting a producer snapshot that cannot be read');
        this.deleteSnapshotsWhere((o) => o === offset);
      }
    }
    return firstOffset;
  }

  /** The log was emptied: no producer and no snapshot is left. */
  truncateFully(): void {
    this.producers.clear();
    this.deleteSnapshotsWhere(() => true);
  }

  private deleteSnapshotsWhere(doomed: (offset: number) => boolean): void {
    this.snapshotOffsets = this.snapshotOffsets.filter((offset) => {
      if (!doomed(offset)) return true;
      deleteProducerSnapshot(this.dir, offset);
      return false;
    });
  }
}

/** Kafka's checkProducerEpoch and checkSequence for a new batch of a producer this log knows. */
function checkSequence(
  producerId: number,
  producerEpoch: number,
  firstSeq: number,
  current: { producerEpoch: number; lastSeq: number },
): void {
  const details = { producerId, producerEpoch, baseSequence: firstSeq };
  if (producerEpoch < current.producerEpoch) {
    throw new BrookError('INVALID_PRODUCER_EPOCH', `producer ${producerId} epoch ${producerEpoch} is fenced by its epoch ${current.producerEpoch}`, {
      ...details,
      currentProducerEpoch: current.producerEpoch,
    });
  }
  if (producerEpoch > current.producerEpoch) {
    if (firstSeq !== 0) {
      throw new BrookError('OUT_OF_ORDER_SEQUENCE', `producer ${producerId} starts its new epoch ${producerEpoch} at sequence ${firstSeq}, not 0`, {
        ...details,
        expectedSequence: 0,
      });
    }
    return;
  }
  if (!inSequence(current.lastSeq, firstSeq)) {
    const expectedSequence = incrementSequence(current.lastSeq, 1);
    throw new BrookError('OUT_OF_ORDER_SEQUENCE', `producer ${producerId} epoch ${producerEpoch} sent sequence ${firstSeq}, expected ${expectedSequence}`, {
      ...details,
      expectedSequence,
    });
  }
}
