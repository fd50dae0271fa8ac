/**
 * A minimal protobuf writer: varints, fixed32/64, doubles, UTF-8 strings, hex IDs as bytes, and
 * length-delimited messages. Lengths are written canonically (shortest varint), like the SDK's writer:
 * one byte is reserved and the body moved when the length needs more, so the output is byte-equal to
 * `@opentelemetry/otlp-transformer`'s for the same fields in the same order.
 */

const HEX: Int8Array = (() => {
  const t = new Int8Array(128).fill(-1);
  for (let i = 0; i < 10; i++) t[48 + i] = i;
  for (let i = 0; i < 6; i++) {
    t[65 + i] = 10 + i;
    t[97 + i] = 10 + i;
  }
  return t;
})();

export function varintSize(v: number): number {
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  return 5;
}

export class ProtoWriter {
  buf: Buffer;
  pos = 0;

  constructor(size = 1 << 20) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** Drops what was written, keeps the buffer. */
  reset(): void {
    this.pos = 0;
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** A copy of what was written (small pre-encoded pieces; the writer's buffer may be reused). */
  bytes(): Uint8Array {
    return new Uint8Array(this.buf.subarray(0, this.pos));
  }

  /** What was written, without a copy: the writer must not be used again. */
  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  /** Unsigned 32-bit varint (tags, lengths, counts, enums). */
  uint32(v: number): void {
    this.ensure(5);
    const b = this.buf;
    let x = v >>> 0;
    while (x > 0x7f) {
      b[this.pos++] = (x & 0x7f) | 0x80;
      x >>>= 7;
    }
    b[this.pos++] = x;
  }

  tag(field: number, wireType: number): void {
    this.uint32((field << 3) | wireType);
  }

  /** A 64-bit integer as varint (two's complement for negatives: 10 bytes), as protobuf int64. */
  int64(v: number): void {
    if (v >= 0 && v <= 0xffffffff) {
      this.uint32(v);
      return;
    }
    let low: number;
    let high: number;
    const abs = Math.abs(v);
    low = abs >>> 0;
    high = Math.floor(abs / 0x100000000) >>> 0;
    if (v < 0) {
      low = ~low >>> 0;
      high = ~high >>> 0;
      low = (low + 1) >>> 0;
      if (low === 0) high = (high + 1) >>> 0;
    }
    this.ensure(10);
    const b = this.buf;
    while (high > 0 || low > 0x7f) {
      b[this.pos++] = (low & 0x7f) | 0x80;
      low = ((low >>> 7) | (high << 25)) >>> 0;
      high >>>= 7;
    }
    b[this.pos++] = low & 0x7f;
  }

  fixed32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(v >>> 0, this.pos);
    this.pos += 4;
  }

  fixed64(low: number, high: number): void {
    this.ensure(8);
    this.buf.writeUInt32LE(low >>> 0, this.pos);
    this.buf.writeUInt32LE(high >>> 0, this.pos + 4);
    this.pos += 8;
  }

  double(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }

  /** Length-prefixed UTF-8 (lone surrogates become U+FFFD, as TextEncoder does). */
  string(s: string): void {
    const n = s.length;
    if (n < 0x80) {
      // short ASCII (IDs, names, most values): one pass, the length is one byte
      this.ensure(n + 1);
      const b = this.buf;
      let p = this.pos + 1;
      for (let i = 0; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c > 0x7f) {
          p = -1;
          break;
        }
        b[p++] = c;
      }
      if (p >= 0) {
        b[this.pos] = n;
        this.pos = p;
        return;
      }
    }
    const len = Buffer.byteLength(s, 'utf8');
    this.uint32(len);
    this.ensure(len);
    this.pos += this.buf.write(s, this.pos, len, 'utf8');
  }

  /** Length-prefixed bytes of a hex string (trace and span IDs). */
  hexBytes(hex: string): void {
    const n = hex.length >>> 1;
    this.uint32(n);
    this.ensure(n);
    const b = this.buf;
    // IDs are lowercase hex (sha256 in DuckDB or ids.ts); anything else is a bug upstream
    for (let i = 0; i < n; i++) {
      const hi = HEX[hex.charCodeAt(2 * i) & 0x7f] ?? -1;
      const lo = HEX[hex.charCodeAt(2 * i + 1) & 0x7f] ?? -1;
      if (hi < 0 || lo < 0) throw new Error(`not a hex ID: ${hex}`);
      b[this.pos++] = (hi << 4) | lo;
    }
  }

  /** Raw bytes, no length (pre-encoded fields). */
  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /**
   * Starts a length-delimited body: reserves `reserve` bytes (1–5) for its length, the size it is
   * expected to need; returns the mark for `end`.
   */
  begin(reserve = 1): number {
    this.ensure(reserve);
    const mark = this.pos;
    this.pos += reserve;
    return mark;
  }

  /** Ends the body started at `mark`: writes its length, moving the body if it needs more or fewer bytes. */
  end(mark: number, reserve = 1): void {
    const start = mark + reserve;
    const len = this.pos - start;
    const size = varintSize(len);
    if (size !== reserve) {
      this.ensure(size - reserve);
      this.buf.copyWithin(mark + size, start, this.pos);
      this.pos += size - reserve;
    }
    const b = this.buf;
    let p = mark;
    let x = len;
    while (x > 0x7f) {
      b[p++] = (x & 0x7f) | 0x80;
      x >>>= 7;
    }
    b[p] = x;
  }
}
