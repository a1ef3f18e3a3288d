/**
 * UsageRecorder: a NetworkStatisticsClient recorded into a UsageStore, for apps that embed
 * recording (an Electron or menu-bar app) without the CLI. It is the agent with a store required;
 * queries go to the same store (`recorder.store()` or the UsageStore itself).
 */
import type { NetworkStatisticsClient } from '../client/client.js';
import type { UsageStore } from '../store/usage-store.js';
import { UsageAgent } from './usage-agent.js';

export interface UsageRecorderOptions {
  /** Seconds between flushes (default 10). */
  flushSeconds?: number;
  /** Wall clock in ms (default Date.now). */
  clock?: () => number;
}

export class UsageRecorder extends UsageAgent {
  constructor(client: NetworkStatisticsClient, store: UsageStore, opts: UsageRecorderOptions = {}) {
    super({ client, sink: store, ...opts });
  }
}
