/**
 * The routing table: routes added by scenarios, longest-prefix lookups (rt_lookup), and the
 * cloned host routes connections use (RTF_WASCLONED, expiring like `rtexpire`). New routes are
 * reported through `nstat_route_new_entry` (the routeNew hook).
 */
import type { Endpoint } from '../../protocol/index.js';
import { addrBytes, maskEndpoint, prefixMatch, sameAddress } from './addresses.js';
import { endpoint } from './catalog.js';
import { RTF_GATEWAY, RTF_HOST, RTF_UP, RTF_WASCLONED, zeroCounts, type NetInterface, type RouteEntry } from './entities.js';
import type { WorldHooks } from './hooks.js';
import type { Scheduler } from './scheduler.js';

/** What the table needs of the world. */
export interface RouteWorld {
  id(): number;
  readonly now: number;
  readonly sched: Scheduler;
  readonly hooks: WorldHooks;
}

export class RouteTable {
  /** Routing table, insertion order (ADD_ALL walks it in this order). */
  readonly routes = new Map<number, RouteEntry>();
  private readonly clonedRoutes = new Map<string, RouteEntry>();

  constructor(private readonly w: RouteWorld) {}

  add(spec: { dst: string; prefixLen: number; ifp: NetInterface; gateway?: string; flags?: number }): RouteEntry {
    const id = this.w.id();
    const fam = spec.dst.includes(':') ? 6 : 4;
    const maskEp = spec.prefixLen === (fam === 4 ? 32 : 128) ? undefined : maskEndpoint(fam, spec.prefixLen);
    const hash = (n: number) => (0xffffff8000000000n + BigInt(n) * 0x1c0n).toString();
    const r: RouteEntry = {
      id,
      kind: 'route',
      version: 0,
      routeId: hash(id),
      parentId: '0',
      gatewayId: '0',
      dst: endpoint(spec.dst, 0),
      mask: maskEp,
      prefixLen: spec.prefixLen,
      gateway: spec.gateway ? endpoint(spec.gateway, 0) : undefined,
      ifp: spec.ifp,
      flags: (spec.flags ?? 0) | RTF_UP | (spec.gateway ? RTF_GATEWAY : 0) | (maskEp ? 0 : RTF_HOST),
      counts: zeroCounts(),
      connectAttempts: 0,
      connectSuccesses: 0,
    };
    this.routes.set(id, r);
    this.w.hooks.routeNew(r);
    return r;
  }

  /** Route no longer UP: its sources become "gone" (reaped by idle check / polls, §5.6). */
  down(r: RouteEntry): void {
    if ((r.flags & RTF_UP) === 0) return;
    r.flags &= ~RTF_UP;
    r.version++;
    this.routes.delete(r.id);
  }

  /** Longest-prefix match (rt_lookup without mask), scoped to `ifindex` when non-zero. */
  lookup(address: string, ifindex = 0): RouteEntry | undefined {
    const fam = address.includes(':') ? 6 : 4;
    const bytes = addrBytes(address);
    let best: RouteEntry | undefined;
    for (const r of this.routes.values()) {
      if (r.dst.family !== fam) continue;
      if (ifindex !== 0 && r.ifp.ifindex !== ifindex) continue;
      if (!prefixMatch(bytes, addrBytes(r.dst.address), r.prefixLen)) continue;
      if (!best || r.prefixLen > best.prefixLen) best = r;
    }
    return best;
  }

  /** Exact match (rt_lookup with a mask). */
  lookupExact(address: string, prefixLen: number, ifindex = 0): RouteEntry | undefined {
    for (const r of this.routes.values()) {
      if (r.prefixLen !== prefixLen || (ifindex !== 0 && r.ifp.ifindex !== ifindex)) continue;
      if (sameAddress(r.dst.address, address)) return r;
    }
    return undefined;
  }

  /**
   * The cloned host route a connection to `remote` uses (RTF_WASCLONED, created on first use,
   * expiring after a minute without connections, like `rtexpire`).
   */
  routeFor(remote: Endpoint, ifp: NetInterface): RouteEntry | undefined {
    const key = `${ifp.ifindex}/${remote.address}`;
    let r = this.clonedRoutes.get(key);
    if (!r || (r.flags & RTF_UP) === 0) {
      const parent = this.lookup(remote.address, ifp.ifindex) ?? this.lookup(remote.address);
      if (!parent) return undefined;
      r = this.add({
        dst: remote.address,
        prefixLen: remote.family === 4 ? 32 : 128,
        ifp: parent.ifp,
        gateway: parent.gateway?.address,
        flags: RTF_WASCLONED | RTF_HOST,
      });
      r.parentId = parent.routeId;
      this.clonedRoutes.set(key, r);
    }
    const route = r;
    route.version++;
    const stamp = this.w.now;
    route.lastUse = stamp;
    this.w.sched.after(60_000, () => {
      if (route.lastUse === stamp) {
        this.clonedRoutes.delete(key);
        this.down(route);
      }
    });
    return route;
  }
}
