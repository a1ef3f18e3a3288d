/**
 * The live streams of a client, kept from its events: the client's own Stream objects (updated
 * in place), so a view reads them where they are each frame instead of copying every stream
 * (`client.snapshot()` copies ~2 000 objects a second in `top`). Membership follows the table's
 * events: `added` once a source is announced, `removed` when it ends (SourceTable).
 *
 * Held in an array (a removal moves the last stream into the hole) so a frame walks them with an
 * indexed loop: code that runs once a second is not optimised by V8, and a Map iterator there
 * costs an iterator result object per stream (issue 17). The order is not meaningful.
 */
import type { Stream } from '../model/stream.js';

interface EventSource {
  on(event: 'added' | 'update' | 'removed', listener: (s: Stream) => void): unknown;
}

export class LiveStreams {
  /** Position of each stream in `list`, by id. */
  private readonly at = new Map<string, number>();
  private readonly list: Stream[] = [];

  constructor(client: EventSource) {
    // An update carries the same object; setting it again also covers a source re-announced
    // with a new object under the same id.
    client.on('added', (s) => this.set(s));
    client.on('update', (s) => this.set(s));
    client.on('removed', (s) => this.delete(s.id));
  }

  private set(s: Stream): void {
    const i = this.at.get(s.id);
    if (i === undefined) {
      this.at.set(s.id, this.list.length);
      this.list.push(s);
    } else this.list[i] = s;
  }

  private delete(id: string): void {
    const i = this.at.get(id);
    if (i === undefined) return;
    this.at.delete(id);
    const last = this.list.pop()!;
    if (i < this.list.length) {
      this.list[i] = last;
      this.at.set(last.id, i);
    }
  }

  get size(): number {
    return this.list.length;
  }

  /** The live streams (this set's own array: read it, do not keep or change it). */
  streams(): readonly Stream[] {
    return this.list;
  }

  values(): IterableIterator<Stream> {
    return this.list.values();
  }
}
