/**
 * Optional reverse DNS for remote addresses (`--resolve`; nettop's `-n` is the default here).
 * Never blocks the event loop: lookups are `dns.promises.reverse` (c-ares, asynchronous), at
 * most `concurrency` at a time from a bounded queue; answers (and failures) are cached, so each
 * address is asked once. A view calls `lookup()` with the addresses it shows and reads `host()`
 * on its next frame. The resolver function is injectable: tests never touch the network.
 */
export type ReverseFn = (address: string) => Promise<string[]>;

export interface HostResolverOptions {
  reverse?: ReverseFn;
  concurrency?: number;
  /** Addresses waiting at most (the rest are asked again on a later frame). */
  maxQueue?: number;
  /** Cached answers at most (oldest forgotten first). */
  maxCache?: number;
}

export class HostResolver {
  private readonly cache = new Map<string, string | null>();
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private active = 0;
  private reverseFn: ReverseFn | undefined;
  private readonly concurrency: number;
  private readonly maxQueue: number;
  private readonly maxCache: number;
  /** Called after an answer arrives (e.g. to redraw). */
  onAnswer?: () => void;

  constructor(opts: HostResolverOptions = {}) {
    this.reverseFn = opts.reverse;
    this.concurrency = opts.concurrency ?? 4;
    this.maxQueue = opts.maxQueue ?? 256;
    this.maxCache = opts.maxCache ?? 4096;
  }

  /** The cached host name of `address`, if a lookup found one. */
  host(address: string): string | undefined {
    return this.cache.get(address) ?? undefined;
  }

  /** Ask for `address` unless it is cached, queued, or the queue is full. */
  lookup(address: string): void {
    if (this.cache.has(address) || this.queued.has(address) || this.queue.length >= this.maxQueue) return;
    if (isUnspecified(address)) return;
    this.queue.push(address);
    this.queued.add(address);
    this.pump();
  }

  /** Resolves when nothing is queued or in flight (tests, and snapshots that want names). */
  async idle(): Promise<void> {
    while (this.active > 0 || this.queue.length > 0) await new Promise((r) => setImmediate(r));
  }

  private pump(): void {
    while (this.active < this.concurrency && this.queue.length > 0) {
      const address = this.queue.shift()!;
      this.active++;
      void this.ask(address).finally(() => {
        this.active--;
        this.queued.delete(address);
        this.pump();
      });
    }
  }

  private async ask(address: string): Promise<void> {
    let name: string | null = null;
    try {
      this.reverseFn ??= (await import('node:dns')).promises.reverse;
      const names = await this.reverseFn(address);
      name = names[0] ?? null;
    } catch {
      name = null; // NXDOMAIN, timeouts: shown as the address
    }
    if (this.cache.size >= this.maxCache) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(address, name);
    if (name !== null) this.onAnswer?.();
  }
}

function isUnspecified(address: string): boolean {
  return address === '0.0.0.0' || address === '::' || address === '';
}
