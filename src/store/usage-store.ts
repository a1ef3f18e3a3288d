/**
 * UsageStore: per-app network usage history in a real SQLite database (better-sqlite3, loaded
 * lazily). Crash safety: WAL, one transaction per flush, so `kill -9` loses at most what was not
 * flushed and never leaves half a flush. One recording agent per database (see agent-lock.ts);
 * readers (`ntstat usage`, dashboards) may read at any time.
 */
import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { NtstatError } from '../errors.js';
import type { UsageQuery, UsageRow } from '../agent/types.js';
import type { FlushBatch, OpenFlowState, UsageDelta, UsageSink } from './records.js';
import { acquireAgentLock, type AgentLock } from './agent-lock.js';
import { buildSeries, RowGrouper, seriesStep, type DimRow, type Series, type UsageBy } from './group.js';
import { mergeMinutes, type MinuteSlot } from './minute-pack.js';
import { DAY_MS, HOUR_MS, MINUTE_MS, UsageScanner, type BucketRow, type Cuts } from './scan.js';
import { migrate } from './schema.js';
import { readFlowLog, type FlowLogQuery, type FlowLogRow } from './flow-log.js';
import { loadSqlite, type SqliteDatabase, type SqliteStatement } from './sqlite.js';

export interface Retention {
  /** Days minute buckets are kept (default 7). */
  minuteDays: number;
  /** Days hour buckets are kept (default 90). */
  hourDays: number;
  /** Days day buckets are kept (default Infinity: for ever). */
  dayDays: number;
  /** Closed flows kept in the flow log, the newest (default 50 000, ~5 MB; 20 flows/s fill it in 40 min). */
  flowLogRows: number;
}

export const DEFAULT_RETENTION: Retention = { minuteDays: 7, hourDays: 90, dayDays: Infinity, flowLogRows: 50_000 };

export interface UsageStoreOptions {
  /** Take the single-recorder lock (the agent); readers leave it false (default). */
  record?: boolean;
  /** Create the database (and its directory) if missing (default: as `record`). */
  create?: boolean;
  retention?: Partial<Retention>;
}

/** ~/Library/Application Support/ntstat/usage.db on macOS, $XDG_STATE_HOME/ntstat/usage.db elsewhere. */
export function defaultUsageDbPath(env: Record<string, string | undefined>, platform: NodeJS.Platform, home: string): string {
  if (platform === 'darwin') return `${home}/Library/Application Support/ntstat/usage.db`;
  const state = env.XDG_STATE_HOME && env.XDG_STATE_HOME.startsWith('/') ? env.XDG_STATE_HOME : `${home}/.local/state`;
  return `${state}/ntstat/usage.db`;
}

function dimKey(d: { process: string; pid?: number; app?: string; ifname: string; ifkind: string }): string {
  return `${d.process}\u0000${d.pid ?? -1}\u0000${d.app ?? ''}\u0000${d.ifname}\u0000${d.ifkind}`;
}

export class UsageStore implements UsageSink, UsageQuery {
  /** @internal */
  private readonly dimIds = new Map<string, number>();
  /** @internal */
  private dimRows = new Map<number, DimRow>();
  /** @internal */
  private readonly st: Record<'dimGet' | 'dimPut' | 'minGet' | 'minPut' | 'hourAdd' | 'dayAdd' | 'flowPut' | 'flowCap' | 'openDel' | 'openPut' | 'openSet' | 'openDelFlow' | 'openDelRow' | 'metaGet' | 'metaPut', SqliteStatement>;
  /**
   * What open_flows holds after the last committed flush (rows by identity, in seq order), so a
   * flush writes only the rows that changed (issue 17: the agent rewrote all ~2 000 every 10 s).
   * Undefined until this store's first flush, which rewrites the table whole, as before.
   * @internal
   */
  private openRows?: Map<string, OpenFlowState[]>;
  /** @internal */
  private readonly scanner: UsageScanner;
  /** @internal */
  private readonly writeBatch: (b: FlushBatch) => Map<string, OpenFlowState[]>;
  readonly retention: Retention;

  private constructor(/** @internal */ private readonly db: SqliteDatabase, readonly path: string, retention: Retention, /** @internal */ private readonly lock?: AgentLock) {
    this.retention = retention;
    this.st = {
      dimGet: db.prepare('SELECT id FROM dims WHERE process = ? AND pid = ? AND app = ? AND ifname = ? AND ifkind = ?'),
      dimPut: db.prepare('INSERT INTO dims (process, pid, app, ifname, ifkind) VALUES (?, ?, ?, ?, ?)'),
      minGet: db.prepare('SELECT minutes FROM minute_usage WHERE hour = ? AND dim = ?'),
      minPut: db.prepare('INSERT OR REPLACE INTO minute_usage (hour, dim, minutes) VALUES (?, ?, ?)'),
      hourAdd: db.prepare(
        'INSERT INTO hour_usage VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (hour, dim) DO UPDATE SET rx_bytes = rx_bytes + excluded.rx_bytes, tx_bytes = tx_bytes + excluded.tx_bytes, rx_packets = rx_packets + excluded.rx_packets, tx_packets = tx_packets + excluded.tx_packets, flows = flows + excluded.flows',
      ),
      dayAdd: db.prepare(
        'INSERT INTO day_usage VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (day, dim) DO UPDATE SET rx_bytes = rx_bytes + excluded.rx_bytes, tx_bytes = tx_bytes + excluded.tx_bytes, rx_packets = rx_packets + excluded.rx_packets, tx_packets = tx_packets + excluded.tx_packets, flows = flows + excluded.flows',
      ),
      flowPut: db.prepare('INSERT INTO flow_log (dim, provider, local, remote, start_ms, end_ms, rx_bytes, tx_bytes, rx_packets, tx_packets) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)'),
      flowCap: db.prepare('DELETE FROM flow_log WHERE id <= (SELECT max(id) FROM flow_log) - ?'),
      openDel: db.prepare('DELETE FROM open_flows'),
      openPut: db.prepare('INSERT INTO open_flows VALUES (?, ?, ?, ?, ?, ?)'),
      openSet: db.prepare('INSERT OR REPLACE INTO open_flows VALUES (?, ?, ?, ?, ?, ?)'),
      openDelFlow: db.prepare('DELETE FROM open_flows WHERE identity = ?'),
      openDelRow: db.prepare('DELETE FROM open_flows WHERE identity = ? AND seq >= ?'),
      metaGet: db.prepare('SELECT value FROM meta WHERE key = ?'),
      metaPut: db.prepare('INSERT OR REPLACE INTO meta VALUES (?, ?)'),
    };
    this.scanner = new UsageScanner(db);
    this.writeBatch = db.transaction((b: FlushBatch) => {
      this.write(b);
      return this.writeOpen(b.open);
    });
  }

  /**
   * Open (and with `record`, lock and create) the database at `path`. Errors: ERR_NTSTAT_DEPENDENCY
   * without better-sqlite3; ERR_NTSTAT_BUSY when another agent records to it; ERR_NTSTAT_STORE for
   * a missing database (readers) or a schema from a newer ntstat; ERR_NTSTAT_USAGE for bad retention.
   */
  static async open(path: string, opts: UsageStoreOptions = {}): Promise<UsageStore> {
    const retention = { ...DEFAULT_RETENTION, ...opts.retention };
    if (!(retention.minuteDays > 0 && retention.hourDays >= retention.minuteDays && retention.dayDays >= retention.hourDays && retention.flowLogRows >= 0)) {
      throw new NtstatError('ERR_NTSTAT_USAGE', 'retention: need 0 < minute days <= hour days <= day days and flow log rows >= 0');
    }
    const Database = await loadSqlite();
    const create = opts.create ?? opts.record ?? false;
    let exists = true;
    try {
      statSync(path);
    } catch {
      exists = false;
    }
    if (!exists && !create) throw new NtstatError('ERR_NTSTAT_STORE', `no usage database at ${path} (start one with 'ntstat agent', or give --db PATH)`);
    if (create) mkdirSync(dirname(path), { recursive: true });
    const lock = opts.record ? acquireAgentLock(Database, path) : undefined;
    let db: SqliteDatabase | undefined;
    try {
      db = new Database(path, { timeout: 5000 });
      db.pragma('journal_mode = WAL');
      // WAL + NORMAL: a committed flush survives a killed process; only power loss can lose the last ones.
      db.pragma('synchronous = NORMAL');
      migrate(db, path);
      return new UsageStore(db, path, retention, lock);
    } catch (e) {
      db?.close();
      lock?.release();
      if (e instanceof NtstatError) throw e;
      throw new NtstatError('ERR_NTSTAT_STORE', `cannot open usage database ${path}: ${(e as Error).message}`, { cause: e });
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
    this.lock?.release();
  }

  openFlows(): OpenFlowState[] {
    return (this.db.prepare('SELECT identity, rx_bytes, tx_bytes, rx_packets, tx_packets FROM open_flows ORDER BY identity, seq').all() as { identity: string; rx_bytes: number; tx_bytes: number; rx_packets: number; tx_packets: number }[]).map(
      (r) => ({ identity: r.identity, rxBytes: r.rx_bytes, txBytes: r.tx_bytes, rxPackets: r.rx_packets, txPackets: r.tx_packets }),
    );
  }

  /** One flush: usage at every granularity, the flow log, the open flows, and pruning: one transaction. */
  flush(batch: FlushBatch): void {
    // A flush that throws is rolled back: the table is still what openRows says.
    this.openRows = this.writeBatch(batch);
  }

  /**
   * open_flows := `open` (rows numbered per identity in order). With the table's content known,
   * only rows that differ are written and rows that went away deleted; the result is the same
   * table as deleting everything and inserting every row.
   * @internal
   */
  private writeOpen(open: readonly OpenFlowState[]): Map<string, OpenFlowState[]> {
    const next = new Map<string, OpenFlowState[]>();
    for (const o of open) {
      const rows = next.get(o.identity);
      if (rows) rows.push(o);
      else next.set(o.identity, [o]);
    }
    const prev = this.openRows;
    if (!prev) this.st.openDel.run();
    for (const [identity, rows] of next) {
      const old = prev?.get(identity);
      for (let seq = 0; seq < rows.length; seq++) {
        const o = rows[seq];
        const was = old?.[seq];
        if (was && Object.is(was.rxBytes, o.rxBytes) && Object.is(was.txBytes, o.txBytes) && Object.is(was.rxPackets, o.rxPackets) && Object.is(was.txPackets, o.txPackets)) continue;
        (prev ? this.st.openSet : this.st.openPut).run(identity, seq, o.rxBytes, o.txBytes, o.rxPackets, o.txPackets);
      }
      if (old && old.length > rows.length) this.st.openDelRow.run(identity, rows.length);
    }
    if (prev) for (const identity of prev.keys()) if (!next.has(identity)) this.st.openDelFlow.run(identity);
    // Copies: the caller's objects may change after the flush.
    for (const rows of next.values()) for (let i = 0; i < rows.length; i++) rows[i] = { identity: rows[i].identity, rxBytes: rows[i].rxBytes, txBytes: rows[i].txBytes, rxPackets: rows[i].rxPackets, txPackets: rows[i].txPackets };
    return next;
  }

  /** @internal */
  private dimId(d: UsageDelta | FlushBatch['closed'][number]): number {
    const key = dimKey(d);
    let id = this.dimIds.get(key);
    if (id === undefined) {
      const args = [d.process, d.pid ?? -1, d.app ?? '', d.ifname, d.ifkind];
      const row = this.st.dimGet.get(...args) as { id: number } | undefined;
      id = row ? row.id : Number(this.st.dimPut.run(...args).lastInsertRowid);
      this.dimIds.set(key, id);
    }
    return id;
  }

  /** @internal */
  private write(b: FlushBatch): void {
    const perHour = new Map<string, { hour: number; dim: number; slots: MinuteSlot[] }>();
    for (const d of b.deltas) {
      const dim = this.dimId(d);
      const hour = Math.floor(d.minute / HOUR_MS);
      const k = `${hour}:${dim}`;
      let h = perHour.get(k);
      if (!h) perHour.set(k, (h = { hour, dim, slots: [] }));
      h.slots.push({ minute: Math.floor((d.minute - hour * HOUR_MS) / MINUTE_MS), rxBytes: d.rxBytes, txBytes: d.txBytes, rxPackets: d.rxPackets, txPackets: d.txPackets, flows: d.flows });
      this.st.hourAdd.run(hour, dim, d.rxBytes, d.txBytes, d.rxPackets, d.txPackets, d.flows);
      this.st.dayAdd.run(Math.floor(d.minute / DAY_MS), dim, d.rxBytes, d.txBytes, d.rxPackets, d.txPackets, d.flows);
    }
    for (const h of perHour.values()) {
      const old = this.st.minGet.get(h.hour, h.dim) as { minutes: Uint8Array } | undefined;
      this.st.minPut.run(h.hour, h.dim, mergeMinutes(old?.minutes, h.slots));
    }
    for (const c of b.closed) {
      this.st.flowPut.run(this.dimId(c), c.provider, c.local ?? null, c.remote ?? null, c.start, c.end, c.rxBytes, c.txBytes, c.rxPackets, c.txPackets);
    }
    if (b.closed.length > 0) this.st.flowCap.run(this.retention.flowLogRows);
    this.st.metaPut.run('last_flush', b.time);
    this.prune(b.time);
  }

  /** @internal */
  /**
   * Roll-up: every delta is already in the hour and day tables, so expiring fine buckets is only
   * a delete and can never change a total. The cuts say from when each table is complete.
   */
  private prune(now: number): void {
    const r = this.retention;
    const cuts = this.cuts();
    const minuteCut = Math.floor((now - r.minuteDays * DAY_MS) / HOUR_MS);
    let deleted = 0;
    if (minuteCut > cuts.minuteCut) {
      deleted += this.db.prepare('DELETE FROM minute_usage WHERE hour < ?').run(minuteCut).changes;
      this.st.metaPut.run('minute_cut', minuteCut);
    }
    const hourCut = Math.floor((now - r.hourDays * DAY_MS) / DAY_MS) * 24;
    if (Number.isFinite(hourCut) && hourCut > cuts.hourCut) {
      deleted += this.db.prepare('DELETE FROM hour_usage WHERE hour < ?').run(hourCut).changes;
      this.st.metaPut.run('hour_cut', hourCut);
    }
    if (Number.isFinite(r.dayDays)) deleted += this.db.prepare('DELETE FROM day_usage WHERE day < ?').run(Math.floor((now - r.dayDays * DAY_MS) / DAY_MS)).changes;
    // Give the pages the roll-up freed back to the file system (schema v2: auto_vacuum =
    // INCREMENTAL); in WAL mode the file shrinks at the next checkpoint. Only after a roll-up
    // deleted rows (the minute cut moves once an hour): the flow log's churn reuses its own pages.
    if (deleted > 0) this.db.pragma('incremental_vacuum');
  }

  /** @internal */
  private cuts(): Cuts {
    const get = (k: string) => (this.st.metaGet.get(k) as { value: number } | undefined)?.value ?? -Infinity;
    return { minuteCut: get('minute_cut'), hourCut: get('hour_cut') };
  }

  /** When the recording agent last flushed (ms epoch), if ever. */
  lastFlush(): number | undefined {
    return (this.st.metaGet.get('last_flush') as { value: number } | undefined)?.value;
  }

  /** @internal */
  private dim(id: number): DimRow {
    let d = this.dimRows.get(id);
    if (!d) {
      this.dimRows = new Map((this.db.prepare('SELECT id, process, pid, app, ifname, ifkind FROM dims').all() as (DimRow & { id: number })[]).map((r) => [r.id, r]));
      d = this.dimRows.get(id) ?? { process: '?', pid: -1, app: '', ifname: '?', ifkind: 'unknown' };
    }
    return d;
  }

  /** @internal */
  private buckets(since: number, until: number): BucketRow[] {
    const out: BucketRow[] = [];
    // One read transaction: a flush by the agent in between cannot make the parts inconsistent.
    this.db.transaction(() => this.scanner.scan(since, until, this.cuts(), (r) => out.push(r)))();
    return out;
  }

  query(q: { since: number; until: number; by: UsageBy; top?: number }): UsageRow[] {
    const g = new RowGrouper(q.by, (id) => this.dim(id));
    for (const b of this.buckets(q.since, q.until)) g.add(b);
    return g.result(q.top);
  }

  series(q: { since: number; until: number; by: 'app' | 'process' | 'interface'; top?: number }): Series {
    const keyOf = (b: BucketRow) => {
      const d = this.dim(b.dim);
      return q.by === 'process' ? d.process : q.by === 'app' ? d.app || d.process : d.ifname;
    };
    return buildSeries(this.buckets(q.since, q.until), q.since, q.until, seriesStep(q.since, q.until), keyOf, q.top);
  }

  /** Closed flows from the flow log (newest first, or largest with `order: 'largest'`). */
  flows(q: FlowLogQuery): FlowLogRow[] {
    return readFlowLog(this.db, q);
  }

  /** Database plus its WAL, in bytes. */
  sizeBytes(): number {
    let n = 0;
    for (const f of [this.path, `${this.path}-wal`]) {
      try {
        n += statSync(f).size;
      } catch {
        // no WAL right now
      }
    }
    return n;
  }
}
