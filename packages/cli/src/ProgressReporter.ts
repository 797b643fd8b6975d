import { SingleBar, Presets } from 'cli-progress';

/**
 * A progress bar on stderr for long runs, off when stderr is not a terminal or output is JSON, so pipes
 * and scripts see nothing. `total` is records, or seconds for runs bounded by a duration.
 */
export class ProgressReporter {
  private bar: SingleBar | undefined;
  private startedAt = 0;

  constructor(private readonly enabled: boolean) {}

  static forOutput(json: boolean): ProgressReporter {
    return new ProgressReporter(!json && process.stderr.isTTY === true);
  }

  start(label: string, total: number, unit: 'records' | 's'): void {
    if (!this.enabled) return;
    this.stop();
    this.startedAt = performance.now();
    this.bar = new SingleBar(
      { format: `${label.padEnd(8)} [{bar}] {percentage}% | {value}/{total} ${unit} | {rate} records/s`, stream: process.stderr, hideCursor: true },
      Presets.shades_classic,
    );
    this.bar.start(total, 0, { rate: 0 });
  }

  /** `value` in the unit of `start`; `records` for the rate. */
  update(value: number, records: number): void {
    if (!this.bar) return;
    const seconds = (performance.now() - this.startedAt) / 1000;
    this.bar.update(Math.floor(value), { rate: seconds > 0 ? Math.round(records / seconds) : 0 });
  }

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}
