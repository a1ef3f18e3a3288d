/** Writers for the event views (log lines, NDJSON), shared by live sessions and replay. */
import type { StreamEvent } from '../client/source-table.js';
import { eventToJson } from '../model/json.js';
import { formatLogEvent } from './format-log.js';
import type { CliIo } from './io.js';
import type { StreamPredicate } from './filters.js';

export interface EventSink {
  /** Returns false when the sink wants no more events (--count reached). */
  write(ev: StreamEvent): boolean;
}

export function makeEventSink(io: CliIo, opts: { json: boolean; utc: boolean; count?: number; filter: StreamPredicate }): EventSink {
  let written = 0;
  return {
    write(ev) {
      if (opts.count !== undefined && written >= opts.count) return false;
      if (!opts.filter(ev.stream)) return true;
      if (opts.json) io.stdout.write(JSON.stringify(eventToJson(ev)) + '\n');
      else io.stdout.write(formatLogEvent(ev, { utc: opts.utc }).join('\n') + '\n');
      written++;
      return opts.count === undefined || written < opts.count;
    },
  };
}
