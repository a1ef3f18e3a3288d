/**
 * Time arguments of `ntstat usage`: durations back from now (90m, 1h, 24h, 7d), `today` and
 * `yesterday` (local midnight), `now`, or an ISO date/time. The range is [since, until).
 */
import { NtstatError } from '../errors.js';

export interface UsageRange {
  since: number;
  until: number;
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

function localMidnight(now: number, daysBack: number): number {
  const d = new Date(now);
  d.setHours(0, 0, 0, 0);
  d.setDate(d.getDate() - daysBack);
  return d.getTime();
}

export function parseUsageInstant(text: string, now: number, flag: string): number {
  const t = text.trim();
  const rel = /^(\d+(?:\.\d+)?)([smhdw])$/.exec(t);
  if (rel) return now - Number(rel[1]) * UNIT_MS[rel[2]];
  if (t === 'now') return now;
  if (t === 'today') return localMidnight(now, 0);
  if (t === 'yesterday') return localMidnight(now, 1);
  // ISO 8601 date or date-time (a bare date is local midnight, as `today` is).
  if (/^\d{4}-\d{2}-\d{2}$/.test(t)) {
    const [y, mo, d] = t.split('-').map(Number);
    const v = new Date(y, mo - 1, d).getTime();
    if (new Date(v).getDate() === d) return v;
  } else if (/^\d{4}-\d{2}-\d{2}T/.test(t)) {
    const v = Date.parse(t);
    if (Number.isFinite(v)) return v;
  }
  throw new NtstatError('ERR_NTSTAT_USAGE', `${flag} expects 1h, 24h, 7d, today, yesterday, now or an ISO date, got ${JSON.stringify(text)}`);
}

/** Default: since today's local midnight, until now. */
export function parseUsageTime(since: string | undefined, until: string | undefined, now: number): UsageRange {
  const r = {
    since: since === undefined ? localMidnight(now, 0) : parseUsageInstant(since, now, '--since'),
    until: until === undefined ? now : parseUsageInstant(until, now, '--until'),
  };
  if (r.until < r.since) throw new NtstatError('ERR_NTSTAT_USAGE', '--until is before --since');
  return r;
}
