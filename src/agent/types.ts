/**
 * The agent's public view, shared with the metrics exporter and the dashboard (CONTRACT-agent.md).
 * Everything here is data; numbers are exact (bytes and packets as the kernel counted them).
 * (The contract's inline `import('node:events').EventEmitter` cannot be extended in TypeScript;
 * the same types are imported by name below.)
 */
import type { EventEmitter } from 'node:events';
import type { Stream } from '../model/stream.js';

export interface ProcessUsage {        // monotonic since agent start; closed flows keep counting
  key: string;                         // stable group key, e.g. "name:curl|app:Safari|pid:123"
  process: string;                     // process name as the kernel sent it (raw, untrusted text)
  pid?: number;
  app?: string;                        // responsible app (effective process name, when different)
  rxBytes: number; txBytes: number; rxPackets: number; txPackets: number;
  flows: number;                       // flows opened (ever seen) in this group
  liveFlows: number;
  rxBytesPerSec: number; txBytesPerSec: number;   // over the last poll window
  lastSeen: number;                    // ms epoch
}
export interface InterfaceUsage {
  name: string;                        // BSD name (en0, lo0, utun3) when known, else "if<index>"
  kind: string;                        // wifi|wired|cellular|loopback|awdl|other|unknown
  rxBytes: number; txBytes: number; rxPackets: number; txPackets: number;
  source: 'ifnet' | 'flows';           // from the ifnet provider, or summed from flows
}
export interface AgentStatus {
  startedAt: number;                   // ms epoch
  kernel: { xnu?: string; macos?: string; dialect: string; verified: boolean; simulated: boolean };
  providers: { name: string; available: boolean; reason?: string }[];
  drops: { total: number; byReason: Record<string, number> };
  db?: { path: string; sizeBytes: number; lastFlush?: number };
  streams: number;                     // live streams now
}
export interface AgentView extends EventEmitter {
  status(): AgentStatus;
  processes(): ProcessUsage[];         // all groups, largest (rx+tx) first
  interfaces(): InterfaceUsage[];
  streams(): readonly Stream[];   // live streams now
  /** History (null when running with --no-db). Same numbers as `ntstat usage --json`. */
  store(): UsageQuery | null;
  // events: 'poll' (time: number) after every applied poll; 'flush' (time) after a DB flush;
  //         'stream' (kind: 'added'|'update'|'removed', s: Stream) forwarded from the client
}
export interface UsageRow {            // one line of `ntstat usage --json`
  key: string; rxBytes: number; txBytes: number; rxPackets: number; txPackets: number; flows: number;
  process?: string; pid?: number; app?: string; interface?: string; kind?: string; time?: string;
}
export interface UsageQuery {
  query(q: { since: number; until: number; by: 'app'|'process'|'pid'|'interface'|'day'|'hour'; top?: number }): UsageRow[];
  /** Time series for charts: one row per bucket; step chosen from the range (minute/hour/day). */
  series(q: { since: number; until: number; by: 'app'|'process'|'interface'; top?: number }):
    { stepSeconds: number; times: number[]; series: { key: string; rx: number[]; tx: number[] }[] };
  sizeBytes(): number;
}
