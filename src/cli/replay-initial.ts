/**
 * Which `added` events of a replay are "present at start" (` +` in the log), decided as the live
 * client decided it: a source is initial when it was reported before the client's first sweep
 * ended. Recordings hold the client's requests too, so the first sweep is visible: it ends with
 * the final answer (no CONTINUATION) to the first GET_UPDATE(ALL) or QUERY_SRC(ALL) poll
 * (BEHAVIOUR.md §2.6; the client's runSweep). Until the file shows a poll request (libntstat
 * recordings of other clients may have none), the passive client's own guess stands.
 */
import { HeaderFlag, MessageType } from '../protocol/constants.js';
import { decodeDatagram } from '../protocol/decode.js';
import type { Dialect } from '../protocol/dialect.js';
import { planFor } from '../protocol/plan.js';
import type { StreamEvent } from '../model/events.js';

export class InitialPhaseTracker {
  private readonly polls = new Set<bigint>();
  private endsAfterCurrent = false;
  private over = false;
  /** Header size of the dialect (the framing a record's messages are split by). */
  private readonly hdrSize: number;

  constructor(private readonly dialect: Dialect) {
    this.hdrSize = planFor(dialect).hdrSize;
  }

  /** A request the recorded client sent. */
  request(data: Uint8Array): void {
    for (const m of safeDecode(data, this.dialect)) {
      if (m.kind === 'getUpdate' || m.kind === 'querySrc') this.polls.add(m.context);
    }
  }

  /** A kernel record about to be delivered; call before the client processes it. */
  kernelRecord(data: Uint8Array): void {
    if (this.endsAfterCurrent) this.over = true;
    if (this.over || this.polls.size === 0) return;
    // Only a SUCCESS or ERROR can end the phase: records without one (nearly all: source news
    // and poll replies) are not decoded at all (decoding each was a tenth of a replay's time).
    if (!hasReply(data, this.dialect.hasLength, this.hdrSize)) return;
    for (const m of safeDecode(data, this.dialect)) {
      if ((m.kind === 'success' || m.kind === 'error') && this.polls.has(m.context) && !(m.kind === 'success' && m.flags & HeaderFlag.CONTINUATION)) {
        this.endsAfterCurrent = true;
      }
    }
  }

  /** Whether an `added` event emitted now is initial; `clientSays` until the file shows a poll. */
  initial(clientSays: boolean | undefined): boolean {
    return this.polls.size > 0 ? !this.over : clientSays === true;
  }

  /**
   * An `added` event with `initial` decided here. A literal, not `{ ...ev, initial }`: on Node 20
   * a spread that then adds a property gives its result a hidden class of its own when the call
   * site has seen events of both shapes (with and without `initial`), so every consumer's read of
   * an event field missed its inline cache (issue 17; test/stream-shapes.test.ts).
   */
  mark(ev: StreamEvent): StreamEvent {
    return { event: ev.event, time: ev.time, stream: ev.stream, initial: this.initial(ev.initial) };
  }
}

/**
 * Whether some message header of the record, split as decodeDatagram splits it (hdr.length from
 * 10.11, else one message per record: LAYOUTS.md trap 7), has the type SUCCESS or ERROR. Errs on
 * the side of yes: a record it says no to cannot decode to a reply.
 */
export function hasReply(data: Uint8Array, hasLength: boolean, hdrSize: number): boolean {
  const total = data.byteLength;
  // Byte reads (little-endian), no DataView per record.
  for (let at = 0; total - at >= hdrSize; ) {
    const type = (data[at + 8] | (data[at + 9] << 8) | (data[at + 10] << 16) | (data[at + 11] << 24)) >>> 0;
    if (type === MessageType.SUCCESS || type === MessageType.ERROR) return true;
    if (!hasLength) return false;
    const len = data[at + 12] | (data[at + 13] << 8);
    if (len < hdrSize) return false; // decodeDatagram rejects the record
    at += len;
  }
  return false;
}

function safeDecode(data: Uint8Array, dialect: Dialect) {
  try {
    return decodeDatagram(data, dialect, { unknownTypes: 'skip' });
  } catch {
    return []; // the client reports undecodable records itself
  }
}
