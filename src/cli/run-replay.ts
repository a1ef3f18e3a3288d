/** `ntstat replay FILE`: a recording through the client's source table, printed as log or NDJSON. */
import { NtstatError } from '../errors.js';
import { compileFilter } from './filters.js';
import type { CliIo } from './io.js';
import { selectDialect, type CliOptions } from './options.js';
import { makeEventSink } from './output.js';
import { libntstatRecords, replayEvents, type ReplayRecord } from './replay.js';

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });
}

export async function runReplay(o: CliOptions, io: CliIo): Promise<number> {
  const file = o.positionals[0];
  if (!file) throw new NtstatError('ERR_NTSTAT_USAGE', 'replay needs a FILE');
  if (o.positionals.length > 1) throw new NtstatError('ERR_NTSTAT_USAGE', `unexpected argument ${JSON.stringify(o.positionals[1])}`);
  const format = o.format ?? 'libntstat';
  if (format !== 'libntstat') throw new NtstatError('ERR_NTSTAT_USAGE', `--format ${format} is not supported by this build`);
  const dialect = selectDialect(o, 'a libntstat recording does not say which kernel made it: give --xnu VERSION or --macos VERSION')!;
  if (dialect.warning) io.stderr.write(`ntstat: warning: ${dialect.warning}\n`);
  const sink = makeEventSink(io, { json: o.json, utc: o.utc, count: o.count, filter: compileFilter(o) });
  if (!o.json) io.stdout.write(`XNU version:${o.xnu ?? dialect.xnu}\n`);
  const records: Iterable<ReplayRecord> = libntstatRecords(file);
  const speed = o.speed ?? 0;
  let firstRecordTime: number | undefined;
  let started = 0;
  for (const ev of replayEvents(records, dialect)) {
    if (io.signal?.aborted) break;
    if (speed > 0) {
      // Pace by recorded time: real time divided by --speed.
      if (firstRecordTime === undefined) {
        firstRecordTime = ev.time;
        started = Date.now();
      }
      const due = started + (ev.time - firstRecordTime) / speed;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait, io.signal);
    }
    if (!sink.write(ev)) break;
  }
  return 0;
}
