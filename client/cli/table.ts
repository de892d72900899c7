/** Prints rows as aligned columns under a header (text output); an empty list prints a "none" line instead. */
export function printTable(columns: string[], rows: (string | number | null | undefined)[][], none: string): void {
  if (rows.length === 0) {
    process.stdout.write(`${none}\n`);
    return;
  }
  // One line per row whatever the cell holds: errors may carry newlines.
  const cells = rows.map((row) =>
    row.map((c) => (c === null || c === undefined ? '' : String(c)).replace(/\s+/g, ' ')),
  );
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]?.length ?? 0)));
  const line = (row: string[]) =>
    row
      .map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  process.stdout.write(`${[line(columns.map((c) => c.toUpperCase())), ...cells.map(line)].join('\n')}\n`);
}
