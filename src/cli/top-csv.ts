/** `top --csv` (and nettop's `-L N`): each snapshot as CSV rows, the header once. */
import { DEFAULT_STREAM_CSV, DEFAULT_TOTAL_CSV, STREAM_COLUMNS, TOTAL_COLUMNS, chooseColumns, csvLine } from './columns.js';
import type { CliOptions } from './options.js';
import { sortStreams, sortTotals } from './sort.js';
import type { TopModel } from './top-render.js';
import { DEFAULT_INTERFACE_CSV, INTERFACE_CSV, sortInterfaces } from './top-interfaces.js';

export function snapshotCsv(m: TopModel, o: Pick<CliOptions, 'columns'>, time: number, withHeader: boolean): string {
  const iso = new Date(time).toISOString();
  const lines: string[] = [];
  if (m.grouping === 'stream') {
    const known = [...Object.keys(STREAM_COLUMNS), 'remote_host'];
    const cols = chooseColumns(o.columns, DEFAULT_STREAM_CSV, known);
    if (withHeader) lines.push(csvLine(cols));
    for (const s of sortStreams([...m.streams], m.sort, m.reverse)) {
      const host = s.remote ? m.hostOf?.(s.remote.address) : undefined;
      const row = { stream: s, time, ...(host ? { host } : {}) };
      lines.push(csvLine(cols.map((c) => (c === 'time' ? iso : STREAM_COLUMNS[c](row)))));
    }
  } else if (m.grouping === 'interface') {
    const cols = chooseColumns(o.columns, DEFAULT_INTERFACE_CSV, ['time', ...Object.keys(INTERFACE_CSV)]);
    if (withHeader) lines.push(csvLine(cols));
    for (const i of sortInterfaces([...(m.interfaces ?? [])], m.sort, m.reverse)) lines.push(csvLine(cols.map((c) => (c === 'time' ? iso : INTERFACE_CSV[c](i)))));
  } else {
    const cols = chooseColumns(o.columns, DEFAULT_TOTAL_CSV, ['time', ...Object.keys(TOTAL_COLUMNS)]);
    if (withHeader) lines.push(csvLine(cols));
    for (const t of sortTotals([...m.totals], m.sort, m.reverse)) lines.push(csvLine(cols.map((c) => (c === 'time' ? iso : TOTAL_COLUMNS[c](t)))));
  }
  return lines.join('\n') + '\n';
}
