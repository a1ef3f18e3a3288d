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
 *
 * The parts, one job each: subscription.ts (transport + ADD_ALL_SRCS), requests.ts (send and
 * wait), sweeps.ts (polls, CONTINUATION, reaping), loss-ledger.ts (drops and resync),
 * incoming.ts (datagrams -> table), event-fanout.ts (events and iterators); session.ts holds the
 * state they share. This class wires them and owns the lifecycle.
 */
import { EventEmitter } from 'node:events';
import { NtstatError } from '../errors.js';
import type { Dialect } from '../protocol/dialect.js';
import type { Stream } from '../model/stream.js';
import { selfTestSummary, type SelfTestResult } from './calibration.js';
import { EventFanout } from './event-fanout.js';
import { followInterfaces, InterfaceEventSource } from './ifnet.js';
import { interfaceFromStream, type InterfaceStat } from '../model/interface.js';
import { IncomingHandler } from './incoming.js';
import { LossLedger } from './loss-ledger.js';
import { GROUPS, type ClientEvent, type ClientEvents, type ClientOptions, type ClientState, type ProviderStatus } from './options.js';
import { RequestChannel } from './requests.js';
import { ClientSession, type ClientEmit } from './session.js';
import { SourceTable } from './source-table.js';
import { openTransport, subscribe } from './subscription.js';
import { Sweeper } from './sweeps.js';

export type { ClientProvider, ClientState, ProviderStatus, DropReason, DropInfo, ClientOptions, ClientEvent, ClientEvents } from './options.js';
export { explainSubscribeError } from './subscribe-error.js';

const DEFAULT_RCVBUF = 4 * 1024 * 1024;

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
  /** @internal */
  private readonly session: ClientSession;
  /** @internal */
  private readonly fanout: EventFanout;
  /** @internal */
  private readonly loss: LossLedger;
  /** @internal */
  private readonly channel: RequestChannel;
  /** @internal */
  private readonly sweeper: Sweeper;
  /** @internal */
  private readonly incoming: IncomingHandler;
  /** @internal */
  private timer?: NodeJS.Timeout;
  /** @internal */
  private closedPromise?: Promise<void>;
  /** @internal */
  private resolveClosed?: () => void;
  /** @internal */
  private selfTestValue?: SelfTestResult;

  constructor(options: ClientOptions = {}) {
    super();
    const opts = {
      interval: 1000,
      receiveBufferSize: DEFAULT_RCVBUF,
      requestTimeout: 10_000,
      ...options,
    };
    const emit: ClientEmit = (event, ...args) => this.emit(event, ...args);
    const s = (this.session = new ClientSession(opts, options.clock ?? Date.now, emit, () => this.shutdown()));
    this.fanout = new EventFanout(emit, new InterfaceEventSource(() => s.dialect!, s.ifnetNames, () => s.table?.initialPhase ?? false, s.ifnetWatched));
    this.loss = new LossLedger(s, this.fanout, { sweeping: () => this.sweeper.sweeping !== undefined, sweep: () => this.sweep() });
    this.channel = new RequestChannel(s, this.loss);
    this.sweeper = new Sweeper(s, this.channel, this.loss, this.fanout);
    this.incoming = new IncomingHandler(s, this.sweeper, this.loss, this.fanout);
    // Interfaces that appear later get their ifnet source after a sweep (ifnet.ts).
    this.on('sweep', () => followInterfaces(s, this.channel));
    // An 'error' event without a listener would throw; errors are also reported via promises.
    this.on('error', () => undefined);
  }

  get state(): ClientState {
    return this.session.state;
  }

  get dialect(): Dialect | undefined {
    return this.session.dialect;
  }

  /** Providers asked for, with availability as the kernel answered. */
  providers(): ProviderStatus[] {
    return [...this.session.providerStatus.values()];
  }

  getNumDrops(): number {
    return this.loss.drops;
  }

  dropCounts(): Record<string, number> {
    return Object.fromEntries(this.loss.dropsByReason);
  }

  /** The layout self-test's result, when it ran. */
  get selfTest(): SelfTestResult | undefined {
    return this.selfTestValue;
  }

  /** Number of complete sweeps so far. */
  get sweeps(): number {
    return this.sweeper.sweepsCompleted;
  }

  /** SO_RCVBUF in effect, when the transport reports it. */
  get receiveBufferSize(): number | undefined {
    return this.session.receiveBuffer;
  }

  /** Live streams (copies); interfaces are not streams (see interfaces()). */
  snapshot(): Stream[] {
    const table = this.session.table;
    return table ? [...table.streams()].filter((s) => s.provider !== 'ifnet').map((s) => ({ ...s })) : [];
  }

  /** Interfaces the ifnet provider reports, when subscribed (model/interface.ts). */
  interfaces(): InterfaceStat[] {
    const { table, dialect } = this.session;
    if (!table || !dialect || dialect.inferred) return [];
    const out: InterfaceStat[] = [];
    for (const s of table.streams()) if (s.provider === 'ifnet' && s.counts) out.push(interfaceFromStream(dialect, s, this.session.ifnetNames));
    return out;
  }

  /** The live stream for a srcref id, if any (the object events carry). */
  stream(id: string): Stream | undefined {
    try {
      return this.session.table?.get(BigInt(id));
    } catch {
      return undefined;
    }
  }

  /** Open the transport, subscribe to the providers and start polling. */
  async connect(): Promise<void> {
    const s = this.session;
    if (s.state !== 'idle') throw new NtstatError('ERR_NTSTAT_USAGE', `connect() called in state ${s.state}`);
    s.state = 'connecting';
    this.closedPromise = new Promise((r) => (this.resolveClosed = r));
    try {
      await openTransport(s, {
        onDatagram: (d, truncated) => this.incoming.onDatagram(d, truncated),
        onClose: (err) => this.onTransportClose(err),
      });
      if (s.opts.passive) {
        s.state = 'running';
        s.opts.signal?.addEventListener('abort', () => this.stop(), { once: true });
        if (s.opts.signal?.aborted) this.stop();
        return;
      }
      s.state = 'subscribing';
      // From here until the self-test's verdict, nothing is decoded into the table: a source that
      // comes and goes while we subscribe or load the self-test would otherwise be reported through
      // the unverified layout (seen under load: a UDP flow printed with pid 4 and a garbled name).
      s.calibrating = this.selfTestWanted();
      await subscribe(s, this.channel);
      if (s.state !== 'subscribing') return;
      s.state = 'running';
      s.opts.signal?.addEventListener('abort', () => this.stop(), { once: true });
      if (s.opts.signal?.aborted) {
        this.stop();
        return;
      }
      await this.calibrate();
      if (s.state !== 'running') return;
      // The first sweep reports every source that existed at subscription (the "initial" ones).
      void this.sweep();
      if (s.opts.interval > 0) {
        // Like a socket, a running client keeps the process alive until stop().
        this.timer = setInterval(() => void this.sweep(), s.opts.interval);
      }
    } catch (e) {
      this.shutdown();
      throw e;
    }
  }

  /** @internal */
  private selfTestSkippedForPid(): boolean {
    // The kernel reports only that pid's sources: our calibration flows would be invisible.
    const pid = this.session.opts.pid;
    return pid !== undefined && pid !== process.pid;
  }

  /** @internal */
  private selfTestWanted(): boolean {
    const s = this.session;
    const mode = s.opts.selfTest ?? 'auto';
    if (mode === 'never' || (mode === 'auto' && s.dialect!.verified)) return false;
    return !this.selfTestSkippedForPid();
  }

  /** @internal */
  /** The layout self-test before the first sweep (calibration.ts). */
  private async calibrate(): Promise<void> {
    const s = this.session;
    if (!this.selfTestWanted()) {
      s.calibrating = false;
      if (this.selfTestSkippedForPid()) {
        this.emit('warning', `layout self-test skipped: the subscription is limited to pid ${s.opts.pid}; values come from the unverified layout`);
      }
      return;
    }
    const { runSelfTest } = await import('./calibration.js');
    const maker = s.opts.calibrationFlows ?? (await import('./calibration-flow.js')).loopbackFlowMaker;
    const watches = (g: 'tcp' | 'udp') => GROUPS[g].some((p) => s.providerStatus.get(p)?.available === true);
    s.calibrating = true;
    try {
      const result = await runSelfTest(
        { dialect: s.dialect!, poll: (k) => this.sweeper.pagedPoll(k), capture: (fn) => (s.capture = fn), watches },
        maker,
      );
      this.selfTestValue = result;
      if (result.dialect !== s.dialect) {
        s.dialect = result.dialect;
        s.table = new SourceTable(result.dialect);
        s.table.initialPhase = true;
        s.table.interfaceNames = s.opts.interfaceNames;
      }
      this.emit('selfTest', result);
      this.emit('warning', selfTestSummary(result));
    } finally {
      s.calibrating = false;
      s.capture = undefined;
    }
  }

  /**
   * Run one complete sweep (or join the running one). Resolves true when the sweep completed,
   * so its view of the kernel's sources is complete.
   */
  sweep(): Promise<boolean> {
    return this.sweeper.sweep();
  }

  /** @internal */
  private onTransportClose(err?: NtstatError): void {
    const s = this.session;
    if (s.state === 'stopping' || s.state === 'closed') return;
    if (err) this.emit('error', err);
    // A live kernel never hangs up on its own: say so (a replay simply reached its end).
    else if (!s.opts.passive) this.emit('error', new NtstatError('ERR_NTSTAT_TRANSPORT', 'the kernel side closed the statistics connection'));
    this.shutdown();
  }

  /** Resolves when the client stops (stop(), abort signal, or the kernel closing the socket). */
  closed(): Promise<void> {
    return this.closedPromise ?? Promise.resolve();
  }

  stop(): void {
    const s = this.session;
    if (s.state === 'closed' || s.state === 'stopping') return;
    if (s.state === 'idle') {
      s.state = 'closed';
      return;
    }
    this.shutdown();
  }

  /** @internal */
  private shutdown(): void {
    const s = this.session;
    s.state = 'stopping';
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    s.pending.failAll(new NtstatError('ERR_NTSTAT_CLOSED', 'client stopped'));
    try {
      s.transport?.close();
    } catch {
      // closing is best effort
    }
    s.state = 'closed';
    this.fanout.end();
    this.emit('close');
    this.resolveClosed?.();
  }

  /** Async iteration over stream and drop events until the client closes. */
  events(): AsyncIterableIterator<ClientEvent> {
    return this.fanout.iterate(this.session.state === 'closed');
  }
}
