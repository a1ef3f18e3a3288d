/**
 * The live streams of a client, kept from its events: the client's own Stream objects (updated
 * in place), so a view reads them where they are each frame instead of copying every stream
 * (`client.snapshot()` copies ~2 000 objects a second in `top`). Membership follows the table's
 * events: `added` once a source is announced, `removed` when it ends (SourceTable).
 */
import type { Stream } from '../model/stream.js';

interface EventSource {
  on(event: 'added' | 'update' | 'removed', listener: (s: Stream) => void): unknown;
}

export class LiveStreams {
  private readonly byId = new Map<string, Stream>();

  constructor(client: EventSource) {
    client.on('added', (s) => this.byId.set(s.id, s));
    // An update carries the same object; setting it again also covers a source re-announced
    // with a new object under the same id.
    client.on('update', (s) => this.byId.set(s.id, s));
    client.on('removed', (s) => this.byId.delete(s.id));
  }

  get size(): number {
    return this.byId.size;
  }

  values(): IterableIterator<Stream> {
    return this.byId.values();
  }
}
