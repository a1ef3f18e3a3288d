/**
 * Interface index -> BSD name (1 -> lo0, 4 -> en0, 14 -> utun3) for the machine whose kernel is
 * being watched. Flow descriptors carry only the ifindex (BEHAVIOUR.md §5: `ifindex` in the TCP and
 * UDP descriptors; only the ifnet provider's descriptor has a name), so every source of events
 * brings an enumerator: if_nameindex() live (transport/ifnames.ts), the simulated world's
 * interfaces, the `serve` side channel over --socket, the table an ntcap capture recorded.
 *
 * Names change while a machine runs (utun and bridge interfaces come and go, an index may be
 * reused), so an index or name the table does not know triggers a new enumeration, at most once
 * per `minRefreshMs`. No I/O here: the enumerator is injected.
 */

export interface InterfaceEntry {
  index: number;
  name: string;
}

/** Sync (if_nameindex, the simulator) or async (a side channel) list of the interfaces now. */
export type InterfaceEnumerator = () => readonly InterfaceEntry[] | Promise<readonly InterfaceEntry[]>;

export interface InterfaceNamesOptions {
  /** Least time between two enumerations triggered by unknown indexes or names (default 5 s). */
  minRefreshMs?: number;
  /** ms clock for the rate limit (default Date.now). */
  clock?: () => number;
}

/** IFNAMSIZ is 16 on Darwin and Linux (net/if.h): names are at most 15 bytes. Longer input is not a name. */
const MAX_NAME = 15;

/**
 * The valid entries of an untrusted table (a capture header, a side channel): index an integer in
 * 1..2^32-1, name a non-empty string of at most 15 characters. Anything else is dropped.
 */
export function sanitizeInterfaceTable(v: unknown): InterfaceEntry[] {
  if (!Array.isArray(v)) return [];
  const out: InterfaceEntry[] = [];
  for (const e of v as unknown[]) {
    const x = e as { index?: unknown; name?: unknown } | null;
    if (!x || typeof x !== 'object') continue;
    const { index, name } = x;
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 1 || index > 0xffffffff) continue;
    if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME) continue;
    out.push({ index, name });
  }
  return out;
}

export class InterfaceNames {
  /** @internal */
  private byIndex = new Map<number, string>();
  /** @internal */
  private byName = new Map<string, number>();
  /** @internal */
  private readonly minRefreshMs: number;
  /** @internal */
  private readonly clock: () => number;
  /** @internal */
  private lastRefresh = -Infinity;
  /** @internal */
  private running: Promise<void> | undefined;
  /** Enumerations done (initial one included). */
  refreshes = 0;
  /** Why the last enumeration failed, if it did (the previous table is kept). */
  lastError?: unknown;

  constructor(
    /** @internal */ private readonly enumerate: InterfaceEnumerator,
    options: InterfaceNamesOptions = {},
  ) {
    this.minRefreshMs = options.minRefreshMs ?? 5000;
    this.clock = options.clock ?? Date.now;
  }

  /** A fixed table (a recording): never re-enumerated. */
  static fixed(entries: readonly InterfaceEntry[]): InterfaceNames {
    const names = new InterfaceNames(() => entries, { minRefreshMs: Infinity });
    names.set(entries);
    return names;
  }

  /** BSD name of `index`, or undefined (0 = no interface; an unknown index re-enumerates, rate-limited). */
  name(index: number | undefined): string | undefined {
    if (!index) return undefined;
    const n = this.byIndex.get(index);
    if (n !== undefined) return n;
    this.refreshIfDue();
    return this.byIndex.get(index);
  }

  /** Index of a BSD name now, or undefined (an unknown name re-enumerates, rate-limited). */
  index(name: string): number | undefined {
    const i = this.byName.get(name);
    if (i !== undefined) return i;
    this.refreshIfDue();
    return this.byName.get(name);
  }

  /** The table as last enumerated, by index. */
  entries(): InterfaceEntry[] {
    return [...this.byIndex].map(([index, name]) => ({ index, name })).sort((a, b) => a.index - b.index);
  }

  /**
   * Enumerate now (regardless of the rate limit). A sync enumerator's table is in place when this
   * returns; an async one's when the promise settles. A failure keeps the previous table.
   */
  refresh(): Promise<void> {
    if (this.running) return this.running;
    this.lastRefresh = this.clock();
    let result: readonly InterfaceEntry[] | Promise<readonly InterfaceEntry[]>;
    try {
      result = this.enumerate();
    } catch (e) {
      this.lastError = e;
      return Promise.resolve();
    }
    if (!isPromise(result)) {
      this.set(result);
      return Promise.resolve();
    }
    const p = result.then(
      (t) => this.set(t),
      (e: unknown) => {
        this.lastError = e;
      },
    );
    this.running = p.finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** @internal */
  private refreshIfDue(): void {
    if (this.running || this.clock() - this.lastRefresh < this.minRefreshMs) return;
    void this.refresh();
  }

  /** @internal */
  private set(table: readonly InterfaceEntry[]): void {
    this.refreshes++;
    delete this.lastError;
    const byIndex = new Map<number, string>();
    const byName = new Map<string, number>();
    for (const e of table) {
      byIndex.set(e.index, e.name);
      byName.set(e.name, e.index);
    }
    this.byIndex = byIndex;
    this.byName = byName;
  }
}

function isPromise<T>(v: T | Promise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown })?.then === 'function';
}
