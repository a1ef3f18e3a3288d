/**
 * The libntstat-compatible surface (seed 001): a listener with onStreamAdded / onStreamRemoved /
 * onStreamStatsUpdate, and a client with configure / connectToKernel / isConnected / run / stop /
 * getNumDrops. It is a thin shell over NetworkStatisticsClient.
 */
import type { Stream } from '../model/stream.js';
import { NetworkStatisticsClient, type ClientOptions, type ClientProvider } from './client.js';

export interface NetworkStatisticsListener {
  onStreamAdded(stream: Stream): void;
  onStreamRemoved(stream: Stream): void;
  onStreamStatsUpdate(stream: Stream): void;
}

export interface CompatClient {
  /** Seed defaults: wantTcp true, wantUdp false, updateIntervalSeconds 30. */
  configure(wantTcp?: boolean, wantUdp?: boolean, updateIntervalSeconds?: number): void;
  /** Opens the kernel control and subscribes; resolves false (and keeps the error) on failure. */
  connectToKernel(): Promise<boolean>;
  isConnected(): boolean;
  /** Resolves when stop() is called or the socket closes. */
  run(): Promise<void>;
  stop(): void;
  getNumDrops(): number;
  /** The error that made connectToKernel() return false, if any. */
  lastError(): Error | undefined;
  /**
   * Why connectToKernel() returned false, as the seed API names it: an NtstatError with a stable
   * `code` (ERR_NTSTAT_UNSUPPORTED_OS off macOS, ERR_NTSTAT_PERMISSION, ...), or undefined.
   */
  getLastError(): Error | undefined;
  /** The underlying idiomatic client (available after connectToKernel()). */
  client(): NetworkStatisticsClient | undefined;
}

export type CompatOptions = Omit<ClientOptions, 'providers' | 'interval'>;

export function createNetworkStatisticsClient(listener: NetworkStatisticsListener, options: CompatOptions = {}): CompatClient {
  let wantTcp = true;
  let wantUdp = false;
  let intervalSeconds = 30;
  let inner: NetworkStatisticsClient | undefined;
  let error: Error | undefined;
  let stopped = false;
  return {
    configure(tcp = true, udp = false, seconds = 30) {
      wantTcp = tcp;
      wantUdp = udp;
      intervalSeconds = seconds;
    },
    async connectToKernel() {
      const providers: ClientProvider[] = [];
      if (wantTcp) providers.push('tcp');
      if (wantUdp) providers.push('udp');
      inner = new NetworkStatisticsClient({ ...options, providers, interval: intervalSeconds * 1000 });
      inner.on('added', (s: Stream) => listener.onStreamAdded(s));
      inner.on('removed', (s: Stream) => listener.onStreamRemoved(s));
      inner.on('update', (s: Stream) => listener.onStreamStatsUpdate(s));
      try {
        await inner.connect();
        if (stopped) inner.stop();
        return true;
      } catch (e) {
        error = e as Error;
        return false;
      }
    },
    isConnected() {
      return inner?.state === 'running';
    },
    async run() {
      if (!inner) return;
      await inner.closed();
    },
    stop() {
      stopped = true;
      inner?.stop();
    },
    getNumDrops() {
      return inner?.getNumDrops() ?? 0;
    },
    lastError() {
      return error;
    },
    getLastError() {
      return error;
    },
    client() {
      return inner;
    },
  };
}
