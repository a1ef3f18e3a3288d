/** Writers for the event views (log lines, NDJSON, CSV), shared by live sessions and replay. */
import type { StreamEvent } from '../model/events.js';
import { DEFAULT_LOG_CSV, STREAM_COLUMNS, chooseColumns, csvLine } from './columns.js';
import { writeLogEvent, type LogFormatOptions } from './format-log.js';
import { formatInterfaceLog } from './format-interface.js';
import { interfaceToJson, type InterfaceEvent, type InterfaceStat } from '../model/interface.js';
import type { CliIo } from './io.js';
import type { StreamPredicate } from './filters.js';
import type { HostResolver } from './resolve.js';
import { BufferedOutput, OUTPUT_FLUSH_BYTES } from './buffered-output.js';
import { JsonLineFormatter } from './format-json.js';

export interface EventSink {
  /** Returns false when the sink wants no more events (--count reached). */
  write(ev: StreamEvent): boolean;
  /**
   * An interface event (ifnet provider): a JSON line or log lines; not in CSV (its columns are a
   * flow's) and not counted by --count (which counts flow events).
   */
  writeInterface(ev: InterfaceEvent): void;
  /** Text for stdout in order with the events (e.g. the log's `XNU version:` line). */
  text(s: string): void;
  /** Write out what is buffered (before the command returns). */
  flush(): void;
}

export interface EventSinkOptions {
  json: boolean;
  csv?: boolean;
  columns?: readonly string[];
  utc: boolean;
  count?: number;
  filter: StreamPredicate;
  /** Which interface events to show (default: all). */
  interfaceFilter?: (i: InterfaceStat) => boolean;
  /** --resolve: host names known when the event is written (lookups are started here). */
  resolver?: HostResolver;
}

export function makeEventSink(io: CliIo, opts: EventSinkOptions): EventSink {
  let written = 0;
  const out = new BufferedOutput(io.stdout, OUTPUT_FLUSH_BYTES, io.writeBytes);
  const jsonLine = new JsonLineFormatter();
  const cols = opts.csv ? chooseColumns(opts.columns, DEFAULT_LOG_CSV, Object.keys(STREAM_COLUMNS)) : [];
  if (opts.csv) out.write(csvLine(cols) + '\n');
  const logOpts: LogFormatOptions = { utc: opts.utc };
  return {
    text: (s) => out.write(s),
    writeInterface(ev) {
      if (opts.csv || (opts.count !== undefined && written >= opts.count)) return;
      if (opts.interfaceFilter && !opts.interfaceFilter(ev.interface)) return;
      if (opts.json) out.write(JSON.stringify(interfaceToJson(ev)) + '\n');
      else out.write(formatInterfaceLog(ev, { utc: opts.utc }).join('\n') + '\n');
    },
    flush: () => out.flush(),
    write(ev) {
      if (opts.count !== undefined && written >= opts.count) return false;
      if (!opts.filter(ev.stream)) return true;
      const remote = ev.stream.remote?.address;
      if (remote !== undefined) opts.resolver?.lookup(remote);
      const host = remote !== undefined ? opts.resolver?.host(remote) : undefined;
      if (opts.json) out.write(jsonLine.format(ev, host !== undefined ? { remoteHost: host } : {}) + '\n');
      else if (opts.csv) {
        const row = { stream: ev.stream, event: ev.event, time: ev.time, ...(host !== undefined ? { host } : {}) };
        out.write(csvLine(cols.map((c) => STREAM_COLUMNS[c](row))) + '\n');
      } else {
        writeLogEvent(out.bytes(), ev, host !== undefined ? { utc: opts.utc, remoteHost: host } : logOpts);
        out.written();
      }
      written++;
      return opts.count === undefined || written < opts.count;
    },
  };
}
