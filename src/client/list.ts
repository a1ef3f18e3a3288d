/**
 * `await list({ providers })`: the flows open now, for scripts. Connects, lets the first sweep
 * report every source (the subscription walk plus one poll), returns the table and stops: no
 * subprocess, no polling loop left running.
 */
import type { Stream } from '../model/stream.js';
import { NetworkStatisticsClient, type ClientOptions } from './client.js';

/** Sweeps at most, when sweeps keep losing messages. */
const MAX_SWEEPS = 4;

export type ListOptions = Omit<ClientOptions, 'interval' | 'passive'>;

export async function list(options: ListOptions = {}): Promise<Stream[]> {
  const client = new NetworkStatisticsClient({ ...options, interval: 0 });
  try {
    await client.connect();
    // connect() starts the first sweep; sweep() joins it (or runs one) and resolves when done. A
    // sweep that lost messages (a full receive queue drops whole batches, BEHAVIOUR.md §4) is not
    // a complete table: sweep again, a bounded number of times.
    for (let attempt = 0; attempt < MAX_SWEEPS; attempt++) {
      const drops = client.getNumDrops();
      const complete = await client.sweep();
      if (complete && client.getNumDrops() === drops) break;
    }
    return client.snapshot();
  } finally {
    client.stop();
  }
}
