/**
 * Replay of a recording through the same SourceTable and stream model the live client uses.
 * Requests recorded from the client side are recognised by their message type and skipped.
 */
import { NtstatError } from '../errors.js';
import type { Dialect } from '../protocol/dialect.js';
import { decodeDatagram } from '../protocol/decode.js';
import { isRequest } from '../protocol/messages.js';
import { SourceTable, type StreamEvent } from '../client/source-table.js';
import { readLibntstatFile } from '../transport/libntstat-reader.js';

export interface ReplayRecord {
  /** ms since epoch */
  time: number;
  data: Uint8Array;
  offset: number;
}

export interface ReplayStats {
  records: number;
  requestRecords: number;
  messages: number;
}

const REQUEST_TYPE_MIN = 1001;
const REQUEST_TYPE_MAX = 1008;

/** Is this record a client request (types 1001..1008)? Decided by the first header's type. */
export function isRequestRecord(data: Uint8Array): boolean {
  if (data.byteLength < 16) return false;
  const type = new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(8, true);
  return type >= REQUEST_TYPE_MIN && type <= REQUEST_TYPE_MAX;
}

export function* libntstatRecords(path: string): Generator<ReplayRecord> {
  for (const r of readLibntstatFile(path)) yield { time: r.time * 1000, data: r.data, offset: r.offset };
}

/**
 * Feed records to a SourceTable and yield its events. Streams reported before the first
 * SUCCESS (the ADD_ALL walk) are marked `initial`.
 */
export function* replayEvents(records: Iterable<ReplayRecord>, dialect: Dialect, stats?: ReplayStats): Generator<StreamEvent> {
  const table = new SourceTable(dialect);
  table.initialPhase = true;
  const events: StreamEvent[] = [];
  for (const rec of records) {
    if (stats) stats.records++;
    if (isRequestRecord(rec.data)) {
      if (stats) stats.requestRecords++;
      continue;
    }
    let messages;
    try {
      messages = decodeDatagram(rec.data, dialect);
    } catch (e) {
      if (e instanceof NtstatError) {
        throw new NtstatError(e.code, `record at byte ${rec.offset}: ${e.message}`, { offset: rec.offset, cause: e });
      }
      throw e;
    }
    for (const m of messages) {
      if (stats) stats.messages++;
      if (isRequest(m)) continue;
      if (m.kind === 'success') table.initialPhase = false;
      events.length = 0;
      table.apply(m, rec.time, events);
      yield* events;
    }
  }
}
