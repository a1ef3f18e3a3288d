/**
 * Recognising a flow across agent sessions. srcrefs are per session, so a restarted agent (or a
 * new session seeing a TIME_WAIT socket again) matches what the kernel says about the flow.
 *
 * An identity is `key#detail`. Where the descriptor carries the flow's start time (B13+
 * descriptors, userland flows) the key is provider + owner's unique pid + start time, and the
 * endpoints are only the detail: they can change after the flow starts (a UDP socket connects, a
 * connecting socket gets its local address), and flows made in the same instant share a key.
 * Older kernels give no start time: the endpoints are then part of the key.
 */
import type { Stream } from '../model/stream.js';
import type { Endpoint } from '../protocol/sockaddr.js';
import { endpointAddressText } from '../protocol/sockaddr.js';
import type { OpenFlowState, Totals } from '../store/records.js';

export function endpointText(ep: Endpoint | undefined): string {
  return ep ? `${endpointAddressText(ep)}:${ep.port}` : '';
}

export function flowIdentity(s: Stream): string {
  const start = s.descriptor?.startTimestamp;
  const ends = `${endpointText(s.local)}|${endpointText(s.remote)}`;
  if (start !== undefined && start !== 0) return `${s.providerKind}|${s.upid ?? s.pid ?? ''}|@${String(start)}#${ends}`;
  return `${s.providerKind}|${s.upid ?? ''}|${s.pid ?? ''}|${ends}#`;
}

function split(identity: string): [string, string] {
  const i = identity.lastIndexOf('#');
  return i < 0 ? [identity, ''] : [identity.slice(0, i), identity.slice(i + 1)];
}

interface Entry extends Totals {
  detail: string;
  /** When the flow ended (recently closed flows), ms. */
  end?: number;
}

function notBelow(c: Totals, t: Totals): boolean {
  return c.rxBytes >= t.rxBytes && c.txBytes >= t.txBytes && c.rxPackets >= t.rxPackets && c.txPackets >= t.txPackets;
}

/** Stored counters by identity; a flow claims the one that is surely its own, or none. */
export class IdentityPool {
  private readonly byKey = new Map<string, Entry[]>();

  add(identity: string, t: Totals, end?: number): void {
    const [key, detail] = split(identity);
    let l = this.byKey.get(key);
    if (!l) this.byKey.set(key, (l = []));
    const e: Entry = { detail, rxBytes: t.rxBytes, txBytes: t.txBytes, rxPackets: t.rxPackets, txPackets: t.txPackets };
    if (end !== undefined) e.end = end;
    l.push(e);
  }

  /**
   * The stored counters of this flow: same key, counters the flow has not gone below (smaller
   * counters mean another flow), same endpoints preferred; among several candidates the largest,
   * so an ambiguous match can miss growth but never count bytes twice.
   */
  claim(identity: string, c: Totals | undefined): Totals | undefined {
    const [key, detail] = split(identity);
    const l = this.byKey.get(key);
    if (!l) return undefined;
    const fits = l.map((e, i) => [e, i] as const).filter(([e]) => !c || notBelow(c, e));
    if (fits.length === 0) return undefined;
    const exact = fits.filter(([e]) => e.detail === detail);
    const pool = exact.length > 0 ? exact : fits;
    let best = pool[0];
    for (const p of pool) if (p[0].rxBytes + p[0].txBytes > best[0].rxBytes + best[0].txBytes) best = p;
    l.splice(best[1], 1);
    if (l.length === 0) this.byKey.delete(key);
    return best[0];
  }

  /** Drop entries that ended before `cutoff` (entries without an end are kept). */
  expire(cutoff: number): void {
    for (const [key, l] of this.byKey) {
      const keep = l.filter((e) => e.end === undefined || e.end >= cutoff);
      if (keep.length === 0) this.byKey.delete(key);
      else if (keep.length !== l.length) this.byKey.set(key, keep);
    }
  }

  clear(): void {
    this.byKey.clear();
  }

  entries(): OpenFlowState[] {
    const out: OpenFlowState[] = [];
    for (const [key, l] of this.byKey) for (const e of l) out.push({ identity: `${key}#${e.detail}`, rxBytes: e.rxBytes, txBytes: e.txBytes, rxPackets: e.rxPackets, txPackets: e.txPackets });
    return out;
  }
}
