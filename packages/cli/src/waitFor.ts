import { setTimeout as sleep } from 'node:timers/promises';

/** Polls `probe` until it answers something truthy; at the deadline fails with the last error or `what`. */
export async function waitFor<T>(probe: () => Promise<T | false | undefined>, options: { timeoutMs: number; what: string; intervalMs?: number }): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw lastError instanceof Error ? lastError : new Error(`timed out after ${options.timeoutMs} ms waiting for ${options.what}`);
    }
    await sleep(options.intervalMs ?? 50);
  }
}
