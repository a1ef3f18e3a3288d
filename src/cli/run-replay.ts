/**
 * `ntstat replay FILE`: a recording played through the same client, source table and stream
 * model as a live session (a passive client over a ReplayTransport), printed as log or NDJSON.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { NtstatError } from '../errors.js';
import { NetworkStatisticsClient } from '../client/client.js';
import type { StreamEvent } from '../client/source-table.js';
import { dialectFor, type Dialect } from '../protocol/dialect.js';
import { isNtcap, openNtcapFile, type NtcapReader } from '../transport/ntcap.js';
import { ReplayTransport, type ReplayRecord } from '../transport/replay.js';
import { compileFilter } from './filters.js';
import type { CliIo } from './io.js';
import { selectDialect, type CliOptions } from './options.js';
import { makeEventSink } from './output.js';
import { atRecord, libntstatRecords, ntcapRecords } from './replay.js';

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
  let current = 0;
  const tracked = (function* () {
    for (const r of records) {
      current = r.offset;
      yield r;
    }
  })();
  const transport = new ReplayTransport(tracked, { speed: o.speed ?? 0 });
  const client = new NetworkStatisticsClient({ transport, dialect, passive: true, clock: () => transport.now, ...(io.signal ? { signal: io.signal } : {}) });
  const sink = makeEventSink(io, { json: o.json, utc: o.utc, count: o.count, filter: compileFilter(o) });
  if (!o.json) sink.text(`XNU version:${xnuLabel}\n`);
  let failure: unknown;
  for (const kind of ['added', 'update', 'removed'] as const) {
    client.on(kind, (_s, ev: StreamEvent) => {
      if (!sink.write(ev)) client.stop();
    });
  }
  client.on('error', (e: unknown) => {
    // A record that does not decode for the dialect: stop at it (a corrupt file is an error).
    failure ??= atRecord(e, current);
    client.stop();
  });
  await client.connect();
  await client.closed();
  sink.flush();
  ntcap?.close();
  if (failure) throw failure;
  const torn = ntcap?.tornTail;
  if (torn) io.stderr.write(`ntstat: warning: the recording ends with a torn record at byte ${torn.offset} (${torn.reason}); every complete record was replayed\n`);
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
