import fs from 'node:fs';
import path from 'node:path';
import { BrookError } from '@brook/types';
import { writeFileAtomically } from './CheckpointFile';

export const PARTITION_METADATA_FILE = 'partition.metadata';

/**
 * Kafka's partition.metadata: the id of the topic a partition log belongs to. A topic deleted and created
 * again under the same name gets a new id, so a log left over from the old one is recognised as a stray.
 */
export class PartitionMetadataFile {
  readonly path: string;

  constructor(dir: string) {
    this.path = path.join(dir, PARTITION_METADATA_FILE);
  }

  /** The topic id; undefined when the file does not exist. Throws CORRUPT_RECORD when it is malformed. */
  read(): string | undefined {
    let text: string;
    try {
      text = fs.readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const match = /^version: 0\ntopic_id: (\S+)\n?$/.exec(text);
    if (!match) throw new BrookError('CORRUPT_RECORD', `malformed ${this.path}: ${JSON.stringify(text.slice(0, 100))}`);
    return match[1];
  }

  write(topicId: string): void {
    if (!/^\S+$/.test(topicId)) throw new BrookError('INVALID_REQUEST', `invalid topic id ${JSON.stringify(topicId)}`);
    writeFileAtomically(this.path, `version: 0\ntopic_id: ${topicId}\n`);
  }
}
