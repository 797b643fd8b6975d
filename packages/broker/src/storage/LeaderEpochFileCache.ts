import path from 'node:path';
import { BrookError } from '@brook/types';
import { CheckpointFile, type CheckpointFormat } from './CheckpointFile';
import type { StorageLogger } from './Log';

export const LEADER_EPOCH_CHECKPOINT_FILE = 'leader-epoch-checkpoint';

/** A leader epoch and the first offset written in it. */
export interface EpochEntry {
  epoch: number;
  startOffset: number;
}

const EPOCH_ENTRY: CheckpointFormat<EpochEntry> = {
  toLine: (e) => `${e.epoch} ${e.startOffset}`,
  fromLine: (line) => {
    const match = /^(\d+) (\d+)$/.exec(line);
    return match ? { epoch: Number(match[1]), startOffset: Number(match[2]) } : undefined;
  },
};

/**
 * Kafka's LeaderEpochFileCache (KIP-101): which leader epoch started at which offset, both strictly
 * increasing, kept in `leader-epoch-checkpoint` and rewritten on every change. A replica that becomes a
 * follower asks the leader for the end offset of its latest epoch and truncates there, so replicas never
 * diverge.
 */
export class LeaderEpochFileCache {
  private constructor(
    private readonly file: CheckpointFile<EpochEntry>,
    private entries: EpochEntry[],
    private readonly logger: StorageLogger,
  ) {}

  /** Reads the checkpoint in `dir`; one that cannot be read is reported and started afresh. */
  static load(dir: string, logger: StorageLogger): LeaderEpochFileCache {
    const file = new CheckpointFile(path.join(dir, LEADER_EPOCH_CHECKPOINT_FILE), EPOCH_ENTRY);
    let entries: EpochEntry[];
    try {
      entries = file.read();
      const disorder = entries.findIndex((e, i) => i > 0 && (e.epoch <= entries[i - 1]!.epoch || e.startOffset < entries[i - 1]!.startOffset));
      if (disorder >= 0) throw new BrookError('CORRUPT_RECORD', `entry ${disorder} of ${file.path} is out of order`);
    } catch (err) {
      logger.error({ err: (err as Error).message, file: file.path }, 'leader epoch checkpoint unreadable; starting with an empty cache');
      entries = [];
    }
    return new LeaderEpochFileCache(file, entries, logger);
  }

  get latestEpoch(): number | undefined {
    return this.entries[this.entries.length - 1]?.epoch;
  }

  epochEntries(): readonly EpochEntry[] {
    return this.entries;
  }

  /**
   * Records that `epoch` starts at `startOffset`. Nothing changes when it is already the latest epoch (at
   * that or an earlier offset); entries that would break the ordering are dropped, as in Kafka.
   */
  assign(epoch: number, startOffset: number): void {
    if (!Number.isInteger(epoch) || epoch < 0 || !Number.isSafeInteger(startOffset) || startOffset < 0) {
      throw new BrookError('INTERNAL', `invalid leader epoch entry ${epoch}@${startOffset}`);
    }
    const latest = this.entries[this.entries.length - 1];
    if (latest && latest.epoch === epoch && latest.startOffset <= startOffset) return;
    const kept = this.entries.filter((e) => e.epoch < epoch && e.startOffset < startOffset);
    const removed = this.entries.length - kept.length;
    if (removed > 1 || (removed === 1 && latest!.startOffset !== startOffset)) {
      this.logger.warn({ file: this.file.path, epoch, startOffset, removed: this.entries.slice(kept.length) }, 'new leader epoch truncated conflicting entries');
    }
    this.entries = [...kept, { epoch, startOffset }];
    this.file.write(this.entries);
  }

  /**
   * KIP-101's answer to "where does my epoch end?": the latest epoch ends at the log end; an older one at
   * the start of the next epoch this cache knows, answered with the largest epoch <= the requested one.
   * Undefined when the requested epoch is newer than any known (or the cache is empty).
   */
  endOffsetFor(requestedEpoch: number, logEndOffset: number): { epoch: number; endOffset: number } | undefined {
    const latest = this.entries[this.entries.length - 1];
    if (latest === undefined || requestedEpoch < 0) return undefined;
    if (requestedEpoch === latest.epoch) return { epoch: requestedEpoch, endOffset: logEndOffset };
    const higher = this.entries.findIndex((e) => e.epoch > requestedEpoch);
    if (higher < 0) return undefined;
    const floor = this.entries[higher - 1];
    // No epoch at or below the requested one is left (the log start moved past it): the follower should
    // truncate to where the next known epoch starts.
    return { epoch: floor?.epoch ?? requestedEpoch, endOffset: this.entries[higher]!.startOffset };
  }

  /** Drops the entries that start at or after `endOffset` (the log was truncated there). */
  truncateFromEnd(endOffset: number): void {
    const kept = this.entries.filter((e) => e.startOffset < endOffset);
    if (kept.length === this.entries.length) return;
    this.entries = kept;
    this.file.write(this.entries);
  }

  /**
   * The log now starts at `startOffset`: entries that start at or before it collapse into one for the
   * latest of them, starting at `startOffset`.
   */
  truncateFromStart(startOffset: number): void {
    let firstKept = 0;
    while (firstKept < this.entries.length && this.entries[firstKept]!.startOffset <= startOffset) firstKept++;
    if (firstKept === 0) return;
    const last = this.entries[firstKept - 1]!;
    if (firstKept === 1 && last.startOffset === startOffset) return;
    this.entries = [{ epoch: last.epoch, startOffset }, ...this.entries.slice(firstKept)];
    this.file.write(this.entries);
  }

  /** Forgets every entry (the log was emptied and restarted at some offset). */
  clear(): void {
    if (this.entries.length === 0) return;
    this.entries = [];
    this.file.write(this.entries);
  }
}
