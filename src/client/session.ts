/**
 * The state one client's parts share (subscription.ts, requests.ts, sweeps.ts, loss-ledger.ts,
 * incoming.ts): the session's transport, dialect, source table and request matching. Internal: the
 * package exports only NetworkStatisticsClient, which owns one session.
 */
import type { NtstatError } from '../errors.js';
import type { ProviderName } from '../protocol/constants.js';
import type { Dialect } from '../protocol/dialect.js';
import type { Transport } from '../transport/transport.js';
import type { FlushFailureSignal } from './loss.js';
import { PendingRequests } from './pending.js';
import type { SourceTable } from './source-table.js';
import type { ClientEvents, ClientOptions, ClientState, ProviderStatus } from './options.js';

export type ResolvedClientOptions = Required<Pick<ClientOptions, 'interval' | 'receiveBufferSize' | 'requestTimeout'>> & ClientOptions;

/** The client's typed emit. */
export type ClientEmit = <K extends keyof ClientEvents>(event: K, ...args: Parameters<ClientEvents[K]>) => boolean;

export class ClientSession {
  state: ClientState = 'idle';
  transport?: Transport;
  dialect?: Dialect;
  table?: SourceTable;
  readonly pending = new PendingRequests();
  readonly providerStatus = new Map<ProviderName, ProviderStatus>();
  /** SO_RCVBUF in effect, when the transport reports it. */
  receiveBuffer?: number;
  /**
   * While the self-test sweeps: records are captured for it, not applied to the table. The capture
   * callback borrows each record (TransportHandlers.borrow): it copies what it keeps.
   */
  calibrating = false;
  capture?: (datagram: Uint8Array) => void;
  layoutFailure?: NtstatError;
  flushSignal?: FlushFailureSignal;
  /** Interface names from the enumeration the ifnet subscription used (ifnet.ts). */
  readonly ifnetNames = new Map<number, string>();
  /** Interface indexes with an ifnet source (or refused), and contexts of later ADD_SRCs (ifnet.ts). */
  readonly ifnetWatched = new Set<number>();
  readonly ifnetRequests: bigint[] = [];

  constructor(
    readonly opts: ResolvedClientOptions,
    readonly clock: () => number,
    readonly emit: ClientEmit,
    /** Stop the client: fail waiters, close the transport, end iterators (client.ts). */
    readonly shutdown: () => void,
  ) {}

  isMacos15(): boolean {
    return Number(this.dialect!.macos.split('.')[0]) >= 15;
  }

  /** Non-aggregated ALL polls exist 10.11–14 (B15 aggregates every ALL poll, §2.6). */
  lossFreeAvailable(): boolean {
    return this.dialect!.hasLength && !this.isMacos15();
  }
}
