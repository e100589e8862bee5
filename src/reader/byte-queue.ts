/**
 * A queue of incoming chunks from which a parser takes records.
 *
 * A record that lies inside one chunk is handed out in place (the chunk and an
 * offset into it); only a record that straddles chunks is copied, and then only
 * its own bytes. `position` is the absolute stream offset of the first queued byte.
 */
const EMPTY = new Uint8Array(0);

export class ByteQueue {
  private chunks: Uint8Array[] = [];
  private first = 0; // index of the first live chunk
  private borrowed: ArrayBufferLike[] = []; // memory of chunks the caller takes back at release()
  private head = 0; // offset of the first unread byte in chunks[first]
  /** Bytes queued and not yet consumed. */
  length = 0;
  /** Absolute stream offset of the first unread byte. */
  position = 0;
  /** After a successful `contiguous(n)`: the buffer and offset holding those n bytes. */
  buf: Uint8Array = new Uint8Array(0);
  off = 0;

  /** Queue a chunk; a `borrowed` one is only read until release() (its owner will reuse it). */
  push(chunk: Uint8Array, borrowed = false): void {
    if (chunk.length === 0) return;
    if (borrowed) this.borrowed.push(chunk.buffer);
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  /** Give borrowed chunks back: what is left unread of them is copied (at most once per byte). */
  release(): void {
    if (this.borrowed.length === 0) return;
    // Chunks pushed since the last release (and the rests of them a merge left) are the queue's tail.
    for (let i = this.chunks.length - 1; i >= this.first; i--) {
      if (!this.borrowed.includes(this.chunks[i].buffer)) break;
      this.chunks[i] = new Uint8Array(this.chunks[i].subarray(i === this.first ? this.head : 0)); // a copy (Buffer's slice is a view)
      if (i === this.first) this.head = 0;
    }
    this.borrowed.length = 0;
    this.buf = EMPTY;
    this.off = 0;
  }

  /**
   * Make the next `n` bytes readable from `this.buf` at `this.off`.
   * Returns false (and changes nothing) when fewer than `n` bytes are queued.
   */
  contiguous(n: number): boolean {
    if (n > this.length) return false;
    const front = this.chunks[this.first];
    if (front !== undefined && front.length - this.head >= n) {
      this.buf = front;
      this.off = this.head;
      return true;
    }
    // Straddles chunks: copy exactly n bytes into one buffer that replaces them.
    const merged = new Uint8Array(n);
    let filled = 0;
    let i = this.first;
    let start = this.head;
    while (filled < n) {
      const c = this.chunks[i];
      const take = Math.min(c.length - start, n - filled);
      merged.set(c.subarray(start, start + take), filled);
      filled += take;
      if (start + take === c.length) {
        i++;
        start = 0;
      } else {
        start += take;
      }
    }
    // chunks[i] (if any) is partly used from `start`; keep its rest behind the merged bytes.
    const rest: Uint8Array[] = [merged];
    if (i < this.chunks.length && start > 0) {
      rest.push(this.chunks[i].subarray(start));
      i++;
    }
    this.chunks = rest.concat(this.chunks.slice(i));
    this.first = 0;
    this.head = 0;
    this.buf = merged;
    this.off = 0;
    return true;
  }

  /** Drop the next `n` bytes (n <= length). */
  consume(n: number): void {
    this.length -= n;
    this.position += n;
    while (n > 0) {
      const c = this.chunks[this.first];
      const avail = c.length - this.head;
      if (n < avail) {
        this.head += n;
        return;
      }
      n -= avail;
      this.first++;
      this.head = 0;
    }
    if (this.first > 64 || this.first === this.chunks.length) {
      this.chunks = this.chunks.slice(this.first);
      this.first = 0;
    }
  }
}
