/**
 * Sweeps (BEHAVIOUR.md §2.6, §9.5): one at a time, paced GET_UPDATE(ALL) with CONTINUATION and a
 * fresh context per sweep (10.11+), QUERY_SRC(ALL) + GET_SRC_DESC(ALL) before, loss-free
 * GET_SRC_DESC(ALL) sweeps when aggregated batches were lost, and reaping of sources that complete
 * sweeps no longer report (their SRC_REMOVED was lost).
 */
import { NtstatError } from '../errors.js';
import { DarwinErrno, HeaderFlag, darwinErrnoName, srcrefAll } from '../protocol/constants.js';
import type { Request } from '../protocol/messages.js';
import type { EventFanout } from './event-fanout.js';
import type { LossLedger } from './loss-ledger.js';
import type { Completion } from './pending.js';
import type { RequestChannel } from './requests.js';
import type { ClientSession } from './session.js';
import type { StreamEvent } from './source-table.js';

/** Sources per paced chunk on macOS (BEHAVIOUR.md §2.6). */
const CHUNK_SOURCES = 100;
/** Clean loss-free sweeps before trying aggregated GET_UPDATE sweeps again. */
const LOSS_FREE_SWEEPS = 20;
const MAX_CHUNK_RETRIES = 50;
const MAX_TIMEOUT_RETRIES = 1;
/** Chunks one ALL poll may take at least (1024 × 100 sources), and more for a big table. */
const MIN_CHUNK_LIMIT = 1024;
/** Consecutive empty chunks that still say CONTINUATION (13+ sends one empty final chunk). */
const MAX_EMPTY_CHUNKS = 3;

export class Sweeper {
  sweeping?: Promise<boolean>;
  /** Number of complete sweeps so far. */
  sweepsCompleted = 0;
  /** Source reports received for the running ALL poll (aggregated or with its context). */
  pollReplies = 0;
  pollContext = 0n;
  /**
   * Loss-free sweep mode (BEHAVIOUR.md §4 "Loss-free sweeps"): paced GET_SRC_DESC(ALL) +
   * QUERY_SRC(ALL) without SUPPORTS_AGGREGATE, one direct enqueue per source, so a full queue
   * ends the chunk with an explicit ENOBUFS and the same CONTINUATION resumes exactly. Entered
   * when an aggregated GET_UPDATE chunk is seen to have lost batches; left after clean sweeps.
   */
  private lossFree = false;
  private cleanSweeps = 0;
  private sweepLostBatches = false;

  constructor(
    private readonly s: ClientSession,
    private readonly channel: RequestChannel,
    private readonly loss: LossLedger,
    private readonly fanout: EventFanout,
  ) {}

  /**
   * Run one complete sweep (or join the running one). Resolves true when the sweep completed,
   * so its view of the kernel's sources is complete.
   */
  sweep(): Promise<boolean> {
    if (this.s.state !== 'running' || this.s.calibrating) return Promise.resolve(false);
    if (this.sweeping) {
      this.loss.resyncWanted = this.loss.resyncWanted || this.loss.lossDuringSweep;
      return this.sweeping;
    }
    this.sweeping = this.runSweep().then((complete) => {
      if (complete && !this.loss.lossDuringSweep) this.loss.resyncLimiter.calm();
      return complete;
    }).finally(() => {
      this.sweeping = undefined;
      if (this.loss.resyncWanted && this.s.state === 'running') {
        this.loss.resyncWanted = false;
        this.loss.resyncSoon();
      }
    });
    return this.sweeping;
  }

  private async runSweep(): Promise<boolean> {
    const d = this.s.dialect!;
    const table = this.s.table!;
    const gen = table.beginSweep();
    this.loss.lossDuringSweep = false;
    let ok: boolean;
    const aggregatedSweep = d.constants['NSTAT_MSG_TYPE_GET_UPDATE'] !== undefined && !this.lossFree;
    const flush = this.s.isMacos15() ? this.s.flushSignal : undefined;
    flush?.begin();
    try {
      if (aggregatedSweep) ok = await this.pagedPoll('getUpdate');
      else ok = (await this.pagedPoll('getSrcDesc')) && (await this.pagedPoll('querySrc'));
    } catch (e) {
      if (this.s.state === 'running') this.s.emit('error', e as Error);
      ok = false;
    }
    if (!ok || this.s.state !== 'running') return false;
    const flushFailures = flush?.end() ?? 0;
    if (flushFailures > 0) {
      // Batches were lost silently (§4): treat like lost batches — no reaping on this sweep.
      this.sweepLostBatches = true;
      this.loss.countDrop('flush-failed', flushFailures);
    }
    if (this.lossFree && !this.loss.lossDuringSweep && ++this.cleanSweeps >= LOSS_FREE_SWEEPS) {
      this.lossFree = false; // try the cheaper aggregated sweeps again
      this.cleanSweeps = 0;
    }
    if (this.loss.lossDuringSweep && this.sweepLostBatches) {
      // A chunk lost batches: its sources may be missing from this sweep; do not reap on it.
      this.sweepLostBatches = false;
      return false;
    }
    // Absence from a sweep means "gone" only if the sweep could not lose anything. Aggregated
    // batches are dropped whole and silently when the queue is full (§4), so a source missing
    // from an aggregated sweep is confirmed by a loss-free GET_SRC_DESC(ALL) sweep (direct
    // enqueues: a full queue gives an explicit ENOBUFS and the chunk resumes) before it is reaped.
    // macOS 15 aggregates every ALL poll: there, absence from three sweeps in a row is required.
    let reapGen = gen;
    let grace = 0;
    const isAggregated = aggregatedSweep || this.s.isMacos15();
    const unseen = isAggregated ? table.unseenSince(gen) : [];
    if (unseen.length > 0) {
      if (this.s.lossFreeAvailable()) {
        reapGen = table.beginSweep();
        let confirmed = false;
        try {
          confirmed = await this.pagedPoll('getSrcDesc');
        } catch (e) {
          if (this.s.state === 'running') this.s.emit('error', e as Error);
        }
        if (!confirmed || this.s.state !== 'running') return false;
        // Sources the confirmation found that the aggregated sweep did not: their batches were
        // dropped silently. Count them, and use loss-free sweeps until the storm passes.
        const lost = unseen.filter((ref) => table.seenSince(ref, reapGen)).length;
        if (lost > 0) {
          this.loss.countDrop('batch-lost', lost);
          this.lossFree = true;
        }
      } else {
        grace = 2;
      }
    }
    const events: StreamEvent[] = [];
    const vanished = table.endSweep(reapGen, this.s.clock(), events, grace);
    table.initialPhase = false;
    this.sweepsCompleted++;
    this.fanout.emitEvents(events);
    if (vanished > 0) this.loss.countDrop('vanished', vanished);
    this.s.emit('sweep', this.sweepsCompleted);
    return true;
  }

  /** One ALL poll, paged with CONTINUATION where the kernel supports it (§2.6). */
  async pagedPoll(kind: 'getUpdate' | 'querySrc' | 'getSrcDesc'): Promise<boolean> {
    const d = this.s.dialect!;
    const context = this.s.pending.allocate();
    const paced = d.hasLength; // CONTINUATION exists from 10.11
    let retries = 0;
    let timeouts = 0;
    let chunks = 0;
    let emptyChunks = 0;
    const chunkLimit = Math.max(MIN_CHUNK_LIMIT, 4 * Math.ceil(this.s.table!.size / 5));
    this.pollContext = context;
    for (;;) {
      if (this.s.state !== 'running') return false;
      const req: Request = { kind, context, flags: paced ? HeaderFlag.CONTINUATION : 0, srcref: srcrefAll(d) };
      this.pollReplies = 0;
      let done: Completion;
      try {
        done = await this.channel.requestWith(context, req);
      } catch (e) {
        // The answer was lost (a full queue drops even critical messages eventually, and 10.8/10.9
        // have no critical class): retry the chunk a couple of times, then leave it to the next sweep.
        if (e instanceof NtstatError && e.code === 'ERR_NTSTAT_TIMEOUT') {
          if (++timeouts > MAX_TIMEOUT_RETRIES) return false;
          await this.drain();
          continue;
        }
        if (e instanceof NtstatError && e.errno === DarwinErrno.ENOBUFS) {
          if (++retries > MAX_CHUNK_RETRIES) return false;
          await this.drain();
          continue;
        }
        throw e;
      }
      if (done.kind === 'success') {
        if (paced && done.flags & HeaderFlag.CONTINUATION) {
          // Bound the sequence: a kernel (or peer) that always says "more" must not hold the
          // sweep forever. Real sweeps need about sources/100 chunks (at least 5 per chunk on 15).
          if (++chunks > chunkLimit) {
            throw new NtstatError('ERR_NTSTAT_KERNEL', `${kind}(ALL) still said CONTINUATION after ${chunks} chunks; sweep abandoned`);
          }
          if (this.pollReplies === 0 && ++emptyChunks > MAX_EMPTY_CHUNKS) {
            throw new NtstatError('ERR_NTSTAT_KERNEL', `${kind}(ALL) returned ${emptyChunks} empty chunks that each said CONTINUATION; sweep abandoned`);
          }
          if (this.pollReplies > 0) emptyChunks = 0;
          // A chunk that says "more" reported a full chunk of sources (§2.6). On macOS 15 a chunk
          // may end after 5 (lock yield), so fewer than 5 means aggregated batches were dropped
          // whole (§4). On 10.11–14 a short chunk is no proof: sources skipped for hard errors
          // (EINVAL/EIO/EOPNOTSUPP) are counted in the chunk; lost batches there are found by the
          // loss-free confirmation sweep before any reap (runSweep), so nothing is counted here.
          if (this.s.isMacos15() && this.pollReplies < this.minFullChunk()) {
            this.sweepLostBatches = true;
            this.loss.countDrop('batch-lost');
            if (kind === 'getUpdate' && this.s.lossFreeAvailable()) this.lossFree = true;
          }
          retries = 0;
          continue;
        }
        return true;
      }
      // ERROR for our context.
      if (done.errno === DarwinErrno.ENOBUFS || done.errno === DarwinErrno.ENOMEM) {
        // The failed source was not stamped: re-sending the same CONTINUATION request resumes (§4).
        this.loss.countDrop('enobufs');
        if (!paced || ++retries > MAX_CHUNK_RETRIES) return false;
        await this.drain();
        continue;
      }
      if (done.errno === DarwinErrno.EAGAIN) return false; // our sequence was cancelled (§2.6)
      throw new NtstatError('ERR_NTSTAT_KERNEL', `${kind}(ALL) failed: ${darwinErrnoName(done.errno)}`, { errno: done.errno });
    }
  }

  /**
   * Sources a macOS 15 chunk with CONTINUATION must have reported: it may stop early, after at
   * least 5, when the kernel's lock would yield (§2.6, xnu-11215+). Earlier kernels fill 100.
   */
  private minFullChunk(): number {
    return this.s.isMacos15() ? 5 : CHUNK_SOURCES;
  }

  /** Let queued records be read before retrying (the reader runs on the event loop). */
  private drain(): Promise<void> {
    return new Promise((r) => setTimeout(r, 5));
  }
}
