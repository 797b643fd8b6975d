import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OffsetCheckpointFile } from './OffsetCheckpointFile';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-checkpoint-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('OffsetCheckpointFile', () => {
  it('writes Kafka’s format atomically and reads it back', () => {
    const file = new OffsetCheckpointFile(path.join(dir, 'recovery-point-offset-checkpoint'));
    expect(file.read()).toEqual([]);
    const entries = [
      { topic: 'orders', partition: 0, offset: 42 },
      { topic: 'a-b.c_d', partition: 12, offset: 9_007_199_254_740_991 },
    ];
    file.write(entries);
    expect(fs.readFileSync(file.path, 'utf8')).toBe('0\n2\norders 0 42\na-b.c_d 12 9007199254740991\n');
    expect(fs.readdirSync(dir)).toEqual(['recovery-point-offset-checkpoint']); // no temporary file left
    expect(file.read()).toEqual(entries);
    file.write([]);
    expect(file.read()).toEqual([]);
  });

  it.each(['', '1\n0\n', '0\n2\nt 0 1\n', '0\n1\nt zero 1\n', '0\n1\nt 0 1 extra\n'])('refuses the malformed file %j', (content) => {
    const file = new OffsetCheckpointFile(path.join(dir, 'cp'));
    fs.writeFileSync(file.path, content);
    expect(() => file.read()).toThrow(/malformed checkpoint/);
  });
});
