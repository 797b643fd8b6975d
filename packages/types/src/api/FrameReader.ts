import { BrookError } from '../errors';

/** A bounds-checked cursor over a binary frame: reading past the end is CORRUPT_RECORD, never garbage. */
export class FrameReader {
  private pos = 0;

  constructor(
    private readonly buf: Buffer,
    private readonly what: string,
  ) {}

  get done(): boolean {
    return this.pos === this.buf.length;
  }

  int16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  int32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  double(): number {
    this.need(8);
    const v = this.buf.readDoubleBE(this.pos);
    this.pos += 8;
    return v;
  }

  string(length: number): string {
    return this.bytes(length).toString('utf8');
  }

  /** A view into the frame, not a copy. */
  bytes(length: number): Buffer {
    if (length < 0) throw new BrookError('CORRUPT_RECORD', `${this.what} has a negative length`);
    this.need(length);
    const v = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return v;
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new BrookError('CORRUPT_RECORD', `${this.what} is truncated`);
  }
}
