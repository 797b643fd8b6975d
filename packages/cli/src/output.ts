/** How results reach stdout: aligned tables for people, one JSON document for scripts (`--json`). */

export interface Column<T> {
  header: string;
  value: (row: T) => string | number | boolean | null | undefined;
}

/** Renders rows as a table with a header line; numbers are right-aligned, everything else left. */
export function renderTable<T>(rows: readonly T[], columns: ReadonlyArray<Column<T>>): string {
  const cells = rows.map((row) => columns.map((c) => c.value(row)));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => cellText(r[i]).length)));
  const numeric = columns.map((_, i) => cells.length > 0 && cells.every((r) => typeof r[i] === 'number' || r[i] == null));
  const line = (texts: string[]) =>
    texts
      .map((t, i) => (numeric[i] ? t.padStart(widths[i]!) : t.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map((r) => line(r.map(cellText)))].join('\n');
}

function cellText(v: string | number | boolean | null | undefined): string {
  return v == null ? '-' : String(v);
}

/** Writes to stdout, waiting when the pipe is full so large outputs (consume) keep memory flat. */
export async function writeOut(text: string): Promise<void> {
  if (!process.stdout.write(text)) await new Promise<void>((resolve) => process.stdout.once('drain', resolve));
}

/** Prints `data` as JSON with `--json`, else as `human(data)`. */
export function printResult<T>(json: boolean, data: T, human: (data: T) => string): Promise<void> {
  return writeOut(`${json ? JSON.stringify(data, null, 2) : human(data)}\n`);
}
