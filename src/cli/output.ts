/** Writers for the event views (log lines, NDJSON), shared by live sessions and replay. */
import type { StreamEvent } from '../client/source-table.js';
import { eventToJson } from '../model/json.js';
import { formatLogEvent } from './format-log.js';
import type { CliIo } from './io.js';
import type { StreamPredicate } from './filters.js';
import { BufferedOutput } from './buffered-output.js';

export interface EventSink {
  /** Returns false when the sink wants no more events (--count reached). */
  write(ev: StreamEvent): boolean;
  /** Text for stdout in order with the events (e.g. the log's `XNU version:` line). */
  text(s: string): void;
  /** Write out what is buffered (before the command returns). */
  flush(): void;
}

export function makeEventSink(io: CliIo, opts: { json: boolean; utc: boolean; count?: number; filter: StreamPredicate }): EventSink {
  let written = 0;
  const out = new BufferedOutput(io.stdout);
  return {
    text: (s) => out.write(s),
    flush: () => out.flush(),
    write(ev) {
      if (opts.count !== undefined && written >= opts.count) return false;
      if (!opts.filter(ev.stream)) return true;
      if (opts.json) out.write(JSON.stringify(eventToJson(ev)) + '\n');
      else out.write(formatLogEvent(ev, { utc: opts.utc }).join('\n') + '\n');
      written++;
      return opts.count === undefined || written < opts.count;
    },
  };
}
