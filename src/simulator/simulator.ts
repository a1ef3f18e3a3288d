/**
 * Public face of the simulated kernel.
 *
 *  - `SimKernel`: one simulated Mac (a World driven by a Scenario, plus ntstat's global state).
 *    Time only moves when someone calls `advance(ms)`.
 *  - `Simulator`: one client connection to `com.apple.network.statistics` on that kernel: send()
 *    requests, recv() records, SO_RCVBUF, and `groundTruth()` for tests.
 */
import type { NstatStats } from './kernel/lock-yield.js';
import {
  decodeDatagram,
  dialectFor,
  parseVersion,
  providerName,
  type Counts,
  type Descriptor,
  type Dialect,
  type ProviderName,
} from '../protocol/index.js';
import { kernelProfile, type KernelProfile } from './profile.js';
import { Rng } from './prng.js';
import { getScenario } from './scenarios/index.js';
import type { Scenario } from './scenarios/toolkit.js';
import type { ReadResult } from './sockbuf.js';
import { RTF_UP, type ObjectKind, type WorldObject } from './world/entities.js';
import { World, type WorldOptions } from './world/world.js';
import type { DropLedger, MessageKindName, Connection } from './kernel/connection.js';
import { KernelCore } from './kernel/kernel.js';
import { handleSend, SendError } from './kernel/requests.js';
import { descriptorBytes } from './kernel/wire.js';

export { SendError };
export type { ReadResult, DropLedger, MessageKindName };

export interface SimKernelOptions {
  /**
   * Dialect object, or anything `dialectFor` accepts ('d4570', '13.5', 'xnu-8796.141.3', a
   * kern.version string). A version string also selects the kernel *behaviour* of that version
   * (e.g. '8796.141.3' = the 8792.41.9 header with the B14 ADD_SRC rules). Default: newest.
   */
  dialect?: Dialect | string;
  /** XNU tag whose behaviour to simulate (default: derived from `dialect`, else its first tag). */
  kernelVersion?: string;
  /** Scenario name or object; default 'bare' (interfaces and routes only). */
  scenario?: string | Scenario;
  seed?: number;
  /** Scale every scenario rate/population (default 1). */
  scale?: number;
  /** `net.statistics_privcheck` (default false, as on macOS). */
  privcheck?: boolean;
  world?: Omit<WorldOptions, 'seed' | 'capabilities'>;
  sysinfoIntervalMs?: number;
  /**
   * macOS 15+ lock yield (BEHAVIOUR.md §2.6): chance a paced chunk ends after each source past the
   * fifth. Default on for 15+ profiles, as on the real kernel (kernel/lock-yield.ts); 0 turns it off.
   */
  lockYield?: number;
  /**
   * Let scenarios create userland TCP/UDP/QUIC flows (default: wherever the dialect has the
   * providers). BEHAVIOUR.md §5.3 says they are certainly live from macOS 13 (Skywalk); set false
   * to model an older Mac whose apps only used kernel sockets.
   */
  userlandFlows?: boolean;
}

export interface ConnectOptions {
  /** The client runs as root / holds the entitlement (PRIV_NET_PRIVILEGED_NETWORK_STATISTICS). */
  root?: boolean;
  /** Receive space at registration (default 8192). */
  recvspace?: number;
  /** Count mbuf storage against sb_mbmax (default true). */
  mbufAccounting?: boolean;
  dropLogLimit?: number;
  /** Keep every removed srcref for `groundTruth().removedSrcrefs` (default true). */
  recordRemoved?: boolean;
}

export type SimulatorOptions = SimKernelOptions & ConnectOptions;

function tuple(v: string): number[] {
  return v.replace(/^xnu-/, '').split('.').map(Number);
}

function cmp(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) < (b[i] ?? 0) ? -1 : 1;
  return 0;
}

/** The dialect and the kernel version whose behaviour to simulate, from the user's input. */
export function resolveKernel(input: Dialect | string | undefined, kernelVersion?: string): { dialect: Dialect; kernelVersion: string } {
  if (input === undefined) input = 'd10002';
  if (typeof input !== 'string') return { dialect: input, kernelVersion: kernelVersion ?? input.xnu };
  const dialect = dialectFor(input);
  if (kernelVersion) return { dialect, kernelVersion };
  if (/^d\d+(_\d+)?$/.test(input.trim())) return { dialect, kernelVersion: dialect.xnu };
  const parsed = parseVersion(input);
  if (parsed.kind === 'xnu') return { dialect, kernelVersion: parsed.version };
  // macOS / Darwin: the newest tag of the dialect released no later than that macOS.
  const want = parsed.kind === 'macos' ? tuple(parsed.version) : undefined;
  let best = dialect.xnu;
  if (want) {
    for (const tag of dialect.tags) {
      const mac = dialect.macosByTag[tag];
      if (mac && cmp(tuple(mac), want) <= 0 && cmp(tuple(tag), tuple(best)) >= 0) best = tag.replace(/^xnu-/, '');
    }
  }
  return { dialect, kernelVersion: best };
}

export class SimKernel {
  readonly dialect: Dialect;
  readonly profile: KernelProfile;
  readonly world: World;
  /** @internal The kernel-side state machine (white-box tests only; not in the public types). */
  readonly core: KernelCore;
  readonly scenario: Scenario;

  constructor(opts: SimKernelOptions = {}) {
    const k = resolveKernel(opts.dialect, opts.kernelVersion);
    this.dialect = k.dialect;
    this.profile = kernelProfile(this.dialect, k.kernelVersion);
    const p = this.profile.providers;
    const seed = opts.seed ?? 1;
    this.world = new World({
      ...opts.world,
      seed,
      capabilities: {
        userland: p.tcpUserland !== undefined && opts.userlandFlows !== false,
        quic: p.quic !== undefined && opts.userlandFlows !== false,
        conn: p.conn !== undefined,
        udpSubflow: p.udpSubflow !== undefined,
      },
    });
    this.core = new KernelCore(this.world, this.profile, { privcheck: opts.privcheck, sysinfoIntervalMs: opts.sysinfoIntervalMs, ...(opts.lockYield !== undefined ? { lockYieldChance: opts.lockYield } : {}), seed });
    const sc = typeof opts.scenario === 'object' ? opts.scenario : getScenario(opts.scenario ?? 'bare');
    if (!sc) throw new TypeError(`unknown scenario ${String(opts.scenario)}`);
    this.scenario = sc;
    sc.install({ world: this.world, rng: new Rng(seed ^ 0x5bd1e995), caps: this.world.caps, scale: opts.scale ?? 1 });
  }

  /** sysctl net.stats.stats as this kernel keeps it (global over all connections, §4). */
  nstatStats(): NstatStats {
    return { ...this.core.nstatStats };
  }

  /** Simulated milliseconds since the start. */
  get now(): number {
    return this.world.now;
  }

  /** Advance simulated time; everything due runs in order (world events, idle checks). */
  advance(ms: number): void {
    this.world.runUntil(this.world.now + Math.max(0, ms));
  }

  /** Open a client connection (`nstat_control_connect`). */
  connect(opts: ConnectOptions = {}): Simulator {
    return new Simulator(this, this.core.connect({ privileged: opts.root ?? false, recvspace: opts.recvspace, mbufAccounting: opts.mbufAccounting, dropLogLimit: opts.dropLogLimit, recordRemoved: opts.recordRemoved }));
  }
}

/** One source as the kernel holds it, with what the client should know about it now. */
export interface TruthSource {
  srcref: bigint;
  provider: ProviderName;
  providerId: number;
  /** World object id (stable for the object's life). */
  objectId: number;
  objectKind: ObjectKind;
  /** The object still exists (socket not detached, flow not closed, route up, interface attached). */
  alive: boolean;
  /** SRC_ADDED was delivered for this source (false under SUPPRESS_SRC_ADDED). */
  announced: boolean;
  /** Simulated ms when the source was added. */
  addedAt: number;
  /** What SRC_DESC would carry now, decoded by the codec; undefined when the kernel cannot build it. */
  descriptor?: Descriptor;
  /** What SRC_COUNTS would carry now; undefined when unreadable. */
  counts?: Counts;
}

export interface GroundTruth {
  /** Simulated ms. */
  time: number;
  sources: Map<bigint, TruthSource>;
  /** Every srcref this connection ever removed (goodbye, REM_SRC, reaping, sanitising). */
  removedSrcrefs: ReadonlySet<bigint>;
  removedCount: number;
  /** What the kernel failed to queue (or dropped whole, for batches). */
  dropped: DropLedger;
  /** Messages successfully queued, by kind. */
  produced: Readonly<Record<MessageKindName, number>>;
  producedMessages: number;
  updateMode: boolean;
  watching: ProviderName[];
  queue: { records: number; bytes: number; hiwat: number };
}

export interface GroundTruthOptions {
  /** Include descriptors (default true; costs an encode+decode per source). */
  descriptors?: boolean;
  /** Include counts (default true). */
  counts?: boolean;
}

function isAlive(o: WorldObject): boolean {
  switch (o.kind) {
    case 'tcp':
    case 'udp':
      return !o.pcbDead;
    case 'route':
      return (o.flags & RTF_UP) !== 0;
    case 'ifnet':
      return o.ifp.attached;
    default:
      return !o.closed;
  }
}

export class Simulator {
  /** @internal */
  private closedFlag = false;
  /** @internal */
  private readableListeners = new Set<() => void>();
  /** @internal */
  private closeListeners = new Set<() => void>();

  constructor(
    readonly kernel: SimKernel,
    /** @internal The kernel-side connection state (white-box tests only; not in the public types). */
    readonly conn: Connection,
  ) {
    conn.onEnqueue = () => {
      for (const l of this.readableListeners) l();
    };
  }

  get dialect(): Dialect {
    return this.kernel.dialect;
  }

  get profile(): KernelProfile {
    return this.kernel.profile;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /**
   * send(2) of one request datagram. Everything the kernel answers is queued before this
   * returns. Throws SendError with errno EMSGSIZE (> 2048 B), EINVAL (< 16 B) or ENOBUFS (not
   * even the ERROR could be queued), like send(2).
   */
  send(datagram: Uint8Array): void {
    if (this.closedFlag) throw new SendError(9 /* EBADF */);
    handleSend(this.conn, datagram);
  }

  /** recv(2) of one record into a buffer of `bufferSize` bytes (truncation = MSG_TRUNC). */
  recv(bufferSize = 65536): ReadResult | undefined {
    return this.conn.queue.read(bufferSize);
  }

  /** Records waiting in the receive queue. */
  get pendingRecords(): number {
    return this.conn.queue.recordCount;
  }

  get queuedBytes(): number {
    return this.conn.queue.cc;
  }

  /** setsockopt(SO_RCVBUF): returns the size in effect; throws SendError(ENOBUFS) above the limit. */
  setReceiveBufferSize(bytes: number): number {
    const err = this.conn.queue.setRcvBuf(bytes);
    if (err !== 0) throw new SendError(err);
    return this.conn.queue.hiwat;
  }

  get receiveBufferSize(): number {
    return this.conn.queue.hiwat;
  }

  /** Called after every record the kernel queues (transports use it to wake their reader). */
  onReadable(fn: () => void): () => void {
    this.readableListeners.add(fn);
    return () => this.readableListeners.delete(fn);
  }

  /** Advance the kernel's simulated time (shortcut for `kernel.advance`). */
  advance(ms: number): void {
    this.kernel.advance(ms);
  }

  /** Called once when the connection closes (either side); returns an unsubscribe function. */
  onClose(fn: () => void): () => void {
    this.closeListeners.add(fn);
    return () => this.closeListeners.delete(fn);
  }

  /** Disconnect: all sources released silently (`nstat_control_disconnect`). Idempotent. */
  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.kernel.core.disconnect(this.conn);
    this.conn.queue.clear();
    this.readableListeners.clear();
    const listeners = [...this.closeListeners];
    this.closeListeners.clear();
    for (const l of listeners) l();
  }

  /** Ground truth: the sources this connection has now and their true state (for tests). */
  groundTruth(opts: GroundTruthOptions = {}): GroundTruth {
    const c = this.conn;
    const wantDesc = opts.descriptors ?? true;
    const wantCounts = opts.counts ?? true;
    const sources = new Map<bigint, TruthSource>();
    for (const src of c.sources) {
      const t: TruthSource = {
        srcref: src.srcref,
        provider: src.provider.name,
        providerId: src.provider.id,
        objectId: src.obj.id,
        objectKind: src.obj.kind,
        alive: isAlive(src.obj),
        announced: src.announced,
        addedAt: src.addedAt,
      };
      if (wantDesc && src.provider.layout) {
        // Building a descriptor updates per-source caches (role, ifindex); keep them untouched.
        const saved = { role: src.roleCache, ifindex: src.cachedIfindex };
        const v = src.provider.descriptor(c.env, src.obj, src);
        src.roleCache = saved.role;
        src.cachedIfindex = saved.ifindex;
        if (typeof v !== 'number') {
          const bytes = c.wire.desc(0n, 0, src.srcref, src.provider.id, descriptorBytes(src.provider.layout, v));
          const m = decodeDatagram(bytes, c.profile.dialect)[0];
          if (m.kind === 'srcDesc') t.descriptor = m.descriptor;
        }
      }
      if (wantCounts && src.provider.hasCounts) {
        const r = src.provider.counts(c.env, src.obj);
        if (r.errno === 0) t.counts = (r as { counts: Counts }).counts;
      }
      sources.set(src.srcref, t);
    }
    const watching: ProviderName[] = [];
    for (const id of c.watching) {
      const n = providerName(c.profile.dialect, id);
      if (n) watching.push(n);
    }
    return {
      time: this.kernel.now,
      sources,
      removedSrcrefs: c.removedSrcrefs,
      removedCount: c.removedCount,
      dropped: c.drops,
      produced: c.produced,
      producedMessages: c.producedMessages,
      updateMode: c.updateMode,
      watching,
      queue: { records: c.queue.recordCount, bytes: c.queue.cc, hiwat: c.queue.hiwat },
    };
  }
}

/** One kernel and one connection: the common case. */
export function createSimulator(opts: SimulatorOptions = {}): Simulator {
  return new SimKernel(opts).connect(opts);
}
