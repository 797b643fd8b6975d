/**
 * Bounds the sends that are not yet acknowledged. `Producer.send` applies backpressure on buffer memory,
 * but a caller that never awaits still piles up one promise per record; the window makes a long stdin
 * stream or a bench of millions of records wait instead, and keeps the first failure.
 */
export class SendWindow {
  private outstanding = 0;
  private wakeAt = -1;
  private wake: (() => void) | undefined;
  private failure: Error | undefined;

  constructor(private readonly limit: number) {}

  /** Tracks one send; `onAck` runs with its answer. One handler pair per send: this runs per record. */
  track<T>(send: Promise<T>, onAck: (answer: T) => void): void {
    this.outstanding++;
    send.then(
      (answer) => {
        onAck(answer);
        this.settled();
      },
      (err: Error) => {
        this.failure ??= err;
        this.settled();
      },
    );
  }

  private settled(): void {
    this.outstanding--;
    if (this.wake && (this.outstanding <= this.wakeAt || this.failure)) {
      const wake = this.wake;
      this.wake = undefined;
      wake();
    }
  }

  /** Resolves once another send fits (at half the limit, so waits are few); rejects after a failed send. */
  room(): Promise<void> {
    return this.until(this.outstanding < this.limit, Math.floor(this.limit / 2));
  }

  /** Resolves once every tracked send is acknowledged; rejects with the first failure. */
  drained(): Promise<void> {
    return this.until(this.outstanding === 0, 0);
  }

  private async until(ready: boolean, wakeAt: number): Promise<void> {
    if (!ready && !this.failure) {
      this.wakeAt = wakeAt;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    if (this.failure) throw this.failure;
  }
}
