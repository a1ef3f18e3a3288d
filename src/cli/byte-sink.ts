/**
 * A growable byte buffer that text is encoded into directly: the log view writes each event's
 * bytes here (digits, cached UTF-8 of a stream's summary) instead of building strings that are
 * joined, flattened and encoded again per batch, which was most of a replay's formatting cost and
 * much of its garbage (issue 17). `take()` hands the bytes out and starts a fresh buffer, so a
 * stream that holds a written chunk (stdout to a pipe) never sees it change.
 */
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class ByteSink {
  private buf: Uint8Array;
  /** Bytes written so far. */
  len = 0;

  constructor(private readonly initial = 64 * 1024) {
    this.buf = new Uint8Array(initial);
  }

  /** Make room for `n` more bytes. */
  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const b = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    b.set(this.buf.subarray(0, this.len));
    this.buf = b;
  }

  byte(b: number): void {
    this.room(1);
    this.buf[this.len++] = b;
  }

  /** Bytes (a builtin copy: fast even before the caller is optimised, as in a short replay). */
  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  /** Text known to be ASCII (constants, medium names). */
  ascii(s: string): void {
    const n = s.length;
    this.room(n);
    const buf = this.buf;
    let at = this.len;
    for (let i = 0; i < n; i++) buf[at++] = s.charCodeAt(i);
    this.len = at;
  }

  /** Any text, as UTF-8. */
  text(s: string): void {
    this.room(s.length * 3);
    this.len += encoder.encodeInto(s, this.buf.subarray(this.len)).written;
  }

  /** A number as `${n}` writes it; integers up to 2^53 digit by digit, without a string. */
  number(n: number): void {
    if (!(n >= 0 && n <= Number.MAX_SAFE_INTEGER && Number.isInteger(n))) {
      this.ascii(String(n));
      return;
    }
    let digits = 1;
    for (let p = 10; p <= n; p *= 10) digits++;
    this.room(digits);
    const buf = this.buf;
    let at = this.len + digits;
    this.len = at;
    do {
      const q = Math.floor(n / 10);
      buf[--at] = 48 + (n - q * 10);
      n = q;
    } while (n > 0);
  }

  /** The bytes written, handed over; the sink starts again with a fresh buffer. */
  take(): Uint8Array {
    const out = this.buf.subarray(0, this.len);
    this.buf = new Uint8Array(Math.max(this.initial, 64));
    this.len = 0;
    return out;
  }

  /** The bytes written, as text (the sink is left as it is). */
  toString(): string {
    return decoder.decode(this.buf.subarray(0, this.len));
  }

  clear(): void {
    this.len = 0;
  }
}
