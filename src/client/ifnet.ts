/**
 * Subscribing to the ifnet provider (issue 13 §2, BEHAVIOUR.md §2.2, §5.7). It has no watcher
 * (ADD_ALL → ENOTSUP), so each interface is added on its own with ADD_SRC {ifindex, threshold}:
 *  - interfaces come from a list (index → BSD name) when the caller has one; otherwise the
 *    kernel is probed for indexes 1…PROBE_MAX_INDEX (an absent index is EINVAL, and the
 *    descriptor then names the interface);
 *  - ADD_SRC succeeds silently (a SRC_ADDED with its context) and fails with an ERROR carrying
 *    its context. Requests are handled in order inside send() (§2.1), so once a later request
 *    has been answered every earlier answer has arrived: the barrier is ADD_ALL_SRCS(ifnet),
 *    which every kernel refuses with ENOTSUP before any other check (`*_handle_add_all`);
 *  - the threshold must be ≥ 1 MiB (EINVAL below). The interface's effective threshold is the
 *    minimum over all clients, and lowering it re-describes every client's ifnet sources, so the
 *    default is high (1 GiB): counters come from the sweeps, threshold notices are not needed;
 *  - with net.statistics_privcheck ≠ 0 an unprivileged ADD_SRC is EPERM: said once, not fatal.
 */
import { DarwinErrno, providerId } from '../protocol/constants.js';
import type { Dialect } from '../protocol/dialect.js';
import { encodeIfnetAddParam, hasIfnetProvider, IFNET_MIN_THRESHOLD } from '../protocol/ifnet.js';
import type { Request } from '../protocol/messages.js';
import { NtstatError } from '../errors.js';
import type { Completion } from './pending.js';
import type { ProviderStatus } from './options.js';
import type { RequestChannel } from './requests.js';
import type { ClientSession } from './session.js';
import type { StreamEvent } from '../model/events.js';
import { interfaceEventFrom, type InterfaceEvent } from '../model/interface.js';

/** One interface of the watched machine: if_index and, when known, its BSD name. */
export interface InterfaceName {
  index: number;
  name?: string;
}

/** Lists the watched machine's interfaces (live: if_nameindex; simulator: its world; …). */
export type InterfaceLister = () => readonly InterfaceName[] | Promise<readonly InterfaceName[]>;

/** 1 GiB: far above the kernel's 1 MiB minimum, so adding our sources rarely lowers anyone's. */
export const DEFAULT_IFNET_THRESHOLD = 1024 * 1024 * 1024;
/** Indexes probed when no interface list is available. */
export const PROBE_MAX_INDEX = 64;

/** What the client lends the subscription (client.ts). */
export interface IfnetHost {
  readonly dialect: Dialect;
  allocate(): bigint;
  expect(context: bigint, onDone: (m: Completion) => void): void;
  forget(context: bigint): void;
  send(req: Request): void;
  /** A request that ends with SUCCESS or ERROR, awaited. */
  request(build: (context: bigint) => Request): Promise<Completion>;
}

export interface IfnetSubscription {
  available: boolean;
  errno?: number;
  reason?: string;
  /** Interfaces added (index → name when the list gave one). */
  added: InterfaceName[];
  /** Indexes the kernel refused, with the errno. */
  refused: { index: number; errno: number }[];
}

export function checkThreshold(threshold: number): number {
  if (!Number.isSafeInteger(threshold) || threshold < IFNET_MIN_THRESHOLD) {
    throw new NtstatError('ERR_NTSTAT_USAGE', `the ifnet threshold must be an integer of at least ${IFNET_MIN_THRESHOLD} bytes (1 MiB, the kernel's minimum), got ${threshold}`);
  }
  return threshold;
}

export async function subscribeIfnet(host: IfnetHost, opts: { list?: InterfaceLister; threshold?: number } = {}): Promise<IfnetSubscription> {
  const d = host.dialect;
  const id = providerId(d, 'ifnet');
  if (id === undefined || !hasIfnetProvider(d)) return { available: false, reason: 'not in this kernel version', added: [], refused: [] };
  const threshold = checkThreshold(opts.threshold ?? DEFAULT_IFNET_THRESHOLD);
  let list: readonly InterfaceName[];
  list = opts.list ? await opts.list() : [];
  // No enumeration, or it found nothing (it failed): ask the kernel about every index.
  const probing = list.length === 0;
  if (probing) list = Array.from({ length: PROBE_MAX_INDEX }, (_, i) => ({ index: i + 1 }));
  const errors = new Map<number, number>();
  const contexts: bigint[] = [];
  for (const ifc of list) {
    const context = host.allocate();
    contexts.push(context);
    host.expect(context, (m) => {
      if (m.kind === 'error') errors.set(ifc.index, m.errno);
    });
    host.send({ kind: 'addSrc', context, flags: 0, provider: id, param: encodeIfnetAddParam(d, ifc.index, threshold) });
  }
  // The barrier: answered after every ADD_SRC above (ENOTSUP; whatever it says, it came last).
  await host.request((context) => ({ kind: 'addAllSrcs', context, flags: 0, provider: id, filter: 0n, events: 0n, targetPid: 0 }));
  for (const c of contexts) host.forget(c);
  const added = list.filter((i) => !errors.has(i.index)).map((i) => ({ ...i }));
  const refused = [...errors].map(([index, errno]) => ({ index, errno }));
  if (added.length > 0) return { available: true, added, refused };
  const perm = refused.find((r) => r.errno === DarwinErrno.EPERM);
  if (perm) return { available: false, errno: DarwinErrno.EPERM, reason: 'EPERM: net.statistics_privcheck is set; needs root or the network-statistics entitlement', added, refused };
  return {
    available: false,
    reason: probing ? `no interface answered (indexes 1–${PROBE_MAX_INDEX} probed)` : 'no listed interface could be added',
    added,
    refused,
  };
}

/**
 * Stream events of ifnet sources → interface events. Adding an interface sends SRC_DESC (context
 * 0) to every ifnet source of every client whenever a threshold is set or lowered (§3.3), so a
 * source's first descriptor may come without counts: an interface is announced (`added`) at its
 * first event that carries counters, never with made-up zeros. With a self-test-inferred layout
 * nothing is announced.
 */
export class InterfaceEventSource {
  private readonly announced = new Set<string>();

  constructor(
    private readonly dialect: () => Dialect,
    private readonly names: ReadonlyMap<number, string>,
    /** The table still holds the subscription's first view (`initial` streams). */
    private readonly initialPhase: () => boolean,
    /** Indexes with an ifnet source: a removed interface leaves it (followInterfaces re-adds it). */
    private readonly watched?: Set<number>,
  ) {}

  convert(ev: StreamEvent): InterfaceEvent | undefined {
    // Tables the layout self-test adjusted place the flow descriptors, not the ifnet one: an
    // interface would be shown with guessed fields, so none is (issue 12: never fake data).
    if (this.dialect().inferred) return undefined;
    const id = ev.stream.id;
    if (ev.event === 'removed') {
      const index = ev.stream.ifindex;
      if (index !== undefined) this.watched?.delete(index);
      if (!this.announced.delete(id)) return undefined;
      return interfaceEventFrom(this.dialect(), ev, this.names);
    }
    if (!ev.stream.counts) return undefined;
    if (this.announced.has(id)) return interfaceEventFrom(this.dialect(), { ...ev, event: 'update' }, this.names);
    this.announced.add(id);
    const out = interfaceEventFrom(this.dialect(), { ...ev, event: 'added' }, this.names);
    if (this.initialPhase() || ev.initial) out.initial = true;
    return out;
  }
}

/**
 * The client's ifnet subscription (subscription.ts calls it after the ADD_ALLs): the source's
 * interface enumeration when it has one (model/interface-names.ts), else probing. A refusal marks
 * ifnet unavailable and is said once, as a warning; it is never fatal by itself.
 */
export async function subscribeInterfaces(s: ClientSession, channel: RequestChannel): Promise<void> {
  const names = s.opts.interfaceNames;
  let r: IfnetSubscription;
  try {
    r = await subscribeIfnet(
      {
        dialect: s.dialect!,
        allocate: () => s.pending.allocate(),
        expect: (c, f) => s.pending.expect(c, f),
        forget: (c) => s.pending.forget(c),
        send: (req) => channel.send(req),
        request: (build) => channel.request(build),
      },
      { ...(names ? { list: async () => (await names.refresh(), names.entries()) } : {}), ...(s.opts.ifnetThreshold !== undefined ? { threshold: s.opts.ifnetThreshold } : {}) },
    );
  } catch (e) {
    if (s.state !== 'subscribing') return;
    if (e instanceof NtstatError && e.code === 'ERR_NTSTAT_USAGE') throw e;
    r = { available: false, reason: (e as Error).message, added: [], refused: [] };
  }
  for (const i of r.added) {
    s.ifnetWatched.add(i.index);
    if (i.name !== undefined) s.ifnetNames.set(i.index, i.name);
  }
  const status: ProviderStatus = { provider: 'ifnet', available: r.available };
  if (r.reason !== undefined) status.reason = r.reason;
  if (r.errno !== undefined) status.errno = r.errno;
  s.providerStatus.set('ifnet', status);
  if (!r.available) s.emit('warning', `interfaces (ifnet provider) unavailable: ${r.reason}`);
}

/**
 * Interfaces that appear after the subscription (a VPN's utun, a dock's Ethernet), called after
 * each sweep: every index the source's enumeration lists without an ifnet source gets its ADD_SRC
 * (silent success; the next sweep reports it). A refusal is not retried. Without an enumeration
 * (probing) the set stays as subscribed.
 */
export function followInterfaces(s: ClientSession, channel: RequestChannel): void {
  const names = s.opts.interfaceNames;
  const id = s.dialect ? providerId(s.dialect, 'ifnet') : undefined;
  if (!names || id === undefined || s.providerStatus.get('ifnet')?.available !== true || s.state !== 'running') return;
  for (const c of s.ifnetRequests.splice(0)) s.pending.forget(c);
  const threshold = s.opts.ifnetThreshold ?? DEFAULT_IFNET_THRESHOLD;
  for (const e of names.entries()) {
    if (s.ifnetWatched.has(e.index)) continue;
    s.ifnetWatched.add(e.index);
    s.ifnetNames.set(e.index, e.name);
    const context = s.pending.allocate();
    // An ERROR is expected (kept from reaching 'kernelError'); a success is silent.
    s.pending.expect(context, () => undefined);
    s.ifnetRequests.push(context);
    try {
      channel.send({ kind: 'addSrc', context, flags: 0, provider: id, param: encodeIfnetAddParam(s.dialect!, e.index, threshold) });
    } catch {
      return; // the transport failed: the channel reported it
    }
  }
}
