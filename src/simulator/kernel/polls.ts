/**
 * The three polls (BEHAVIOUR.md §2.6): QUERY_SRC → SRC_COUNTS, GET_SRC_DESC → SRC_DESC,
 * GET_UPDATE → SRC_UPDATE, for one srcref or ALL, in the three shapes the kernel had:
 *  - before 10.11 (`nstat_control_handle_query_request` of xnu-2782): no flags, no pacing,
 *    every source attempted, SUCCESS always;
 *  - 10.11/10.12 (xnu-3248/3789): pacing checked *before* each source, `end_query` given the next
 *    unprocessed source (no empty final chunk);
 *  - 10.13+ (xnu-4570 … 11417): the loop breaks *after* the 100th reported source and `end_query`
 *    gets that source, so a chunk ending on the last source still says CONTINUATION.
 */
import { HeaderFlag } from '../../protocol/index.js';
import type { Connection } from './connection.js';
import { EAGAIN, ENOBUFS, ENOENT, ENOMEM } from './providers.js';
import type { Source } from './sources.js';

/** QUERY_CONTINUATION_SRC_COUNT on macOS (50 on embedded OSes). */
export const QUERY_CONTINUATION_SRC_COUNT = 100;

export type PollKind = 'querySrc' | 'getSrcDesc' | 'getUpdate';

export interface PollRequest {
  kind: PollKind;
  context: bigint;
  flags: number;
  srcref: bigint;
  all: boolean;
}

const isNoBuf = (e: number) => e === ENOBUFS || e === ENOMEM;

/** `nstat_control_begin_query`: start/continue a paced sequence; EAGAIN to an abandoned context. */
function beginQuery(c: Connection, req: PollRequest): boolean {
  if ((req.flags & HeaderFlag.CONTINUATION) !== 0) {
    if (c.queryContext !== req.context) {
      if (c.queryContext !== 0n) c.sendError(c.queryContext, EAGAIN);
      c.queryContext = req.context;
      c.querySeq++;
    }
    return true;
  }
  // 10.11 only: a plain poll interrupting a paced one also tells the old context EAGAIN.
  if (c.profile.eagainOnPlainPollInterrupt && c.queryContext !== 0n && c.queryContext !== req.context) {
    c.sendError(c.queryContext, EAGAIN);
  }
  return false;
}

/** `nstat_control_end_query`: CONTINUATION while a paced walk stopped early. */
function endQuery(c: Connection, lastSrc: Source | undefined, partial: boolean): number {
  if (!lastSrc || !partial) {
    c.queryContext = 0n;
    return 0;
  }
  return HeaderFlag.CONTINUATION;
}

function finish(c: Connection, req: PollRequest, result: number, last: Source | undefined, partial: boolean, dead: Source[]): number {
  c.flushAccumulated();
  const flags = req.all ? endQuery(c, last, partial) : 0;
  if (req.all && !isNoBuf(result)) {
    c.sendSuccess(req.context, flags);
    result = 0;
  }
  // Reaped sources: SRC_REMOVED (flags 0) after the SUCCESS (`nstat_control_cleanup_source`).
  for (const s of dead) c.cleanupSource(s, true);
  return result;
}

function aggregated(c: Connection, req: PollRequest): boolean {
  if (!req.all) return false;
  if (req.kind === 'getUpdate') return true;
  return c.profile.b15 || (req.flags & HeaderFlag.SUPPORTS_AGGREGATE) !== 0;
}

export function handlePoll(c: Connection, req: PollRequest): number {
  if (req.kind === 'getUpdate') c.updateMode = true; // GET_UPDATE sets update mode permanently
  if (req.kind === 'querySrc' && req.all) c.reqcounts = true;
  if (!c.profile.hasLength) return legacyPoll(c, req);
  return c.profile.endQueryOnLastProcessed ? poll13(c, req) : poll11(c, req);
}

// ---------------------------------------------------------------------------- 10.13+

function poll13(c: Connection, req: PollRequest): number {
  let result = ENOENT;
  const partial = beginQuery(c, req);
  const agg = aggregated(c, req);
  const dead: Source[] = [];
  let count = 0;
  let last: Source | undefined;
  const boringPoll = c.bits.suppressBoringPoll;
  for (let src = c.sources.head; src; ) {
    const next = src.next;
    const match = req.all || src.srcref === req.srcref;
    let gone = false;
    if (match) {
      if (req.kind === 'getUpdate') {
        const notYet = !partial || !req.all || src.seq !== c.querySeq;
        const suppression = req.all && src.reported ? boringPoll : 0n;
        if (notYet && c.reportingAllowed(src, suppression)) {
          const r = req.all ? c.appendUpdate(src) : c.sendUpdate(src, req.context, 0n, 0);
          result = r.errno;
          gone = r.gone;
          if (req.all && isNoBuf(result)) {
            last = src;
            break;
          }
          if (partial && req.all) {
            src.seq = c.querySeq;
            count++;
          }
        }
      } else if (c.reportingAllowed(src, 0n) && (!partial || !req.all || src.seq !== c.querySeq)) {
        if (req.kind === 'querySrc') {
          const r = agg ? c.appendCounts(src) : c.sendCounts(src, req.context, 0);
          result = r.errno;
          gone = r.gone;
          if (isNoBuf(result)) {
            c.reqcounts = false; // a failed QUERY_SRC(ALL) lets the idle check reap (§4)
            last = src;
            break;
          }
        } else {
          result = agg ? c.appendDescription(src) : c.sendDescription(src, req.context, 0);
          if (isNoBuf(result)) {
            last = src;
            break;
          }
        }
        if (partial) {
          src.seq = c.querySeq;
          count++;
        }
      }
      if (gone) {
        if (req.kind === 'querySrc') {
          // One last descriptor so the client sees the final state; failure stops the walk.
          result = c.sendDescription(src, 0n, 0);
          if (result !== 0) {
            c.reqcounts = false;
            last = src;
            break;
          }
        }
        c.unlink(src);
        dead.push(src);
      }
      if (!req.all) {
        last = src;
        break;
      }
    }
    if (req.all && count >= QUERY_CONTINUATION_SRC_COUNT) {
      last = src;
      break;
    }
    // macOS 15: the chunk may also end after >= 5 sources when the lock would yield (lock-yield.ts).
    if (req.all && partial && count > 0 && c.kernel.lockYield?.yieldsAfter(count)) {
      last = src;
      break;
    }
    src = next;
  }
  return finish(c, req, result, last, partial, dead);
}

// ---------------------------------------------------------------------------- 10.11 / 10.12

function poll11(c: Connection, req: PollRequest): number {
  let result = ENOENT;
  const partial = beginQuery(c, req);
  const agg = aggregated(c, req);
  const dead: Source[] = [];
  let count = 0;
  // `*srcpp`: the next unprocessed source (or the one a failure stopped on).
  let cursor: Source | undefined = c.sources.head;
  while (cursor && (!partial || count < QUERY_CONTINUATION_SRC_COUNT)) {
    const src: Source = cursor;
    const match = req.all || src.srcref === req.srcref;
    let gone = false;
    let stop = false;
    if (req.kind === 'getUpdate') {
      if (c.reportingAllowed(src, 0n)) {
        if (req.all && (!partial || src.seq !== c.querySeq)) {
          const r = c.appendUpdate(src);
          result = r.errno;
          gone = r.gone;
          if (isNoBuf(result)) break;
          if (partial) {
            src.seq = c.querySeq;
            count++;
          }
        } else if (!req.all && match) {
          const r = c.sendUpdate(src, req.context, 0n, 0);
          result = r.errno;
          gone = r.gone;
        }
      }
    } else if (match && c.reportingAllowed(src, 0n) && (!partial || !req.all || src.seq !== c.querySeq)) {
      if (req.kind === 'querySrc') {
        const r = agg ? c.appendCounts(src) : c.sendCounts(src, req.context, 0);
        result = r.errno;
        gone = r.gone;
        if (isNoBuf(result)) {
          c.reqcounts = false;
          break;
        }
      } else {
        result = agg ? c.appendDescription(src) : c.sendDescription(src, req.context, 0);
        if (isNoBuf(result)) break;
      }
      if (partial) {
        src.seq = c.querySeq;
        count++;
      }
    }
    if (gone && req.kind === 'querySrc') {
      result = c.sendDescription(src, 0n, 0);
      if (result !== 0) {
        c.reqcounts = false;
        break;
      }
    }
    if (gone) {
      cursor = src.next;
      c.unlink(src);
      dead.push(src);
    } else cursor = src.next;
    if (!req.all && match) stop = true;
    if (stop) break;
  }
  return finish(c, req, result, cursor, partial, dead);
}

// ---------------------------------------------------------------------------- before 10.11

function legacyPoll(c: Connection, req: PollRequest): number {
  let result = req.kind === 'getSrcDesc' ? 0 : ENOENT;
  let found = false;
  const dead: Source[] = [];
  for (let src = c.sources.head; src; ) {
    const next = src.next;
    if (req.all || src.srcref === req.srcref) {
      found = true;
      if (req.kind === 'querySrc') {
        const r = c.sendCounts(src, req.context, 0);
        result = r.errno;
        if (result !== 0) c.reqcounts = false;
        if (r.gone) {
          result = c.sendDescription(src, 0n, 0);
          if (result !== 0) {
            c.reqcounts = false;
            break;
          }
          c.unlink(src);
          dead.push(src);
        }
      } else {
        result = c.sendDescription(src, req.context, 0);
      }
      if (!req.all) break;
    }
    src = next;
  }
  if (req.all) {
    c.sendSuccess(req.context, 0);
    result = 0;
  } else if (!found) result = ENOENT;
  for (const s of dead) c.cleanupSource(s, true);
  return result;
}
