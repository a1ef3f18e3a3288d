/**
 * One unit system for every human-readable amount: IEC binary prefixes (1 KiB = 1024 B), as
 * Activity Monitor and nettop count; rates carry "/s". `--raw` (nettop's -x) prints exact bytes.
 */
const IEC = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

export const UNITS_LEGEND = 'units IEC (1 KiB = 1024 B), rates per second';

export function formatBytes(n: number, raw = false): string {
  if (raw) return String(Math.round(n));
  let v = n;
  let u = 0;
  while (v >= 1024 && u < IEC.length - 1) {
    v /= 1024;
    u++;
  }
  if (u === 0) return `${Math.round(v)} B`;
  // Three significant digits at most: 1.5 KiB, 12.3 MiB, 987 GiB (a rounded 1023.6 stays 1024).
  return `${v < 100 ? v.toFixed(1) : Math.round(v)} ${IEC[u]}`;
}

export function formatRate(n: number, raw = false): string {
  return raw ? String(Math.round(n)) : `${formatBytes(n)}/s`;
}
