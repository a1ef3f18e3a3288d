/**
 * NetworkStatisticsClient: one session with the kernel's statistics control over any Transport.
 *
 * State machine: idle -> connecting -> subscribing -> running -> stopping -> closed.
 * Strategy (BEHAVIOUR.md §9, the client checklist):
 *  - SO_RCVBUF large before subscribing (§1, §4);
 *  - ADD_ALL_SRCS per provider with SUPPRESS_SRC_ADDED where the header has filters (10.11+), so
 *    the initial walk cannot be cut short by a full queue (§2.3) — sources are learnt from sweeps;
 *    ENOENT/ENOTSUP/EPERM/EALREADY make a provider "unavailable", never fatal (§9.4);
 *  - paced sweeps at the interval: GET_UPDATE(ALL) with CONTINUATION and one fresh context per
 *    sweep (10.11+), QUERY_SRC(ALL) + GET_SRC_DESC(ALL) before (§2.6, §9.5); one sweep at a time;
 *  - every loss signal is counted (§9.9) and triggers an immediate resync sweep; a source missing
 *    from complete sweeps is removed (its SRC_REMOVED was lost).
 */
import { EventEmitter } from 'node:events';
import { NtstatError } from '../errors.js';
import { DarwinErrno, HeaderFlag, constantBig, darwinErrnoName, providerId, srcrefAll, type ProviderName } from '../protocol/constants.js';
import { dialectFor, type Dialect } from '../protocol/dialect.js';
import { decodeDatagram } from '../protocol/decode.js';
import { encodeRequest } from '../protocol/encode.js';
import type { Message, Request } from '../protocol/messages.js';
import type { Stream } from '../model/stream.js';
import type { InterfaceNames } from '../model/interface-names.js';
import type { Transport } from '../transport/transport.js';
import type { ClientEventMap } from './events.js';
import type { CalibrationFlowMaker } from './calibration-flow.js';
import { replyLayoutProblem, selfTestSummary, type SelfTestMode, type SelfTestResult } from './calibration.js';
import { isFatalTransportError } from './fatal.js';
import { FlushFailureSignal } from './loss.js';
import { domainFilterBit } from '../model/domain.js';
import { PendingRequests, type Completion } from './pending.js';
import { ResyncLimiter } from './resync-limiter.js';
import { SourceTable, type StreamEvent } from './source-table.js';
import { pidFilterFor } from './pid-filter.js';

/** Provider groups a user asks for. */
export type ClientProvider = 'tcp' | 'udp' | 'quic' | 'conn' | 'udpSubflow' | 'route' | 'sysinfo';

const GROUPS: Record<ClientProvider, ProviderName[]> = {
  tcp: ['tcp', 'tcpUserland'],
  udp: ['udp', 'udpUserland'],
  quic: ['quic'],
  conn: ['conn'],
  udpSubflow: ['udpSubflow'],
  route: ['route'],
  sysinfo: ['sysinfo'],
};

export type ClientState = 'idle' | 'connecting' | 'subscribing' | 'running' | 'stopping' | 'closed';

export interface ProviderStatus {
  provider: ProviderName;
  available: boolean;
  /** Why not: e.g. 'ENOENT: not in this kernel', 'EPERM: needs root or an entitlement'. */
  reason?: string;
  errno?: number;
}

export type DropReason =
  | 'enobufs' // ERROR ENOBUFS/ENOMEM for one of our requests (§4)
  | 'send-enobufs' // send() itself failed for lack of queue space
  | 'truncated' // a record larger than the receive buffer (MSG_TRUNC)
  | 'closed-after-drop' // SRC_REMOVED with CLOSED_AFTER_DROP: the goodbye update was lost
  | 'vanished' // a source missing from complete sweeps: its SRC_REMOVED was lost
  | 'timeout' // a request never completed: its SUCCESS/ERROR was lost
  | 'batch-lost' // a paced chunk reported fewer sources than it covered: aggregated batches dropped
  | 'flush-failed' // macOS 15: net.stats.stats nstat_flush_accumulated_msgs_failures rose during a sweep
  | 'malformed'; // a record that does not decode for the dialect

export interface DropInfo {
  reason: DropReason;
  count: number;
  total: number;
}

export interface ClientOptions {
  /** Default ['tcp', 'udp']. */
  providers?: readonly ClientProvider[];
  /** Poll interval in ms (default 1000). 0 disables automatic polling: call `sweep()`. */
  interval?: number;
  signal?: AbortSignal;
  /** Inject a transport (simulator, socket, replay); otherwise the macOS kernel is opened. */
  transport?: Transport;
  /** The kernel's dialect, required with an injected transport (a Dialect or a version string). */
  dialect?: Dialect | string;
  /** SO_RCVBUF to request before subscribing (default 4 MiB, BEHAVIOUR.md §4). */
  receiveBufferSize?: number;
  /** Clock for stream timestamps (ms); default Date.now. */
  clock?: () => number;
  /** How long to wait for a SUCCESS/ERROR (default 10 s). */
  requestTimeout?: number;
  /**
   * macOS 15+: reads sysctl net.stats.stats `nstat_flush_accumulated_msgs_failures` (a rise during
   * a sweep means aggregated batches were lost, see loss.ts). Default: the real sysctl for the live
   * kernel; none for an injected transport (the simulator offers `kernel.nstatStats()`).
   */
  flushFailures?: () => number | undefined;
  /**
   * Ask for domain names (the DOMAIN extension, macOS 12.1+, §6). The kernel honours it only for a
   * privileged client (from xnu-8792.81.2) and ignores it silently otherwise; updates grow by
   * ~1 KiB per source, so it is off unless asked for.
   */
  domains?: boolean;
  /**
   * Observe only: send no request, just interpret what arrives (a replayed recording, a tap).
   * Streams reported before the first SUCCESS (the recorded subscription walk) are `initial`.
   */
  passive?: boolean;
  /**
   * Layout self-test (issue 12): 'auto' (default) runs it when the dialect is unverified (a kernel
   * newer than every published header), 'always' runs it anyway, 'never' skips it.
   */
  selfTest?: SelfTestMode;
  /** Makes the self-test's flows (default: real loopback sockets in this process). */
  calibrationFlows?: CalibrationFlowMaker;
  /**
   * Ask the kernel to report only this pid's sources (SPECIFIC_USER_BY_PID, see pid-filter.ts).
   * Headers before 10.12 have no `target_pid`: there the kernel cannot filter and every stream
   * still arrives (check `stream.pid`).
   */
  pid?: number;
  /**
   * The watched machine's interfaces (index <-> BSD name, model/interface-names.ts): each flow gets
   * `ifname` from its ifindex. Default: if_nameindex() for the live kernel; none otherwise.
   */
  interfaceNames?: InterfaceNames;
}

export type ClientEvent =
  | { type: 'added' | 'update' | 'removed'; stream: Stream; time: number; initial?: boolean }
  | { type: 'drop'; drop: DropInfo };

const DEFAULT_RCVBUF = 4 * 1024 * 1024;
/** Sources per paced chunk on macOS (BEHAVIOUR.md §2.6). */
const CHUNK_SOURCES = 100;
/** Clean loss-free sweeps before trying aggregated GET_UPDATE sweeps again. */
const LOSS_FREE_SWEEPS = 20;
const MAX_CHUNK_RETRIES = 50;
const MAX_TIMEOUT_RETRIES = 1;
/** Chunks one ALL poll may take at least (1024 × 100 sources), and more for a big table. */
const MIN_CHUNK_LIMIT = 1024;
/** Consecutive empty chunks that still say CONTINUATION (13+ sends one empty final chunk). */
const MAX_EMPTY_CHUNKS = 3;
/**
 * macOS 15 aggregates every ALL poll (§2.6): a 100-source chunk of updates (~50 KB, ~160 KB with
 * domain extensions) must fit the queue or it is lost silently, so the client asks for at least this.
 */
const MIN_RCVBUF_MACOS15 = 256 * 1024;

/** The client's events: names and listener payloads (src/client/events.ts). */
export type ClientEvents = ClientEventMap<DropInfo>;

/** Typed EventEmitter methods, merged into the class: a misspelt event name does not type-check. */
export interface NetworkStatisticsClient {
  on<K extends keyof ClientEvents>(event: K, listener: ClientEvents[K]): this;
  once<K extends keyof ClientEvents>(event: K, listener: ClientEvents[K]): this;
  off<K extends keyof ClientEvents>(event: K, listener: ClientEvents[K]): this;
  addListener<K extends keyof ClientEvents>(event: K, listener: ClientEvents[K]): this;
  removeListener<K extends keyof ClientEvents>(event: K, listener: ClientEvents[K]): this;
  prependListener<K extends keyof ClientEvents>(event: K, listener: ClientEvents[K]): this;
  prependOnceListener<K extends keyof ClientEvents>(event: K, listener: ClientEvents[K]): this;
  emit<K extends keyof ClientEvents>(event: K, ...args: Parameters<ClientEvents[K]>): boolean;
}

export class NetworkStatisticsClient extends EventEmitter {
  private stateValue: ClientState = 'idle';
  private transport?: Transport;
  private dialectValue?: Dialect;
  private table?: SourceTable;
  private readonly pending = new PendingRequests();
  private readonly opts: Required<Pick<ClientOptions, 'interval' | 'receiveBufferSize' | 'requestTimeout'>> & ClientOptions;
  private readonly clock: () => number;
  private timer?: NodeJS.Timeout;
  private sweeping?: Promise<boolean>;
  private resyncWanted = false;
  private lossDuringSweep = false;
  private drops = 0;
  private readonly dropsByReason = new Map<DropReason, number>();
  private readonly providerStatus = new Map<ProviderName, ProviderStatus>();
  private closedPromise?: Promise<void>;
  private resolveClosed?: () => void;
  private readonly iterators = new Set<(ev: ClientEvent | undefined) => void>();
  private sweepsCompleted = 0;
  private receiveBuffer?: number;
  /** Source reports received for the running ALL poll (aggregated or with its context). */
  private pollReplies = 0;
  private pollContext = 0n;
  /**
   * Loss-free sweep mode (BEHAVIOUR.md §4 "Loss-free sweeps"): paced GET_SRC_DESC(ALL) +
   * QUERY_SRC(ALL) without SUPPORTS_AGGREGATE, one direct enqueue per source, so a full queue
   * ends the chunk with an explicit ENOBUFS and the same CONTINUATION resumes exactly. Entered
   * when an aggregated GET_UPDATE chunk is seen to have lost batches; left after clean sweeps.
   */
  private lossFree = false;
  private cleanSweeps = 0;
  private sweepLostBatches = false;
  /** While the self-test sweeps: records are captured for it, not applied to the table. */
  private calibrating = false;
  private capture?: (datagram: Uint8Array) => void;
  private selfTestValue?: SelfTestResult;
  private layoutFailure?: NtstatError;
  /** Extra resync sweeps after losses: one immediate, then rate-limited (resync-limiter.ts). */
  private resyncLimiter!: ResyncLimiter;
  private flushSignal?: FlushFailureSignal;

  constructor(options: ClientOptions = {}) {
    super();
    this.opts = {
      interval: 1000,
      receiveBufferSize: DEFAULT_RCVBUF,
      requestTimeout: 10_000,
      ...options,
    };
    this.clock = options.clock ?? Date.now;
    // Without automatic polling (interval 0) extra resyncs are still spaced by a second.
    this.resyncLimiter = new ResyncLimiter(this.opts.interval > 0 ? this.opts.interval : 1000);
    // An 'error' event without a listener would throw; errors are also reported via promises.
    this.on('error', () => undefined);
  }

  get state(): ClientState {
    return this.stateValue;
  }

  get dialect(): Dialect | undefined {
    return this.dialectValue;
  }

  /** Providers asked for, with availability as the kernel answered. */
  providers(): ProviderStatus[] {
    return [...this.providerStatus.values()];
  }

  getNumDrops(): number {
    return this.drops;
  }

  dropCounts(): Record<string, number> {
    return Object.fromEntries(this.dropsByReason);
  }

  /** The layout self-test's result, when it ran. */
  get selfTest(): SelfTestResult | undefined {
    return this.selfTestValue;
  }

  /** Number of complete sweeps so far. */
  get sweeps(): number {
    return this.sweepsCompleted;
  }

  /** SO_RCVBUF in effect, when the transport reports it. */
  get receiveBufferSize(): number | undefined {
    return this.receiveBuffer;
  }

  /** Live streams (copies). */
  snapshot(): Stream[] {
    return this.table ? [...this.table.streams()].map((s) => ({ ...s })) : [];
  }

  /** The live stream for a srcref id, if any (the object events carry). */
  stream(id: string): Stream | undefined {
    try {
      return this.table?.get(BigInt(id));
    } catch {
      return undefined;
    }
  }

  /** Open the transport, subscribe to the providers and start polling. */
  async connect(): Promise<void> {
    if (this.stateValue !== 'idle') throw new NtstatError('ERR_NTSTAT_USAGE', `connect() called in state ${this.stateValue}`);
    this.stateValue = 'connecting';
    this.closedPromise = new Promise((r) => (this.resolveClosed = r));
    try {
      await this.openTransport();
      if (this.opts.passive) {
        this.stateValue = 'running';
        this.opts.signal?.addEventListener('abort', () => this.stop(), { once: true });
        if (this.opts.signal?.aborted) this.stop();
        return;
      }
      this.stateValue = 'subscribing';
      await this.subscribe();
      if (this.stateValue !== 'subscribing') return;
      this.stateValue = 'running';
      this.opts.signal?.addEventListener('abort', () => this.stop(), { once: true });
      if (this.opts.signal?.aborted) {
        this.stop();
        return;
      }
      await this.calibrate();
      if (this.stateValue !== 'running') return;
      // The first sweep reports every source that existed at subscription (the "initial" ones).
      void this.sweep();
      if (this.opts.interval > 0) {
        // Like a socket, a running client keeps the process alive until stop().
        this.timer = setInterval(() => void this.sweep(), this.opts.interval);
      }
    } catch (e) {
      this.shutdown();
      throw e;
    }
  }

  private async openTransport(): Promise<void> {
    const { transport, dialect } = this.opts;
    if (transport) {
      if (!dialect) throw new NtstatError('ERR_NTSTAT_USAGE', 'an injected transport needs options.dialect (a Dialect or a version string)');
      this.transport = transport;
      this.dialectValue = typeof dialect === 'string' ? dialectFor(dialect) : dialect;
    } else {
      const { openKernelTransport } = await import('./live.js');
      const live = await openKernelTransport(this.opts.receiveBufferSize);
      this.transport = live.transport;
      this.dialectValue = dialect ? (typeof dialect === 'string' ? dialectFor(dialect) : dialect) : live.dialect;
      this.receiveBuffer = live.receiveBufferSize;
      if (!this.opts.flushFailures && live.flushFailures) this.flushSignal = new FlushFailureSignal(live.flushFailures);
      this.opts.interfaceNames ??= live.interfaceNames;
    }
    if (this.opts.flushFailures) this.flushSignal = new FlushFailureSignal(this.opts.flushFailures);
    if (this.dialectValue.warning) this.emit('warning', this.dialectValue.warning);
    this.table = new SourceTable(this.dialectValue);
    this.table.initialPhase = true;
    this.table.interfaceNames = this.opts.interfaceNames;
    this.transport.start({
      onDatagram: (d, truncated) => this.onDatagram(d, truncated),
      onClose: (err) => this.onTransportClose(err),
    });
    const preset = this.transport.receiveBufferSize;
    if ((preset !== undefined || this.transport.setReceiveBufferSize) && !this.opts.passive) {
      const min = this.isMacos15() ? MIN_RCVBUF_MACOS15 : 0;
      const want = Math.max(this.opts.receiveBufferSize, min);
      // Set once and read back (§1): a transport that already set it is not asked again.
      let got: number | undefined = preset;
      if (preset === undefined) {
        try {
          got = this.transport.setReceiveBufferSize!(want);
        } catch (e) {
          this.emit('warning', `SO_RCVBUF ${want} refused (${(e as Error).message})`);
        }
      }
      if (got !== undefined) this.receiveBuffer = got;
      if (got !== undefined && got < min) {
        this.emit('warning', `receive buffer ${got} B is below one sweep chunk on this kernel (${min} B): sweeps can lose updates silently`);
      }
    }
  }

  /** The layout self-test before the first sweep (calibration.ts). */
  private async calibrate(): Promise<void> {
    const mode = this.opts.selfTest ?? 'auto';
    if (mode === 'never' || (mode === 'auto' && this.dialectValue!.verified)) return;
    if (this.opts.pid !== undefined && this.opts.pid !== process.pid) {
      // The kernel reports only that pid's sources: our calibration flows would be invisible.
      this.emit('warning', `layout self-test skipped: the subscription is limited to pid ${this.opts.pid}; values come from the unverified layout`);
      return;
    }
    const { runSelfTest } = await import('./calibration.js');
    const maker = this.opts.calibrationFlows ?? (await import('./calibration-flow.js')).loopbackFlowMaker;
    const watches = (g: 'tcp' | 'udp') => GROUPS[g].some((p) => this.providerStatus.get(p)?.available === true);
    this.calibrating = true;
    try {
      const result = await runSelfTest(
        { dialect: this.dialectValue!, poll: (k) => this.pagedPoll(k), capture: (fn) => (this.capture = fn), watches },
        maker,
      );
      this.selfTestValue = result;
      if (result.dialect !== this.dialectValue) {
        this.dialectValue = result.dialect;
        this.table = new SourceTable(result.dialect);
        this.table.initialPhase = true;
        this.table.interfaceNames = this.opts.interfaceNames;
      }
      this.emit('selfTest', result);
      this.emit('warning', selfTestSummary(result));
    } finally {
      this.calibrating = false;
      this.capture = undefined;
    }
  }

  /** The kernel's replies do not fit the assumed header: refuse (ERR_NTSTAT_LAYOUT). */
  private failLayout(problem: string): void {
    const err = new NtstatError('ERR_NTSTAT_LAYOUT', `ERR_NTSTAT_LAYOUT: ${problem}; refusing to decode this kernel (${this.dialectValue!.kernel ?? `xnu-${this.dialectValue!.xnu}`})`);
    this.layoutFailure ??= err;
    this.pending.failAll(err); // waiters see an ERROR; subscribe() then throws layoutFailure
    if (this.stateValue === 'running') {
      this.emit('error', err);
      this.shutdown();
    }
  }

  // ------------------------------------------------------------------------------------------
  // Requests

  private send(req: Request): void {
    const bytes = encodeRequest(this.dialectValue!, req);
    try {
      this.transport!.send(bytes);
    } catch (e) {
      if (e instanceof NtstatError && e.errno === DarwinErrno.ENOBUFS) this.countDrop('send-enobufs');
      else if (isFatalTransportError(e) && this.stateValue !== 'stopping' && this.stateValue !== 'closed') {
        // The kernel side is gone (issue 13: a vanished --socket peer gave ECONNREFUSED forever).
        this.emit('error', e);
        this.shutdown();
      }
      throw e;
    }
  }

  /** Send a request that ends with SUCCESS or ERROR and wait for it. */
  private request(build: (context: bigint) => Request): Promise<Completion> {
    const context = this.pending.allocate();
    return this.requestWith(context, build(context));
  }

  private requestWith(context: bigint, req: Request): Promise<Completion> {
    return new Promise<Completion>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.forget(context);
        this.countDrop('timeout');
        reject(new NtstatError('ERR_NTSTAT_TIMEOUT', `no answer to ${req.kind} (context ${context}) within ${this.opts.requestTimeout} ms`));
      }, this.opts.requestTimeout);
      this.pending.expect(context, (m) => {
        clearTimeout(timer);
        resolve(m);
      });
      try {
        this.send(req);
      } catch (e) {
        clearTimeout(timer);
        this.pending.forget(context);
        reject(e);
      }
    });
  }

  private async subscribe(): Promise<void> {
    const d = this.dialectValue!;
    const wanted = new Set<ProviderName>();
    for (const g of this.opts.providers ?? ['tcp', 'udp']) for (const p of GROUPS[g] ?? []) wanted.add(p);
    // SUPPRESS_SRC_ADDED (10.11+): the walk reports nothing, so it cannot be cut short (§2.3).
    const suppress = constantBig(d, 'NSTAT_FILTER_SUPPRESS_SRC_ADDED') ?? 0n;
    const canFilter = d.structs.get('nstat_msg_add_all_srcs')?.byName.has('filter') ?? false;
    const byPid = this.opts.pid === undefined ? undefined : pidFilterFor(d, this.opts.pid);
    // SUBSCRIBE_SYSINFO succeeds silently and is always privileged (§2.8): only an ERROR speaks.
    // Requests are handled in order, so once a later request has completed, any ERROR for it
    // has arrived: subscribe to sysinfo first and judge it after the others.
    let sysinfo: { context: bigint; errno?: number } | undefined;
    if (wanted.has('sysinfo') && providerId(d, 'sysinfo') !== undefined && d.constants['NSTAT_MSG_TYPE_SUBSCRIBE_SYSINFO'] !== undefined) {
      const s = { context: this.pending.allocate(), errno: undefined as number | undefined };
      sysinfo = s;
      this.pending.expect(s.context, (m) => {
        if (m.kind === 'error') s.errno = m.errno;
      });
      this.send({ kind: 'subscribeSysinfo', context: s.context, flags: 0 });
    }
    let barrier = false;
    for (const name of wanted) {
      if (this.stateValue !== 'subscribing') return;
      if (name === 'sysinfo') continue;
      const id = providerId(d, name);
      if (id === undefined) {
        this.providerStatus.set(name, { provider: name, available: false, reason: 'not in this kernel version' });
        continue;
      }
      let done: Completion;
      try {
        done = await this.request((context) => ({
          kind: 'addAllSrcs',
          context,
          flags: 0,
          provider: id,
          filter: (canFilter ? suppress : 0n) | (byPid?.filter ?? 0n) | (this.opts.domains ? domainFilterBit(d.constants['NSTAT_FILTER_ALLOWED_EXTENSIONS_SHIFT'] as number | undefined) : 0n),
          events: 0n,
          targetPid: byPid?.targetPid ?? 0,
        }));
      } catch (e) {
        if (this.stateValue !== 'subscribing') return;
        throw e;
      }
      if (this.layoutFailure) throw this.layoutFailure;
      barrier = true;
      if (done.kind === 'success') this.providerStatus.set(name, { provider: name, available: true });
      else this.providerStatus.set(name, { provider: name, available: false, errno: done.errno, reason: explainSubscribeError(done.errno) });
    }
    if (wanted.has('sysinfo')) {
      if (!sysinfo) this.providerStatus.set('sysinfo', { provider: 'sysinfo', available: false, reason: 'not in this kernel version' });
      else {
        if (!barrier) await new Promise((r) => setTimeout(r, 100));
        this.pending.forget(sysinfo.context);
        this.providerStatus.set(
          'sysinfo',
          sysinfo.errno === undefined
            ? { provider: 'sysinfo', available: true }
            : { provider: 'sysinfo', available: false, errno: sysinfo.errno, reason: explainSubscribeError(sysinfo.errno) },
        );
      }
    }
    if (![...this.providerStatus.values()].some((p) => p.available)) {
      const why = [...this.providerStatus.values()].map((p) => `${p.provider}: ${p.reason}`).join('; ');
      const perm = [...this.providerStatus.values()].every((p) => p.errno === DarwinErrno.EPERM);
      throw new NtstatError(perm ? 'ERR_NTSTAT_PERMISSION' : 'ERR_NTSTAT_KERNEL', `no provider could be subscribed (${why})`);
    }
  }

  // ------------------------------------------------------------------------------------------
  // Sweeps

  /**
   * Run one complete sweep (or join the running one). Resolves true when the sweep completed,
   * so its view of the kernel's sources is complete.
   */
  sweep(): Promise<boolean> {
    if (this.stateValue !== 'running' || this.calibrating) return Promise.resolve(false);
    if (this.sweeping) {
      this.resyncWanted = this.resyncWanted || this.lossDuringSweep;
      return this.sweeping;
    }
    this.sweeping = this.runSweep().then((complete) => {
      if (complete && !this.lossDuringSweep) this.resyncLimiter.calm();
      return complete;
    }).finally(() => {
      this.sweeping = undefined;
      if (this.resyncWanted && this.stateValue === 'running') {
        this.resyncWanted = false;
        this.resyncSoon();
      }
    });
    return this.sweeping;
  }

  private async runSweep(): Promise<boolean> {
    const d = this.dialectValue!;
    const table = this.table!;
    const gen = table.beginSweep();
    this.lossDuringSweep = false;
    let ok: boolean;
    const aggregatedSweep = d.constants['NSTAT_MSG_TYPE_GET_UPDATE'] !== undefined && !this.lossFree;
    const flush = this.isMacos15() ? this.flushSignal : undefined;
    flush?.begin();
    try {
      if (aggregatedSweep) ok = await this.pagedPoll('getUpdate');
      else ok = (await this.pagedPoll('getSrcDesc')) && (await this.pagedPoll('querySrc'));
    } catch (e) {
      if (this.stateValue === 'running') this.emit('error', e as Error);
      ok = false;
    }
    if (!ok || this.stateValue !== 'running') return false;
    const flushFailures = flush?.end() ?? 0;
    if (flushFailures > 0) {
      // Batches were lost silently (§4): treat like lost batches — no reaping on this sweep.
      this.sweepLostBatches = true;
      this.countDrop('flush-failed', flushFailures);
    }
    if (this.lossFree && !this.lossDuringSweep && ++this.cleanSweeps >= LOSS_FREE_SWEEPS) {
      this.lossFree = false; // try the cheaper aggregated sweeps again
      this.cleanSweeps = 0;
    }
    if (this.lossDuringSweep && this.sweepLostBatches) {
      // A chunk lost batches: its sources may be missing from this sweep; do not reap on it.
      this.sweepLostBatches = false;
      return false;
    }
    // Absence from a sweep means "gone" only if the sweep could not lose anything. Aggregated
    // batches are dropped whole and silently when the queue is full (§4), so a source missing
    // from an aggregated sweep is confirmed by a loss-free GET_SRC_DESC(ALL) sweep (direct
    // enqueues: a full queue gives an explicit ENOBUFS and the chunk resumes) before it is reaped.
    // macOS 15 aggregates every ALL poll: there, absence from three sweeps in a row is required.
    let reapGen = gen;
    let grace = 0;
    const isAggregated = aggregatedSweep || this.isMacos15();
    const unseen = isAggregated ? table.unseenSince(gen) : [];
    if (unseen.length > 0) {
      if (this.lossFreeAvailable()) {
        reapGen = table.beginSweep();
        let confirmed = false;
        try {
          confirmed = await this.pagedPoll('getSrcDesc');
        } catch (e) {
          if (this.stateValue === 'running') this.emit('error', e as Error);
        }
        if (!confirmed || this.stateValue !== 'running') return false;
        // Sources the confirmation found that the aggregated sweep did not: their batches were
        // dropped silently. Count them, and use loss-free sweeps until the storm passes.
        const lost = unseen.filter((ref) => table.seenSince(ref, reapGen)).length;
        if (lost > 0) {
          this.countDrop('batch-lost', lost);
          this.lossFree = true;
        }
      } else {
        grace = 2;
      }
    }
    const events: StreamEvent[] = [];
    const vanished = table.endSweep(reapGen, this.clock(), events, grace);
    table.initialPhase = false;
    this.sweepsCompleted++;
    this.emitEvents(events);
    if (vanished > 0) this.countDrop('vanished', vanished);
    this.emit('sweep', this.sweepsCompleted);
    return true;
  }

  /** One ALL poll, paged with CONTINUATION where the kernel supports it (§2.6). */
  private async pagedPoll(kind: 'getUpdate' | 'querySrc' | 'getSrcDesc'): Promise<boolean> {
    const d = this.dialectValue!;
    const context = this.pending.allocate();
    const paced = d.hasLength; // CONTINUATION exists from 10.11
    let retries = 0;
    let timeouts = 0;
    let chunks = 0;
    let emptyChunks = 0;
    const chunkLimit = Math.max(MIN_CHUNK_LIMIT, 4 * Math.ceil(this.table!.size / 5));
    this.pollContext = context;
    for (;;) {
      if (this.stateValue !== 'running') return false;
      const req: Request = { kind, context, flags: paced ? HeaderFlag.CONTINUATION : 0, srcref: srcrefAll(d) };
      this.pollReplies = 0;
      let done: Completion;
      try {
        done = await this.requestWith(context, req);
      } catch (e) {
        // The answer was lost (a full queue drops even critical messages eventually, and 10.8/10.9
        // have no critical class): retry the chunk a couple of times, then leave it to the next sweep.
        if (e instanceof NtstatError && e.code === 'ERR_NTSTAT_TIMEOUT') {
          if (++timeouts > MAX_TIMEOUT_RETRIES) return false;
          await this.drain();
          continue;
        }
        if (e instanceof NtstatError && e.errno === DarwinErrno.ENOBUFS) {
          if (++retries > MAX_CHUNK_RETRIES) return false;
          await this.drain();
          continue;
        }
        throw e;
      }
      if (done.kind === 'success') {
        if (paced && done.flags & HeaderFlag.CONTINUATION) {
          // Bound the sequence: a kernel (or peer) that always says "more" must not hold the
          // sweep forever. Real sweeps need about sources/100 chunks (at least 5 per chunk on 15).
          if (++chunks > chunkLimit) {
            throw new NtstatError('ERR_NTSTAT_KERNEL', `${kind}(ALL) still said CONTINUATION after ${chunks} chunks; sweep abandoned`);
          }
          if (this.pollReplies === 0 && ++emptyChunks > MAX_EMPTY_CHUNKS) {
            throw new NtstatError('ERR_NTSTAT_KERNEL', `${kind}(ALL) returned ${emptyChunks} empty chunks that each said CONTINUATION; sweep abandoned`);
          }
          if (this.pollReplies > 0) emptyChunks = 0;
          // A chunk that says "more" reported a full chunk of sources (§2.6). On macOS 15 a chunk
          // may end after 5 (lock yield), so fewer than 5 means aggregated batches were dropped
          // whole (§4). On 10.11–14 a short chunk is no proof: sources skipped for hard errors
          // (EINVAL/EIO/EOPNOTSUPP) are counted in the chunk; lost batches there are found by the
          // loss-free confirmation sweep before any reap (runSweep), so nothing is counted here.
          if (this.isMacos15() && this.pollReplies < this.minFullChunk()) {
            this.sweepLostBatches = true;
            this.countDrop('batch-lost');
            if (kind === 'getUpdate' && this.lossFreeAvailable()) this.lossFree = true;
          }
          retries = 0;
          continue;
        }
        return true;
      }
      // ERROR for our context.
      if (done.errno === DarwinErrno.ENOBUFS || done.errno === DarwinErrno.ENOMEM) {
        // The failed source was not stamped: re-sending the same CONTINUATION request resumes (§4).
        this.countDrop('enobufs');
        if (!paced || ++retries > MAX_CHUNK_RETRIES) return false;
        await this.drain();
        continue;
      }
      if (done.errno === DarwinErrno.EAGAIN) return false; // our sequence was cancelled (§2.6)
      throw new NtstatError('ERR_NTSTAT_KERNEL', `${kind}(ALL) failed: ${darwinErrnoName(done.errno)}`, { errno: done.errno });
    }
  }

  /**
   * Sources a macOS 15 chunk with CONTINUATION must have reported: it may stop early, after at
   * least 5, when the kernel's lock would yield (§2.6, xnu-11215+). Earlier kernels fill 100.
   */
  private minFullChunk(): number {
    return this.isMacos15() ? 5 : CHUNK_SOURCES;
  }

  private isMacos15(): boolean {
    return Number(this.dialectValue!.macos.split('.')[0]) >= 15;
  }

  /** Non-aggregated ALL polls exist 10.11–14 (B15 aggregates every ALL poll, §2.6). */
  private lossFreeAvailable(): boolean {
    return this.dialectValue!.hasLength && !this.isMacos15();
  }

  /** Let queued records be read before retrying (the reader runs on the event loop). */
  private drain(): Promise<void> {
    return new Promise((r) => setTimeout(r, 5));
  }

  // ------------------------------------------------------------------------------------------
  // Incoming

  private onDatagram(data: Uint8Array, truncated: boolean): void {
    if (this.stateValue === 'closed' || !this.table) return;
    if (truncated) this.countDrop('truncated');
    this.capture?.(data);
    let messages: Message[];
    try {
      // Unverified dialects: a message in an unexpected shape is dropped alone (issue 12).
      messages = decodeDatagram(data, this.dialectValue!, { unknownTypes: 'skip', from: this.opts.passive ? 'any' : 'kernel', onInvalidMessage: (e) => this.onInvalidMessage(e) });
    } catch (e) {
      this.countDrop('malformed');
      this.emit('error', e as Error);
      return;
    }
    const now = this.clock();
    const events: StreamEvent[] = [];
    for (const m of messages) {
      switch (m.kind) {
        case 'success':
        case 'error': {
          const problem = this.dialectValue!.verified ? undefined : replyLayoutProblem(m);
          if (problem) {
            this.failLayout(problem);
            return;
          }
          if (this.opts.passive && m.kind === 'success') this.table.initialPhase = false;
          if (!this.pending.complete(m) && m.kind === 'error' && m.errno !== DarwinErrno.EAGAIN && m.context !== 0n) {
            // An ERROR for a request nobody waits for (a silent-success request that failed).
            this.emit('kernelError', m);
          }
          break;
        }
        case 'sysinfoCounts':
          // Not about a source (srcref 0): its own event (model/sysinfo.ts), privileged only (§5.8).
          this.emit('sysinfo', { time: now, keyvals: m.keyvals });
          break;
        case 'srcRemoved':
          if (m.flags & HeaderFlag.CLOSED_AFTER_DROP) this.countDrop('closed-after-drop');
          if (!this.calibrating) this.table.apply(m, now, events);
          break;
        case 'srcUpdate':
        case 'srcDesc':
        case 'srcCounts':
          // Poll replies: with our context (direct), or context 0 without CLOSING/event (aggregated).
          if (m.context === this.pollContext || (m.context === 0n && !(m.flags & HeaderFlag.CLOSING) && m.eventFlags === 0n)) this.pollReplies++;
          if (!this.calibrating) this.table.apply(m, now, events);
          break;
        default:
          if (!this.calibrating) this.table.apply(m, now, events);
      }
    }
    this.emitEvents(events);
  }

  private onInvalidMessage(e: NtstatError): void {
    this.countDrop('malformed');
    this.emit('error', e);
  }

  private emitEvents(events: StreamEvent[]): void {
    for (const ev of events) {
      this.emit(ev.event, ev.stream, ev);
      if (this.iterators.size > 0) {
        const ce: ClientEvent = ev.initial
          ? { type: ev.event, stream: { ...ev.stream }, time: ev.time, initial: true }
          : { type: ev.event, stream: { ...ev.stream }, time: ev.time };
        for (const push of this.iterators) push(ce);
      }
    }
  }

  private countDrop(reason: DropReason, count = 1): void {
    this.drops += count;
    this.dropsByReason.set(reason, (this.dropsByReason.get(reason) ?? 0) + count);
    this.lossDuringSweep = true;
    const drop: DropInfo = { reason, count, total: this.drops };
    this.emit('drop', drop);
    for (const push of this.iterators) push({ type: 'drop', drop });
    // Any loss: resynchronise with a full sweep (§4, §9.9), rate-limited (resync-limiter.ts).
    if (reason !== 'vanished' && this.stateValue === 'running') {
      if (this.sweeping) this.resyncWanted = true;
      else this.resyncSoon();
    }
  }

  /** Start a resync sweep now if the limiter allows; otherwise the next regular sweep resyncs. */
  private resyncSoon(): void {
    if (this.resyncLimiter.tryStart(this.clock())) setImmediate(() => void this.sweep());
  }

  private onTransportClose(err?: NtstatError): void {
    if (this.stateValue === 'stopping' || this.stateValue === 'closed') return;
    if (err) this.emit('error', err);
    // A live kernel never hangs up on its own: say so (a replay simply reached its end).
    else if (!this.opts.passive) this.emit('error', new NtstatError('ERR_NTSTAT_TRANSPORT', 'the kernel side closed the statistics connection'));
    this.shutdown();
  }

  // ------------------------------------------------------------------------------------------
  // Lifecycle

  /** Resolves when the client stops (stop(), abort signal, or the kernel closing the socket). */
  closed(): Promise<void> {
    return this.closedPromise ?? Promise.resolve();
  }

  stop(): void {
    if (this.stateValue === 'closed' || this.stateValue === 'stopping') return;
    if (this.stateValue === 'idle') {
      this.stateValue = 'closed';
      return;
    }
    this.shutdown();
  }

  private shutdown(): void {
    this.stateValue = 'stopping';
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.pending.failAll(new NtstatError('ERR_NTSTAT_CLOSED', 'client stopped'));
    try {
      this.transport?.close();
    } catch {
      // closing is best effort
    }
    this.stateValue = 'closed';
    for (const push of this.iterators) push(undefined);
    this.iterators.clear();
    this.emit('close');
    this.resolveClosed?.();
  }

  /** Async iteration over stream and drop events until the client closes. */
  events(): AsyncIterableIterator<ClientEvent> {
    const queue: ClientEvent[] = [];
    let wake: (() => void) | undefined;
    let done = this.stateValue === 'closed';
    const push = (ev: ClientEvent | undefined) => {
      if (ev === undefined) done = true;
      else queue.push(ev);
      wake?.();
    };
    if (!done) this.iterators.add(push);
    const self = this;
    return {
      [Symbol.asyncIterator]() {
        return this;
      },
      async next(): Promise<IteratorResult<ClientEvent>> {
        while (queue.length === 0 && !done) await new Promise<void>((r) => (wake = r));
        wake = undefined;
        if (queue.length > 0) return { value: queue.shift()!, done: false };
        return { value: undefined, done: true };
      },
      async return(): Promise<IteratorResult<ClientEvent>> {
        self.iterators.delete(push);
        done = true;
        return { value: undefined, done: true };
      },
    };
  }
}

export function explainSubscribeError(errno: number): string {
  switch (errno) {
    case DarwinErrno.ENOENT:
      return 'ENOENT: this kernel has no such provider';
    case DarwinErrno.ENOTSUP:
      return 'ENOTSUP: the provider cannot be watched';
    case DarwinErrno.EPERM:
      return 'EPERM: needs root or the network-statistics entitlement';
    case DarwinErrno.EALREADY:
      return 'EALREADY: already watched by this connection';
    case DarwinErrno.ENOBUFS:
    case DarwinErrno.ENOMEM:
      return `${darwinErrnoName(errno)}: the kernel queue was full during subscription`;
    default:
      return darwinErrnoName(errno);
  }
}
