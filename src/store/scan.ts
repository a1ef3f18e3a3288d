/**
 * Reading usage back: every delta is written to the minute, hour and day tables in the same
 * transaction, and pruning ("roll-up") only deletes expired fine rows, so each table is complete
 * for the time it still covers. A range is read from the finest table that covers each part of
 * it: minutes since the minute cut, hours between the hour cut and the minute cut, days before.
 * A bucket belongs to a range when its start does: [since, until).
 */
import { decodeMinutes } from './minute-pack.js';
import type { SqliteDatabase, SqliteStatement } from './sqlite.js';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

export interface BucketRow {
  /** Bucket start, ms epoch. */
  time: number;
  /** Bucket length in ms (minute, hour or day). */
  span: number;
  dim: number;
  rxBytes: number;
  txBytes: number;
  rxPackets: number;
  txPackets: number;
  flows: number;
}

export interface Cuts {
  /** Minute rows exist for hours >= minuteCut (hours since the epoch). */
  minuteCut: number;
  /** Hour rows exist for hours >= hourCut (day-aligned). */
  hourCut: number;
}

interface RawTotals {
  dim: number;
  t: number;
  rx_bytes: number;
  tx_bytes: number;
  rx_packets: number;
  tx_packets: number;
  flows: number;
}

export class UsageScanner {
  /** @internal */
  private readonly minutes: SqliteStatement;
  /** @internal */
  private readonly hours: SqliteStatement;
  /** @internal */
  private readonly days: SqliteStatement;

  constructor(db: SqliteDatabase) {
    this.minutes = db.prepare('SELECT hour, dim, minutes FROM minute_usage WHERE hour >= ? AND hour < ?');
    this.hours = db.prepare('SELECT hour AS t, dim, rx_bytes, tx_bytes, rx_packets, tx_packets, flows FROM hour_usage WHERE hour >= ? AND hour < ?');
    this.days = db.prepare('SELECT day AS t, dim, rx_bytes, tx_bytes, rx_packets, tx_packets, flows FROM day_usage WHERE day >= ? AND day < ?');
  }

  /** Every bucket whose start is in [since, until), each read from the finest table covering it. */
  scan(since: number, until: number, cuts: Cuts, visit: (r: BucketRow) => void): void {
    const mStart = cuts.minuteCut * HOUR_MS;
    const hStart = cuts.hourCut * HOUR_MS;
    // Minutes: [max(since, mStart), until)
    const a = Math.max(since, mStart);
    if (a < until) {
      for (const row of this.minutes.all(Math.floor(a / HOUR_MS), Math.ceil(until / HOUR_MS)) as { hour: number; dim: number; minutes: Uint8Array }[]) {
        const base = row.hour * HOUR_MS;
        for (const s of decodeMinutes(row.minutes)) {
          const time = base + s.minute * MINUTE_MS;
          if (time < a || time >= until) continue;
          visit({ time, span: MINUTE_MS, dim: row.dim, rxBytes: s.rxBytes, txBytes: s.txBytes, rxPackets: s.rxPackets, txPackets: s.txPackets, flows: s.flows });
        }
      }
    }
    // Hours: [max(since, hStart), min(until, mStart))
    const hb = Math.min(until, mStart);
    const ha = Math.max(since, hStart);
    if (ha < hb) this.visitTotals(this.hours.all(Math.ceil(ha / HOUR_MS), Math.ceil(hb / HOUR_MS)) as RawTotals[], HOUR_MS, visit);
    // Days: [since, min(until, hStart))
    const db = Math.min(until, hStart);
    if (since < db) this.visitTotals(this.days.all(Math.ceil(since / DAY_MS), Math.ceil(db / DAY_MS)) as RawTotals[], DAY_MS, visit);
  }

  /** @internal */
  private visitTotals(rows: RawTotals[], span: number, visit: (r: BucketRow) => void): void {
    for (const r of rows) {
      visit({ time: r.t * span, span, dim: r.dim, rxBytes: r.rx_bytes, txBytes: r.tx_bytes, rxPackets: r.rx_packets, txPackets: r.tx_packets, flows: r.flows });
    }
  }
}
