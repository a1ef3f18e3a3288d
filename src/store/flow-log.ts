/**
 * Reading the flow log back (issue 14): closed flows with their process, endpoints, interface and
 * final totals. A flow is in a range when it was open at some time in [since, until): it started
 * before `until` and ended at or after `since`.
 */
import type { SqliteDatabase } from './sqlite.js';

export interface FlowLogRow {
  /** ISO 8601 (UTC) start and end: start as the agent first saw the flow (or the descriptor's start). */
  start: string;
  end: string;
  durationMs: number;
  process: string;
  pid?: number;
  app?: string;
  /** tcp|udp|quic, with `-userland` for userland (NECP/Skywalk) flows. */
  provider: string;
  local?: string;
  remote?: string;
  /** BSD name (en0), if<index> where the source could not name it, ? without an interface. */
  interface: string;
  kind: string;
  rxBytes: number;
  txBytes: number;
  rxPackets: number;
  txPackets: number;
}

export interface FlowLogQuery {
  since: number;
  until: number;
  /** 'newest' (default): latest end first; 'largest': most bytes (rx + tx) first. */
  order?: 'newest' | 'largest';
  /** At most this many rows (after `match`). */
  limit?: number;
  /** Keep only rows this accepts (process or app filters). */
  match?: (r: FlowLogRow) => boolean;
}

interface Raw {
  provider: string;
  local: string | null;
  remote: string | null;
  start_ms: number;
  end_ms: number;
  rx_bytes: number;
  tx_bytes: number;
  rx_packets: number;
  tx_packets: number;
  process: string;
  pid: number;
  app: string;
  ifname: string;
  ifkind: string;
}

function toRow(r: Raw): FlowLogRow {
  const row: FlowLogRow = {
    start: new Date(r.start_ms).toISOString(),
    end: new Date(r.end_ms).toISOString(),
    durationMs: Math.max(0, r.end_ms - r.start_ms),
    process: r.process,
    provider: r.provider,
    interface: r.ifname,
    kind: r.ifkind,
    rxBytes: r.rx_bytes,
    txBytes: r.tx_bytes,
    rxPackets: r.rx_packets,
    txPackets: r.tx_packets,
  };
  // Stored sentinels (schema.ts): pid -1 and app '' mean absent.
  if (r.pid >= 0) row.pid = r.pid;
  if (r.app !== '') row.app = r.app;
  if (r.local !== null && r.local !== '') row.local = r.local;
  if (r.remote !== null && r.remote !== '') row.remote = r.remote;
  return row;
}

export function readFlowLog(db: SqliteDatabase, q: FlowLogQuery): FlowLogRow[] {
  const order = q.order === 'largest' ? 'f.rx_bytes + f.tx_bytes DESC, f.id DESC' : 'f.end_ms DESC, f.id DESC';
  const stmt = db.prepare(
    'SELECT f.provider, f.local, f.remote, f.start_ms, f.end_ms, f.rx_bytes, f.tx_bytes, f.rx_packets, f.tx_packets, ' +
      'd.process, d.pid, d.app, d.ifname, d.ifkind FROM flow_log f JOIN dims d ON d.id = f.dim ' +
      `WHERE f.start_ms < ? AND f.end_ms >= ? ORDER BY ${order}`,
  );
  const out: FlowLogRow[] = [];
  const limit = q.limit ?? Infinity;
  if (limit <= 0) return out;
  for (const raw of stmt.iterate(q.until, q.since)) {
    const row = toRow(raw as Raw);
    if (q.match && !q.match(row)) continue;
    out.push(row);
    if (out.length >= limit) break;
  }
  return out;
}
