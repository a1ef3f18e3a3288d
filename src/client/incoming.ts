/**
 * Incoming datagrams: decode for the session's dialect, complete waiting requests, count poll
 * replies for the running sweep, and apply source messages to the table (unless the self-test is
 * capturing them), then emit the table's changes.
 */
import { NtstatError } from '../errors.js';
import { DarwinErrno, HeaderFlag } from '../protocol/constants.js';
import { decodeMessageAt, type DecodeOptions, type DeferredMessage } from '../protocol/decode.js';
import { fastPathFor, type UpdateFastPath } from './fast-update.js';
import type { Message } from '../protocol/messages.js';
import { replyLayoutProblem } from './calibration.js';
import type { EventFanout } from './event-fanout.js';
import type { LossLedger } from './loss-ledger.js';
import type { ClientSession } from './session.js';
import type { StreamEvent } from './source-table.js';
import type { Sweeper } from './sweeps.js';

export class IncomingHandler {
  /** The fast path of the session's dialect (the self-test may replace the dialect). */
  private fast: UpdateFastPath | undefined;
  /** Built once: no options object and closure per datagram. */
  private decodeOptions: DecodeOptions | undefined;

  constructor(
    private readonly s: ClientSession,
    private readonly sweeps: Sweeper,
    private readonly loss: LossLedger,
    private readonly fanout: EventFanout,
  ) {}

  onDatagram(data: Uint8Array, truncated: boolean): void {
    if (this.s.state === 'closed' || !this.s.table) return;
    if (truncated) this.loss.countDrop('truncated');
    this.s.capture?.(data);
    let messages: (Message | DeferredMessage)[];
    let fast = this.fast;
    if (fast === undefined || fast.dialect !== this.s.dialect) fast = this.fast = fastPathFor(this.s.dialect!);
    // Unverified dialects: a message in an unexpected shape is dropped alone (issue 12).
    this.decodeOptions ??= { unknownTypes: 'skip', from: this.s.opts.passive ? 'any' : 'kernel', onInvalidMessage: (e) => this.onInvalidMessage(e) };
    try {
      // Poll replies that may repeat what the table holds are left undecoded (fast-update.ts).
      messages = fast.decode(data, this.decodeOptions);
    } catch (e) {
      this.loss.countDrop('malformed');
      this.s.emit('error', e as Error);
      return;
    }
    const now = this.s.clock();
    const events: StreamEvent[] = [];
    let dv: DataView | undefined;
    for (const m of messages) {
      switch (m.kind) {
        case 'deferred': {
          // An SRC_UPDATE: a poll reply like those below; applied in place when its descriptor repeats.
          dv ??= new DataView(data.buffer, data.byteOffset, data.byteLength);
          if (fast.isPollReply(dv, m.at, this.sweeps.pollContext)) this.sweeps.pollReplies++;
          if (this.s.calibrating || fast.apply(this.s.table, data, dv, m.at, now, events)) break;
          this.s.table.apply(decodeMessageAt(data, dv, this.s.dialect!, m.at, m.len)!, now, events);
          break;
        }
        case 'success':
        case 'error': {
          const problem = this.s.dialect!.verified ? undefined : replyLayoutProblem(m);
          if (problem) {
            this.failLayout(problem);
            return;
          }
          if (this.s.opts.passive && m.kind === 'success') this.s.table.initialPhase = false;
          if (!this.s.pending.complete(m) && m.kind === 'error' && m.errno !== DarwinErrno.EAGAIN && m.context !== 0n) {
            // An ERROR for a request nobody waits for (a silent-success request that failed).
            this.s.emit('kernelError', m);
          }
          break;
        }
        case 'sysinfoCounts':
          // Not about a source (srcref 0): its own event (model/sysinfo.ts), privileged only (§5.8).
          this.s.emit('sysinfo', { time: now, keyvals: m.keyvals });
          break;
        case 'srcRemoved':
          if (m.flags & HeaderFlag.CLOSED_AFTER_DROP) this.loss.countDrop('closed-after-drop');
          if (!this.s.calibrating) this.s.table.apply(m, now, events);
          break;
        case 'srcUpdate':
        case 'srcDesc':
        case 'srcCounts':
          // Poll replies: with our context (direct), or context 0 without CLOSING/event (aggregated).
          if (m.context === this.sweeps.pollContext || (m.context === 0n && !(m.flags & HeaderFlag.CLOSING) && m.eventFlags === 0n)) this.sweeps.pollReplies++;
          if (!this.s.calibrating) this.s.table.apply(m, now, events);
          break;
        default:
          if (!this.s.calibrating) this.s.table.apply(m, now, events);
      }
    }
    this.fanout.emitEvents(events);
  }

  private onInvalidMessage(e: NtstatError): void {
    this.loss.countDrop('malformed');
    this.s.emit('error', e);
  }

  /** The kernel's replies do not fit the assumed header: refuse (ERR_NTSTAT_LAYOUT). */
  private failLayout(problem: string): void {
    const err = new NtstatError('ERR_NTSTAT_LAYOUT', `ERR_NTSTAT_LAYOUT: ${problem}; refusing to decode this kernel (${this.s.dialect!.kernel ?? `xnu-${this.s.dialect!.xnu}`})`);
    this.s.layoutFailure ??= err;
    this.s.pending.failAll(err); // waiters see an ERROR; subscribe() then throws layoutFailure
    if (this.s.state === 'running') {
      this.s.emit('error', err);
      this.s.shutdown();
    }
  }
}
