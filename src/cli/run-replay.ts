/** `ntstat replay FILE`: a recording through the client's source table, printed as log or NDJSON. */
import { closeSync, openSync, readSync } from 'node:fs';
import { NtstatError } from '../errors.js';
import { dialectFor, type Dialect } from '../protocol/dialect.js';
import { Direction, isNtcap, openNtcapFile, type NtcapReader } from '../transport/ntcap.js';
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
  const format = o.format ?? detectFormat(file);
  let records: Iterable<ReplayRecord>;
  let dialect: Dialect;
  let xnuLabel: string;
  let ntcap: NtcapReader | undefined;
  if (format === 'ntcap') {
    ntcap = openNtcapFile(file);
    dialect = selectDialect(o, undefined) ?? dialectFor(ntcap.header.xnu);
    xnuLabel = o.xnu ?? ntcap.header.xnu;
    records = ntcapRecords(ntcap);
  } else {
    dialect = selectDialect(o, 'a libntstat recording does not say which kernel made it: give --xnu VERSION or --macos VERSION')!;
    xnuLabel = o.xnu ?? dialect.xnu;
    records = libntstatRecords(file);
  }
  if (dialect.warning) io.stderr.write(`ntstat: warning: ${dialect.warning}\n`);
  const sink = makeEventSink(io, { json: o.json, utc: o.utc, count: o.count, filter: compileFilter(o) });
  if (!o.json) io.stdout.write(`XNU version:${xnuLabel}\n`);
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
  if (ntcap) {
    ntcap.close();
    const torn = ntcap.tornTail;
    if (torn) io.stderr.write(`ntstat: warning: the recording ends with a torn record at byte ${torn.offset} (${torn.reason}); every complete record was replayed\n`);
  }
  return 0;
}

function detectFormat(file: string): 'ntcap' | 'libntstat' {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const head = new Uint8Array(6);
    readSync(fd, head, 0, 6, 0);
    return isNtcap(head) ? 'ntcap' : 'libntstat';
  } catch (e) {
    throw new NtstatError('ERR_NTSTAT_CAPTURE', `cannot open ${file}: ${(e as Error).message}`, { cause: e });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function* ntcapRecords(r: NtcapReader): Generator<ReplayRecord> {
  for (const rec of r.records()) {
    if (rec.direction !== Direction.FromKernel) continue;
    yield { time: Number(rec.timeNs / 1_000_000n), data: rec.data, offset: rec.offset };
  }
}
