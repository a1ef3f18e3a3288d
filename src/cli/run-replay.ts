/**
 * `ntstat replay FILE`: a recording played through the same client, source table and stream
 * model as a live session (a passive client over a ReplayTransport), printed as log or NDJSON.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { NtstatError } from '../errors.js';
import { NetworkStatisticsClient } from '../client/client.js';
import { InterfaceNames, sanitizeInterfaceTable } from '../model/interface-names.js';
import type { StreamEvent } from '../model/events.js';
import { dialectFor, type Dialect } from '../protocol/dialect.js';
import { isNtcap, openNtcapFile, type NtcapReader } from '../transport/ntcap.js';
import { ReplayTransport, type ReplayRecord } from '../transport/replay.js';
import { compileFilter, compileInterfaceFilter } from './filters.js';
import type { InterfaceEvent } from '../model/interface.js';
import type { CliIo } from './io.js';
import { selectDialect, type CliOptions } from './options.js';
import { makeEventSink } from './output.js';
import { atRecord, libntstatRecords, ntcapRecords, type RecordHooks } from './replay.js';
import { InitialPhaseTracker } from './replay-initial.js';

export async function runReplay(o: CliOptions, io: CliIo): Promise<number> {
  const file = o.positionals[0];
  if (!file) throw new NtstatError('ERR_NTSTAT_USAGE', 'replay needs a FILE');
  if (o.positionals.length > 1) throw new NtstatError('ERR_NTSTAT_USAGE', `unexpected argument ${JSON.stringify(o.positionals[1])}`);
  const format = o.format ?? detectFormat(file, o);
  let records: Iterable<ReplayRecord>;
  let dialect: Dialect;
  let xnuLabel: string;
  let ntcap: NtcapReader | undefined;
  let initial: InitialPhaseTracker;
  let interfaceNames: InterfaceNames | undefined;
  /** Offset of the record being delivered (errors name it). */
  let current = 0;
  // The tracker sees every request and every kernel record before the client does.
  const hooks: RecordHooks = {
    request: (d) => initial.request(d),
    kernel: (d, offset) => {
      current = offset;
      initial.kernelRecord(d);
    },
  };
  if (format === 'ntcap') {
    ntcap = openNtcapFile(file);
    if (o.xnu !== undefined || o.macos !== undefined) {
      ntcap.close();
      throw new NtstatError('ERR_NTSTAT_USAGE', `${file} is an ntcap recording, which names its kernel (xnu-${ntcap.header.xnu}): --xnu/--macos apply to libntstat recordings only`);
    }
    dialect = dialectFor(ntcap.header.xnu);
    xnuLabel = ntcap.header.xnu;
    // The interfaces the recorder knew at its start (absent in older captures: flows show no name).
    const table = sanitizeInterfaceTable(ntcap.header.interfaces);
    if (table.length > 0) interfaceNames = InterfaceNames.fixed(table);
    initial = new InitialPhaseTracker(dialect);
    records = ntcapRecords(ntcap, hooks);
  } else {
    dialect = selectDialect(o, 'a libntstat recording does not say which kernel made it: give --xnu VERSION or --macos VERSION')!;
    xnuLabel = o.xnu ?? dialect.xnu;
    initial = new InitialPhaseTracker(dialect);
    records = libntstatRecords(file, hooks);
  }
  if (dialect.warning) io.stderr.write(`ntstat: warning: ${dialect.warning}\n`);
  const transport = new ReplayTransport(records, { speed: o.speed ?? 0 });
  const client = new NetworkStatisticsClient({ transport, dialect, passive: true, clock: () => transport.now, ...(interfaceNames ? { interfaceNames } : {}), ...(io.signal ? { signal: io.signal } : {}) });
  const sink = makeEventSink(io, { json: o.json, csv: o.csv, ...(o.columns ? { columns: o.columns } : {}), utc: o.utc, count: o.count, filter: compileFilter(o, interfaceNames ? (n) => interfaceNames.index(n) : undefined), interfaceFilter: compileInterfaceFilter(o) });
  if (!o.json && !o.csv) sink.text(`XNU version:${xnuLabel}\n`);
  let failure: unknown;
  for (const kind of ['added', 'update', 'removed'] as const) {
    client.on(kind, (_s, ev: StreamEvent) => {
      const marked = kind === 'added' ? initial.mark(ev) : ev;
      if (!sink.write(marked)) client.stop();
    });
  }
  client.on('interface', (ev: InterfaceEvent) => sink.writeInterface(ev.change === 'added' ? { ...ev, initial: initial.initial(ev.initial) } : ev));
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

/**
 * ntcap files say what they are; anything else is a libntstat recording only if the user says
 * which kernel made it (libntstat files have no header to recognise).
 */
function detectFormat(file: string, o: CliOptions): 'ntcap' | 'libntstat' {
  let fd: number | undefined;
  let head: Uint8Array;
  let size: number;
  try {
    fd = openSync(file, 'r');
    head = new Uint8Array(6);
    size = readSync(fd, head, 0, 6, 0);
  } catch (e) {
    throw new NtstatError('ERR_NTSTAT_CAPTURE', `cannot open ${file}: ${(e as Error).message}`, { cause: e });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  if (isNtcap(head.subarray(0, size))) return 'ntcap';
  if (o.xnu !== undefined || o.macos !== undefined) return 'libntstat';
  throw new NtstatError(
    'ERR_NTSTAT_USAGE',
    `${file} is not an ntcap recording (${size === 0 ? 'it is empty' : 'no NTCAP header'}). ` +
      'To replay a libntstat recording, say which kernel made it: ntstat replay FILE --format libntstat --xnu VERSION (or --macos VERSION)',
  );
}
