/**
 * Server-sent events for /api/events: one `poll` event per agent poll (the live snapshot), a
 * `flush` event after each database flush. The JSON is serialised once per event for every
 * connected page; a comment line every 15 s keeps proxies and idle timers from closing it.
 */
import type { ServerResponse } from 'node:http';

export const MAX_EVENT_CLIENTS = 32;
const KEEPALIVE_MS = 15_000;

export class EventHub {
  private readonly clients = new Set<ServerResponse>();
  private keepalive?: NodeJS.Timeout;

  get size(): number {
    return this.clients.size;
  }

  /** Opens the stream on `res`; false (and a 503) when too many pages are connected. */
  add(res: ServerResponse, first?: { event: string; data: unknown }): boolean {
    if (this.clients.size >= MAX_EVENT_CLIENTS) {
      res.statusCode = 503;
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.end('too many dashboard connections\n');
      return false;
    }
    res.statusCode = 200;
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    res.write('retry: 2000\n\n');
    if (first) res.write(frame(first.event, JSON.stringify(first.data)));
    this.clients.add(res);
    res.on('close', () => this.clients.delete(res));
    if (!this.keepalive) {
      this.keepalive = setInterval(() => {
        for (const c of this.clients) c.write(': keepalive\n\n');
      }, KEEPALIVE_MS);
      this.keepalive.unref();
    }
    return true;
  }

  broadcast(event: string, data: unknown): void {
    if (this.clients.size === 0) return;
    const text = frame(event, JSON.stringify(data));
    for (const c of this.clients) c.write(text);
  }

  close(): void {
    if (this.keepalive) clearInterval(this.keepalive);
    this.keepalive = undefined;
    for (const c of this.clients) c.end();
    this.clients.clear();
  }
}

/** JSON has no raw newlines, so one `data:` line carries it whole. */
function frame(event: string, json: string): string {
  return `event: ${event}\ndata: ${json}\n\n`;
}
