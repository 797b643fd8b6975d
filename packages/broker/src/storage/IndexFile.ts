import fs from 'node:fs';
import { BrookError } from '@brook/types';

/**
 * A file of fixed-size big-endian entries beside a segment (Kafka's AbstractIndex). The entries live in
 * memory as typed arrays, which is what lookups use; the file only has to survive restarts, so new
 * entries are appended to it once per segment append and a rebuilt index is rewritten whole.
 */
export abstract class IndexFile {
  protected entryCount = 0;
  /** Entries [0, writtenCount) are in the file. */
  private writtenCount = 0;
  private fd: number | undefined;

  protected constructor(
    private filePath: string,
    readonly baseOffset: number,
    private readonly entrySize: number,
  ) {}

  get path(): string {
    return this.filePath;
  }

  /** Reads the file into memory. Answers what is wrong with it (the caller rebuilds), or undefined. */
  load(): string | undefined {
    let raw: Buffer;
    try {
      raw = fs.readFileSync(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'file is missing';
      throw err;
    }
    if (raw.length % this.entrySize !== 0) return `size ${raw.length} is not a multiple of ${this.entrySize}`;
    const count = raw.length / this.entrySize;
    this.reserve(count);
    for (let i = 0; i < count; i++) this.decodeEntry(raw, i * this.entrySize, i);
    this.entryCount = count;
    this.writtenCount = count;
    return this.findDisorder();
  }

  /** Drops every entry, in memory and in the file. */
  reset(): void {
    this.entryCount = 0;
    this.writtenCount = 0;
    fs.ftruncateSync(this.openFd(), 0);
  }

  /** Appends the entries added since the last write to the file. */
  writePending(): void {
    const count = this.entryCount - this.writtenCount;
    if (count <= 0) return;
    const buf = Buffer.allocUnsafe(count * this.entrySize);
    for (let i = 0; i < count; i++) this.encodeEntry(buf, i * this.entrySize, this.writtenCount + i);
    const written = fs.writeSync(this.openFd(), buf, 0, buf.length, this.writtenCount * this.entrySize);
    if (written !== buf.length) throw new BrookError('INTERNAL', `short write to ${this.path}: ${written} of ${buf.length} bytes`);
    this.writtenCount = this.entryCount;
  }

  /** Writes pending entries and fsyncs the file. */
  flush(): void {
    this.writePending();
    if (this.fd !== undefined) fs.fsyncSync(this.fd);
  }

  /** fsync on the libuv thread pool, for flushes that must not stall the event loop. */
  flushInBackground(): Promise<void> {
    this.writePending();
    const fd = this.fd;
    if (fd === undefined) return Promise.resolve();
    return new Promise((resolve, reject) => fs.fsync(fd, (err) => (err ? reject(err) : resolve())));
  }

  close(): void {
    this.writePending();
    this.closeFd();
  }

  delete(): void {
    this.closeFd();
    fs.rmSync(this.path, { force: true });
  }

  /** Renames the file (an open descriptor stays valid); the cleaner's segments change suffix this way. */
  renameTo(newPath: string): void {
    fs.renameSync(this.path, newPath);
    this.filePath = newPath;
  }

  /** Keeps only the first `count` entries, in memory and in the file. */
  protected truncateToEntries(count: number): void {
    if (count >= this.entryCount) return;
    this.entryCount = count;
    if (this.writtenCount > count) {
      fs.ftruncateSync(this.openFd(), count * this.entrySize);
      this.writtenCount = count;
    }
  }

  /** Makes room for `count` entries in the typed arrays. */
  protected abstract reserve(count: number): void;
  protected abstract decodeEntry(raw: Buffer, position: number, index: number): void;
  protected abstract encodeEntry(buf: Buffer, position: number, index: number): void;
  /** Entries out of order are what a torn or foreign file looks like. */
  protected abstract findDisorder(): string | undefined;

  /** Capacity growth shared by the subclasses' typed arrays. */
  protected static grownCapacity(current: number, needed: number): number {
    return needed <= current ? current : Math.max(needed, current * 2, 64);
  }

  private openFd(): number {
    this.fd ??= fs.openSync(this.path, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
    return this.fd;
  }

  private closeFd(): void {
    if (this.fd === undefined) return;
    fs.closeSync(this.fd);
    this.fd = undefined;
  }
}
