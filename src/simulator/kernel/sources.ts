/**
 * A client's sources (`nstat_src`, `ntc_src_queue`): a list with new sources inserted at the
 * head (TAILQ_INSERT_HEAD in `nstat_control_source_add`), so every ALL poll walks newest first
 * (§2.6), plus indexes by srcref and by world object for O(1) lookups.
 */
import type { WorldObject } from '../world/entities.js';
import type { Endpoint } from '../../protocol/index.js';
import type { Provider } from './providers.js';

/** The per-source cookie state the kernel keeps (`nstat_tucookie` fields that matter). */
export interface UdpCache {
  local?: Endpoint;
  remote?: Endpoint;
  ifindex: number;
  ifnetProps: number;
}

export interface Source {
  readonly srcref: bigint;
  readonly provider: Provider;
  readonly obj: WorldObject;
  /** Per-source u32 filter (NOZEROBYTES 0x1, TCP_NO_EARLY_CLOSE), from the provider filter or SET_FILTER. */
  filter: number;
  /** Paced-query sequence stamp (`nts_seq`). */
  seq: number;
  /** `nts_reported` (12.1+): an update was delivered since the last generic event. */
  reported: boolean;
  /** SRC_ADDED was delivered for it (false when SUPPRESS_SRC_ADDED). */
  readonly announced: boolean;
  /** Context of the SRC_ADDED (0 for watcher adds, the request's for ADD_SRC). */
  readonly addedContext: bigint;
  readonly addedAt: number;
  /** tucookie->ifnet_properties: last role (B14+) for CLOSED TCP sockets. */
  roleCache: number;
  /** tucookie cached tuple after a UDP disconnect (`nstat_pcb_cache`). */
  udpCache?: UdpCache;
  /** tucookie->if_index (UDP: last known interface). */
  cachedIfindex: number;
  /** List links (newest at head). */
  prev?: Source;
  next?: Source;
  /** Removed from the client's list. */
  dead: boolean;
}

export class SourceList {
  head?: Source;
  tail?: Source;
  size = 0;
  /** @internal */
  private readonly bySrcref = new Map<bigint, Source>();
  /** @internal */
  private readonly byObject = new Map<WorldObject, Source[]>();

  insertHead(s: Source): void {
    s.next = this.head;
    s.prev = undefined;
    if (this.head) this.head.prev = s;
    this.head = s;
    if (!this.tail) this.tail = s;
    this.size++;
    this.bySrcref.set(s.srcref, s);
    const l = this.byObject.get(s.obj);
    if (l) l.push(s);
    else this.byObject.set(s.obj, [s]);
  }

  remove(s: Source): void {
    if (s.dead) return;
    s.dead = true;
    if (s.prev) s.prev.next = s.next;
    else this.head = s.next;
    if (s.next) s.next.prev = s.prev;
    else this.tail = s.prev;
    this.size--;
    this.bySrcref.delete(s.srcref);
    const l = this.byObject.get(s.obj);
    if (l) {
      const i = l.indexOf(s);
      if (i >= 0) l.splice(i, 1);
      if (l.length === 0) this.byObject.delete(s.obj);
    }
    // keep s.next so an iteration holding `s` can continue (TAILQ_FOREACH_SAFE semantics)
  }

  get(srcref: bigint): Source | undefined {
    return this.bySrcref.get(srcref);
  }

  has(srcref: bigint): boolean {
    return this.bySrcref.has(srcref);
  }

  /** The first source in list order (= most recently added) for `obj`, like the kernel's scans. */
  firstFor(obj: WorldObject): Source | undefined {
    const l = this.byObject.get(obj);
    return l && l.length > 0 ? l[l.length - 1] : undefined;
  }

  allFor(obj: WorldObject): readonly Source[] {
    return this.byObject.get(obj) ?? [];
  }

  *[Symbol.iterator](): IterableIterator<Source> {
    for (let s = this.head; s; ) {
      const next = s.next;
      yield s;
      s = next;
    }
  }

  clear(): void {
    for (const s of this) s.dead = true;
    this.head = this.tail = undefined;
    this.size = 0;
    this.bySrcref.clear();
    this.byObject.clear();
  }
}
