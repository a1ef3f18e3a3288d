/**
 * Which `added` events of a replay are "present at start" (` +` in the log), decided as the live
 * client decided it: a source is initial when it was reported before the client's first sweep
 * ended. Recordings hold the client's requests too, so the first sweep is visible: it ends with
 * the final answer (no CONTINUATION) to the first GET_UPDATE(ALL) or QUERY_SRC(ALL) poll
 * (BEHAVIOUR.md §2.6; the client's runSweep). Until the file shows a poll request (libntstat
 * recordings of other clients may have none), the passive client's own guess stands.
 */
import { HeaderFlag } from '../protocol/constants.js';
import { decodeDatagram } from '../protocol/decode.js';
import type { Dialect } from '../protocol/dialect.js';

export class InitialPhaseTracker {
  private readonly polls = new Set<bigint>();
  private endsAfterCurrent = false;
  private over = false;

  constructor(private readonly dialect: Dialect) {}

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
}

function safeDecode(data: Uint8Array, dialect: Dialect) {
  try {
    return decodeDatagram(data, dialect, { unknownTypes: 'skip' });
  } catch {
    return []; // the client reports undecodable records itself
  }
}
