/**
 * Event emission: table changes go to the EventEmitter listeners and, as ClientEvent objects, to
 * every open `events()` iterator.
 */
import type { StreamEvent } from './source-table.js';
import type { ClientEvent } from './options.js';
import type { ClientEmit } from './session.js';
import type { InterfaceEventSource } from './ifnet.js';

export class EventFanout {
  /** @internal */
  private readonly iterators = new Set<(ev: ClientEvent | undefined) => void>();

  constructor(
    /** @internal */ private readonly emit: ClientEmit,
    /** ifnet sources are interfaces, not streams: their own `interface` events (ifnet.ts). */
    /** @internal */ private readonly interfaces?: InterfaceEventSource,
  ) {}

  emitEvents(events: StreamEvent[]): void {
    for (const ev of events) {
      if (ev.stream.provider === 'ifnet') {
        const iev = this.interfaces?.convert(ev);
        if (iev) this.emit('interface', iev);
        continue;
      }
      this.emit(ev.event, ev.stream, ev);
      if (this.iterators.size > 0) {
        const ce: ClientEvent = ev.initial
          ? { type: ev.event, stream: { ...ev.stream }, time: ev.time, initial: true }
          : { type: ev.event, stream: { ...ev.stream }, time: ev.time };
        for (const push of this.iterators) push(ce);
      }
    }
  }

  /** Hand an event to every open iterator (drops; streams go through emitEvents). */
  push(ev: ClientEvent): void {
    for (const push of this.iterators) push(ev);
  }

  /** The client closed: every iterator ends. */
  end(): void {
    for (const push of this.iterators) push(undefined);
    this.iterators.clear();
  }

  /** Async iteration over stream and drop events until the client closes. */
  iterate(closed: boolean): AsyncIterableIterator<ClientEvent> {
    const queue: ClientEvent[] = [];
    let wake: (() => void) | undefined;
    let done = closed;
    const push = (ev: ClientEvent | undefined) => {
      if (ev === undefined) done = true;
      else queue.push(ev);
      wake?.();
    };
    if (!done) this.iterators.add(push);
    const iterators = this.iterators;
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
        iterators.delete(push);
        done = true;
        return { value: undefined, done: true };
      },
    };
  }
}
