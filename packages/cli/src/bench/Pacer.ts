import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Paces sends at a steady rate (records per second) for latency runs, which must not measure queueing
 * behind a flood. Each call answers how many records are due now, sleeping until at least one is.
 */
export class Pacer {
  /** Set by the first call, so time spent connecting before it does not become a burst. */
  private startedAt: number | undefined;
  private sent = 0;

  constructor(private readonly ratePerSec: number) {}

  async due(limit: number): Promise<number> {
    this.startedAt ??= performance.now();
    for (;;) {
      const elapsedMs = performance.now() - this.startedAt;
      const owed = Math.floor((elapsedMs * this.ratePerSec) / 1000) + 1 - this.sent;
      if (owed > 0) {
        const n = Math.min(owed, limit);
        this.sent += n;
        return n;
      }
      await sleep(Math.max(1, ((this.sent - (elapsedMs * this.ratePerSec) / 1000) * 1000) / this.ratePerSec));
    }
  }
}
