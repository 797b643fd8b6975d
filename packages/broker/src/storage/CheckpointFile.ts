import fs from 'node:fs';
import path from 'node:path';
import { BrookError } from '@brook/types';

/** How one entry of a checkpoint file reads and writes as a line. */
export interface CheckpointFormat<T> {
  toLine(entry: T): string;
  /** Undefined when the line is malformed. */
  fromLine(line: string): T | undefined;
}

const VERSION = 0;

/**
 * Kafka's checkpoint file: a text file of a version line (0), a count line, then one line per entry,
 * replaced atomically on every write so a crash leaves either the old or the new content.
 */
export class CheckpointFile<T> {
  constructor(
    readonly path: string,
    private readonly format: CheckpointFormat<T>,
  ) {}

  write(entries: readonly T[]): void {
    writeFileAtomically(this.path, this.text(entries));
  }

  /**
   * write() on the libuv thread pool, for periodic checkpoints: their fsyncs take tens of milliseconds
   * while the logs are being written, a stall of every request on the event loop. One at a time: writes
   * share the temporary file.
   */
  writeInBackground(entries: readonly T[]): Promise<void> {
    return writeFileAtomicallyInBackground(this.path, this.text(entries));
  }

  private text(entries: readonly T[]): string {
    const lines = [String(VERSION), String(entries.length), ...entries.map((e) => this.format.toLine(e))];
    return lines.join('\n') + '\n';
  }

  /** The entries; none when the file does not exist. Throws CORRUPT_RECORD when it is malformed. */
  read(): T[] {
    let text: string;
    try {
      text = fs.readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    const malformed = (why: string) => new BrookError('CORRUPT_RECORD', `malformed checkpoint file ${this.path}: ${why}`);
    if (lines[0] !== String(VERSION)) throw malformed(`unsupported version ${JSON.stringify(lines[0])}`);
    const count = Number(lines[1]);
    if (!Number.isInteger(count) || count < 0 || lines.length !== count + 2) {
      throw malformed(`count ${JSON.stringify(lines[1])} does not match ${lines.length - 2} entries`);
    }
    return lines.slice(2).map((line) => {
      const entry = this.format.fromLine(line);
      if (entry === undefined) throw malformed(`bad line ${JSON.stringify(line)}`);
      return entry;
    });
  }
}

/** Writes a temporary file, fsyncs it, renames it over `file` and fsyncs the directory. */
export function writeFileAtomically(file: string, content: string | Uint8Array): void {
  const temporary = `${file}.tmp`;
  const fd = fs.openSync(temporary, 'w', 0o644);
  try {
    fs.writeFileSync(fd, content);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temporary, file);
  fsyncDirectory(path.dirname(file));
}

/** writeFileAtomically on the libuv thread pool. */
async function writeFileAtomicallyInBackground(file: string, content: string): Promise<void> {
  const temporary = `${file}.tmp`;
  const handle = await fs.promises.open(temporary, 'w', 0o644);
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.promises.rename(temporary, file);
  const dir = await fs.promises.open(path.dirname(file), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/** Makes the directory's entries (files created, renamed or removed) durable. */
export function fsyncDirectory(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
