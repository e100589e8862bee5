/**
 * Compressed input pulled as the decompressors ask for it: `fill(n)` awaits chunks until
 * n bytes are buffered (or the input ends), `take(n)` hands them out as one array (a view when
 * they lie in one chunk), `skip(n)` drops bytes without keeping them. Only what a unit (a
 * header, a zstd block, a piece for zlib) needs is held.
 */
export class Pull {
  private readonly chunks: Uint8Array[] = [];
  /** Bytes buffered. */
  length = 0;
  /** Bytes taken or skipped so far: the offset in the compressed input. */
  position = 0;
  private ended = false;

  /** `own` copies a chunk that its producer will reuse (a borrowed one). */
  constructor(
    private readonly it: AsyncIterator<Uint8Array> | null,
    first: Uint8Array,
    private readonly own: (c: Uint8Array) => Uint8Array,
  ) {
    if (first.length > 0) this.chunks.push(first), (this.length = first.length);
    if (it === null) this.ended = true;
  }

  /** Buffer at least n bytes if the input still has them; returns the bytes buffered. */
  async fill(n: number): Promise<number> {
    while (this.length < n && !this.ended) {
      const r = await this.it!.next();
      if (r.done) this.ended = true;
      else if (r.value.length > 0) {
        this.chunks.push(this.own(r.value));
        this.length += r.value.length;
      }
    }
    return this.length;
  }

  /** Byte i of what is buffered (i < length). */
  at(i: number): number {
    for (const c of this.chunks) {
      if (i < c.length) return c[i];
      i -= c.length;
    }
    throw new RangeError('Pull.at past the buffered bytes');
  }

  /** Little-endian 32-bit word at i of what is buffered. */
  u32(i: number): number {
    return (this.at(i) | (this.at(i + 1) << 8) | (this.at(i + 2) << 16) | (this.at(i + 3) << 24)) >>> 0;
  }

  /** The next n buffered bytes (n <= length), as one array. */
  take(n: number): Uint8Array {
    const c = this.chunks[0];
    if (c.length >= n) return this.advance(n);
    const out = new Uint8Array(n);
    for (let o = 0; o < n; ) {
      const piece = this.advance(Math.min(n - o, this.chunks[0].length));
      out.set(piece, o);
      o += piece.length;
    }
    return out;
  }

  /** Up to max of the buffered bytes, from the first chunk only (never a copy). */
  takeSome(max: number): Uint8Array {
    return this.advance(Math.min(max, this.chunks[0].length));
  }

  /** Give back the unused end of what was taken last. */
  unshift(b: Uint8Array): void {
    if (b.length === 0) return;
    this.chunks.unshift(b);
    this.length += b.length;
    this.position -= b.length;
  }

  /** Drop n bytes; false when the input ends first. */
  async skip(n: number): Promise<boolean> {
    while (n > 0) {
      if ((await this.fill(1)) === 0) return false;
      n -= this.takeSome(n).length;
    }
    return true;
  }

  private advance(n: number): Uint8Array {
    const c = this.chunks[0];
    const out = c.subarray(0, n);
    if (n === c.length) this.chunks.shift();
    else this.chunks[0] = c.subarray(n);
    this.length -= n;
    this.position += n;
    return out;
  }
}
