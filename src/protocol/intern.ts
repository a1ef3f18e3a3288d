/**
 * Small caches for values built from bytes that repeat across messages: UUIDs (one per process),
 * IPv4/IPv6 addresses, process names. A hit is verified against the bytes, so the cache
 * can never return a wrong value; each is a table of slots in sets (the address and UUID caches:
 * sets of 4, the name cache: pairs). A value is looked for in every slot of its set; a new value
 * takes the first and the others move down one, the oldest going. Before, a pair was shared by
 * two home slots, and a new value moved its slot's value over the other home's: two values in a
 * pair could evict each other on every lookup (22 % of 1 000 consecutive IPv4 addresses missed
 * on every pass); in pairs of its own, 500 addresses in 4 096 slots still missed 4.7 % (a pair
 * with 3 values looked up in turn misses all 3), in sets of 4 none. So
 * memory is bounded and a lookup is a few array loads: no Map, whose number keys above 2^30 are
 * boxed and hashed slowly.
 *
 * A table starts at 4 096 slots and doubles (up to 65 536) while more than 1 lookup in 16 misses:
 * a poll of 10 000 sources carries thousands of distinct remote addresses, which thrash 4 096
 * slots (issue 17: 60 % of IPv6 lookups missed at 10 k sources); each poll looks every
 * address up again, so a table that holds one poll's addresses hits on every later poll.
 * Observationally pure: a module-level cache only memoises a pure function (verified hits,
 * bounded size), so decoding the same bytes always yields the same values.
 */
const MIN_BITS = 12;
const MAX_BITS = 16;

/**
 * Slot for a 32-bit key among 2^bits: a full 32-bit mixer (Wellons' lowbias32) first. Plain
 * multiplicative hashing kept a third of 1 000 consecutive IPv4 addresses missing: a product
 * keeps only the low bits' influence on its high bits, and addresses of one network differ in
 * their last bytes, the high bits of a little-endian word.
 */
function slotOf(key: number, shift: number): number {
  let x = key ^ (key >>> 16);
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  return (x ^ (x >>> 16)) >>> shift;
}

/** One key for 4 words: each folded and multiplied in, so every byte reaches every bit. */
function key16(w0: number, w1: number, w2: number, w3: number): number {
  let k = Math.imul(w0 ^ (w0 >>> 16), 0x85ebca6b) ^ w1;
  k = Math.imul(k ^ (k >>> 16), 0x85ebca6b) ^ w2;
  k = Math.imul(k ^ (k >>> 16), 0x85ebca6b) ^ w3;
  return k;
}

/**
 * Lookup and miss counts of a table, and when to double it: after slots/2 misses, if more than 1
 * lookup in 16 since the last check missed (a working set larger than the table, not the odd
 * collision of a set that fits).
 */
abstract class Sized {
  constructor(private readonly maxBits = MAX_BITS) {}

  protected bits = MIN_BITS;
  protected shift = 32 - MIN_BITS;
  protected lookups = 0;
  private misses = 0;

  /** Log2 of the current number of slots (tests). */
  get sizeBits(): number {
    return this.bits;
  }

  /** Count a miss; true when the table has just been resized (and emptied). */
  protected missed(): boolean {
    if (++this.misses < 1 << (this.bits - 1)) return false;
    const grow = this.misses * 16 > this.lookups && this.bits < this.maxBits;
    this.misses = 0;
    this.lookups = 0;
    if (!grow) return false;
    this.bits++;
    this.shift = 32 - this.bits;
    this.allocate();
    return true;
  }

  protected abstract allocate(): void;
}

/** Cache for 16-byte values (UUIDs, IPv6 addresses) keyed by their words. */
export class Bytes16Cache extends Sized {
  private words!: Int32Array;
  private texts!: (string | undefined)[];

  constructor(private readonly format: (b: Uint8Array, off: number) => string) {
    super();
    this.allocate();
  }

  protected allocate(): void {
    this.words = new Int32Array(4 << this.bits);
    this.texts = new Array<string | undefined>(1 << this.bits).fill(undefined);
  }

  get(b: Uint8Array, dv: DataView, off: number): string {
    return this.getWords(dv.getInt32(off, true), dv.getInt32(off + 4, true), dv.getInt32(off + 8, true), dv.getInt32(off + 12, true), b, off);
  }

  /** get() for a caller that has read the 16 bytes at `off` as little-endian words already. */
  getWords(w0: number, w1: number, w2: number, w3: number, b: Uint8Array, off: number): string {
    this.lookups++;
    const i = slotOf(key16(w0, w1, w2, w3), this.shift) & ~3; // a set of 4 slots
    const w = this.words;
    const t = this.texts;
    for (let j = i; j < i + 4; j++) {
      const k = j << 2;
      if (w[k] === w0 && w[k + 1] === w1 && w[k + 2] === w2 && w[k + 3] === w3 && t[j] !== undefined) return t[j]!;
    }
    const fresh = this.format(b, off);
    if (this.missed()) return fresh;
    // The newest value first; the others move down one, the oldest goes.
    w.copyWithin((i + 1) << 2, i << 2, (i + 3) << 2);
    t[i + 3] = t[i + 2];
    t[i + 2] = t[i + 1];
    t[i + 1] = t[i];
    const k = i << 2;
    w[k] = w0;
    w[k + 1] = w1;
    w[k + 2] = w2;
    w[k + 3] = w3;
    t[i] = fresh;
    return fresh;
  }
}

/**
 * Cache for 4-byte values (IPv4 addresses) keyed by their word. Word and text side by side in
 * one array (a set of 4 slots is 8 elements, about one cache line): the set of a source's address
 * is cold by the time the source comes round again, and two arrays cost two misses.
 */
export class Bytes4Cache extends Sized {
  private slots!: (number | string | undefined)[];

  constructor(private readonly format: (b: Uint8Array, off: number) => string) {
    super();
    this.allocate();
  }

  protected allocate(): void {
    // [word, text] per slot; text undefined when empty. Words are int32 (small integers here).
    const slots = new Array<number | string | undefined>(2 << this.bits);
    for (let i = 0; i < slots.length; i += 2) {
      slots[i] = 0;
      slots[i + 1] = undefined;
    }
    this.slots = slots;
  }

  get(b: Uint8Array, dv: DataView, off: number): string {
    this.lookups++;
    const w = dv.getInt32(off, true);
    const e = this.slots;
    const k = (slotOf(w, this.shift) & ~3) << 1; // a set of 4 slots: 8 elements
    if (e[k] === w && e[k + 1] !== undefined) return e[k + 1] as string;
    if (e[k + 2] === w && e[k + 3] !== undefined) return e[k + 3] as string;
    if (e[k + 4] === w && e[k + 5] !== undefined) return e[k + 5] as string;
    if (e[k + 6] === w && e[k + 7] !== undefined) return e[k + 7] as string;
    const fresh = this.format(b, off);
    if (this.missed()) return fresh;
    // The newest value first; the others move down one, the oldest goes.
    e.copyWithin(k + 2, k, k + 6);
    e[k] = w;
    e[k + 1] = fresh;
    return fresh;
  }
}

/**
 * Cache for ASCII strings of at most 64 bytes (16 words: char[64], the process name field) (process names, congestion control
 * names), keyed by a hash of their little-endian 32-bit words and verified word by word: the
 * caller has the words already (it read them to find the NUL), so a hit compares len/4 integers
 * instead of len characters.
 */
export class WordStringCache extends Sized {
  private words!: Int32Array;
  private lens!: Int32Array;
  private texts!: (string | undefined)[];

  constructor() {
    super(MIN_BITS); // a few hundred distinct names: never grown (16 words a slot)
    this.allocate();
  }

  protected allocate(): void {
    this.words = new Int32Array(16 << this.bits);
    this.lens = new Int32Array(1 << this.bits);
    this.texts = new Array<string | undefined>(1 << this.bits).fill(undefined);
  }

  private same(i: number, scratch: Int32Array, len: number): boolean {
    if (this.texts[i] === undefined || this.lens[i] !== len) return false;
    const w = this.words;
    const k = i << 4;
    for (let j = 0, n = (len + 3) >> 2; j < n; j++) if (w[k + j] !== scratch[j]) return false;
    return true;
  }

  /**
   * The string of `len` (1..64) ASCII bytes at `off`, whose words (the last one
   * zero past the end) are in `scratch` and hash to `hash`.
   */
  get(scratch: Int32Array, len: number, hash: number, b: Uint8Array, off: number): string {
    const i = slotOf(hash, this.shift) & ~1;
    if (this.same(i, scratch, len)) return this.texts[i]!;
    const j = i + 1;
    if (this.same(j, scratch, len)) return this.texts[j]!;
    const text = String.fromCharCode.apply(null, b.subarray(off, off + len) as unknown as number[]);
    const w = this.words;
    const k = i << 4;
    const k2 = j << 4;
    for (let x = 0; x < 16; x++) w[k2 + x] = w[k + x];
    this.lens[j] = this.lens[i];
    this.texts[j] = this.texts[i];
    for (let x = 0, n = (len + 3) >> 2; x < n; x++) w[k + x] = scratch[x];
    this.lens[i] = len;
    this.texts[i] = text;
    return text;
  }
}

/**
 * Cache for 64-bit srcrefs as BigInts keyed by their two 32-bit halves: a source's srcref repeats
 * in every update, and a BigInt is an immutable primitive, so handing out the same one is
 * indistinguishable from making a new one (but allocates nothing and skips getBigUint64).
 */
export class SrcrefCache extends Sized {
  private lo!: Int32Array;
  private hi!: Int32Array;
  private values!: (bigint | undefined)[];

  constructor() {
    super();
    this.allocate();
  }

  protected allocate(): void {
    this.lo = new Int32Array(1 << this.bits);
    this.hi = new Int32Array(1 << this.bits);
    this.values = new Array<bigint | undefined>(1 << this.bits).fill(undefined);
  }

  get(lo: number, hi: number): bigint {
    this.lookups++;
    const i = slotOf(lo ^ Math.imul(hi, 0x85ebca6b), this.shift);
    const v = this.values[i];
    if (v !== undefined && this.lo[i] === (lo | 0) && this.hi[i] === (hi | 0)) return v;
    const fresh = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
    if (this.missed()) return fresh;
    this.lo[i] = lo;
    this.hi[i] = hi;
    this.values[i] = fresh;
    return fresh;
  }
}
