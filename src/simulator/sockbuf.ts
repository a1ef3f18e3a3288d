/**
 * The kernel-control socket's receive buffer (`so_rcv`) as seen by ntstat (BEHAVIOUR.md §1, §4):
 * records (one per enqueue, all EOR), byte and mbuf-storage accounting, the 25 % reserve for
 * non-critical data, critical growth and trimming. Models `ctl_rcvbspace`, `ctl_enqueuedata` /
 * `ctl_enqueuembuf`, `sbspace`, `sbreserve` and `ctl_sbrcv_trim` (bsd/kern/kern_control.c).
 */

/** Darwin errno numbers used here (BEHAVIOUR.md §0). */
const ENOBUFS = 55;

/** MSIZE: one mbuf. */
export const MSIZE = 256;
/** MCLBYTES / MBIGCLBYTES: cluster sizes picked by `m_allocpacket_internal`. */
export const MCLBYTES = 2048;
export const MBIGCLBYTES = 4096;
/**
 * Data that fits in a packet-header mbuf without a cluster. The exact value depends on
 * `struct pkthdr` of each version ("order of 100–200 B", §4); 104 makes headers, SRC_ADDED,
 * SRC_REMOVED and ERROR fit and everything carrying counts or a descriptor take a cluster.
 */
export const DEFAULT_MHLEN = 104;
/** `kern.ipc.maxsockbuf` (sb_max) default: 8 MiB. */
export const SB_MAX = 8 * 1024 * 1024;
/** `net.systm.kctl.autorcvbufmax` default: 256 KiB. */
export const CTL_AUTORCVBUF_MAX = 256 * 1024;
/** sb_efficiency: mbmax = min(hiwat × 8, sb_max). */
const SB_EFFICIENCY = 8;

export interface SockbufOptions {
  /** Receive space at registration (`nstat_recvspace`): 8192 in every version 11 → B15. */
  recvspace?: number;
  /** CTL_FLAG_REG_CRIT (10.10+). Without it there is no reserve and no critical growth. */
  criticalClass?: boolean;
  /** Count mbuf storage against `sb_mbmax` (§10.1 "optional mbuf accounting"). Default true. */
  mbufAccounting?: boolean;
  mhlen?: number;
  sbMax?: number;
  autorcvbufMax?: number;
}

export interface Record {
  data: Uint8Array;
  /** mbuf storage charged for this record. */
  storage: number;
}

export interface ReadResult {
  /** The bytes copied out (at most the reader's buffer size). */
  data: Uint8Array;
  /** Length of the whole record (MSG_TRUNC when larger than `data`). */
  length: number;
  truncated: boolean;
}

export class ReceiveBuffer {
  hiwat: number;
  /** `sb_idealsize`: the size trimming returns to (set by registration and SO_RCVBUF). */
  idealSize: number;
  mbmax: number;
  /** `sb_cc`: data bytes queued. */
  cc = 0;
  /** `sb_mbcnt`: storage bytes charged. */
  mbcnt = 0;
  /** @internal */
  private readonly records: Record[] = [];
  /** @internal */
  private head = 0;
  /** @internal */
  private readonly crit: boolean;
  /** @internal */
  private readonly mbufAccounting: boolean;
  /** @internal */
  private readonly mhlen: number;
  /** @internal */
  private readonly sbMax: number;
  /** @internal */
  private readonly autorcvbufMax: number;

  constructor(opts: SockbufOptions = {}) {
    this.crit = opts.criticalClass ?? true;
    this.mbufAccounting = opts.mbufAccounting ?? true;
    this.mhlen = opts.mhlen ?? DEFAULT_MHLEN;
    this.sbMax = opts.sbMax ?? SB_MAX;
    this.autorcvbufMax = opts.autorcvbufMax ?? CTL_AUTORCVBUF_MAX;
    const space = opts.recvspace ?? 8192;
    this.hiwat = space;
    this.idealSize = space;
    this.mbmax = Math.min(space * SB_EFFICIENCY, this.sbMax);
  }

  /** `sbspace`: min(hiwat − cc, mbmax − mbcnt), never negative. */
  space(): number {
    const byBytes = this.hiwat - this.cc;
    const byStorage = this.mbufAccounting ? this.mbmax - this.mbcnt : byBytes;
    return Math.max(0, Math.min(byBytes, byStorage));
  }

  /** Storage of one record: one mbuf, plus a cluster when the data does not fit inside it. */
  storageFor(len: number, batch: boolean): number {
    if (batch) return MSIZE + MBIGCLBYTES; // the accumulation mbuf is NSTAT_MAX_MSG_SIZE (4 KB)
    if (len <= this.mhlen) return MSIZE;
    if (len <= MCLBYTES) return MSIZE + MCLBYTES;
    if (len <= MBIGCLBYTES) return MSIZE + MBIGCLBYTES;
    return MSIZE + 16384;
  }

  /** `sbreserve`: fails (false) above sb_max × MCLBYTES / (MSIZE + MCLBYTES). */
  reserve(cc: number): boolean {
    if (cc > Math.floor((this.sbMax * MCLBYTES) / (MSIZE + MCLBYTES)) || cc <= 0) return false;
    this.hiwat = cc;
    this.mbmax = Math.min(cc * SB_EFFICIENCY, this.sbMax);
    return true;
  }

  /** setsockopt(SO_RCVBUF): sbreserve + sb_idealsize (not trimmed back). Returns errno or 0. */
  setRcvBuf(bytes: number): number {
    if (!this.reserve(Math.floor(bytes))) return ENOBUFS;
    this.idealSize = this.hiwat;
    return 0;
  }

  /** @internal */
  /** `ctl_rcvbspace`: 0 when a message of `len` may be queued, ENOBUFS otherwise (may grow). */
  private admit(len: number, critical: boolean): number {
    const space = this.space();
    if (!this.crit) return space >= len ? 0 : ENOBUFS;
    if (!critical) {
      // Reserve 25 % of hiwat for critical messages.
      return space < this.hiwat >> 2 || space < len ? ENOBUFS : 0;
    }
    const max = Math.min(this.idealSize + (this.idealSize >> 2), this.autorcvbufMax);
    if (space >= len) return 0;
    if (this.hiwat < max) {
      // Grow with a little leeway (MSIZE), up to 1.25 × ideal or autorcvbufmax.
      const grow = len - space + MSIZE;
      if (this.reserve(Math.min(this.hiwat + grow, max))) return this.space() >= len ? 0 : ENOBUFS;
    }
    return ENOBUFS;
  }

  /**
   * Enqueue one record. Returns 0 or ENOBUFS (nothing queued). `batch` marks an aggregated
   * poll batch (4 KB cluster storage).
   */
  enqueue(data: Uint8Array, critical: boolean, batch = false): number {
    const err = this.admit(data.length, critical);
    if (err !== 0) return err;
    const storage = this.storageFor(data.length, batch);
    // sbappend charges storage even past mbmax; the space check above is what limits it.
    this.records.push({ data, storage });
    this.cc += data.length;
    this.mbcnt += storage;
    return 0;
  }

  get recordCount(): number {
    return this.records.length - this.head;
  }

  peekLength(): number | undefined {
    return this.head < this.records.length ? this.records[this.head].data.length : undefined;
  }

  /**
   * recv(2) of one record into a buffer of `bufSize` bytes: a smaller buffer truncates and
   * discards the rest of the record (MSG_TRUNC, no SO_DONTTRUNC). Then `ctl_sbrcv_trim`.
   */
  read(bufSize = 65536): ReadResult | undefined {
    if (this.head >= this.records.length) return undefined;
    const rec = this.records[this.head];
    this.records[this.head] = undefined as unknown as Record;
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.records.length) {
      this.records.splice(0, this.head);
      this.head = 0;
    }
    this.cc -= rec.data.length;
    this.mbcnt -= rec.storage;
    this.trim();
    const truncated = rec.data.length > bufSize;
    return { data: truncated ? rec.data.subarray(0, bufSize) : rec.data, length: rec.data.length, truncated };
  }

  // --- In-flight records (fd server): handed to a real socket but still charged here until the
  // reader has consumed them, so this queue stays the authority on what the kernel would drop.
  /** @internal */
  private sent = 0;

  /** The oldest record not yet handed out (or the `offset`-th after it), without dequeuing it. */
  peekUnsent(offset = 0): Uint8Array | undefined {
    const i = this.head + this.sent + offset;
    return i < this.records.length ? this.records[i].data : undefined;
  }

  /** The record returned by peekUnsent() is now in flight. */
  markSent(): void {
    if (this.head + this.sent < this.records.length) this.sent++;
  }

  get inFlight(): number {
    return this.sent;
  }

  /** The reader consumed every in-flight record: dequeue them (and trim, as after a read). */
  releaseSent(): void {
    while (this.sent > 0) {
      this.sent--;
      this.read(Number.MAX_SAFE_INTEGER);
    }
  }

  /** @internal */
  /** `ctl_sbrcv_trim`: shrink a grown buffer back toward the ideal size, not below queued data. */
  private trim(): void {
    if (this.hiwat > this.idealSize) {
      const diff = this.hiwat - this.idealSize;
      const trim = Math.min(this.hiwat - this.cc, diff);
      if (trim > 0) this.reserve(this.hiwat - trim);
    }
  }

  clear(): void {
    this.sent = 0;
    this.records.length = 0;
    this.head = 0;
    this.cc = 0;
    this.mbcnt = 0;
  }
}
