/**
 * Variable-length state of a connection (Wireshark's unacked segments, SACK blocks,
 * Zeek's reassembly ranges, the transitions of a connection) as records in one pool:
 * fixed-size records in typed-array columns (conn/columns.ts), reused through a free
 * list, chained into lists by `next`. A connection keeps the head of its list (a record
 * index, -1 for none) in one of its own columns: no array per connection.
 */
import { ColumnSet, type ColumnSpec } from './columns.js';

export const NONE = -1;

export class Pool<S extends ColumnSpec> extends ColumnSet<S> {
  /** The record after each one in its list, or NONE. */
  next: Int32Array;
  private free = NONE;
  private top = 0;
  private used = 0;

  constructor(spec: S, capacity = 1024) {
    super(spec, capacity);
    this.next = new Int32Array(this.capacity);
  }

  /** Records in use. */
  get size(): number {
    return this.used;
  }

  /** A record, its fields 0 and its `next` NONE. */
  alloc(): number {
    const r = this.take();
    this.clear(r);
    return r;
  }

  /**
   * A record whose fields are whatever its last user left, its `next` NONE: for a caller that sets
   * every field at once (a list of records a packet appends to), which then pays no clearing.
   */
  take(): number {
    let r = this.free;
    if (r !== NONE) this.free = this.next[r];
    else {
      r = this.top++;
      if (r >= this.capacity) {
        this.ensure(r + 1);
        const grown = new Int32Array(this.capacity);
        grown.set(this.next);
        this.next = grown;
      }
    }
    this.next[r] = NONE;
    this.used++;
    return r;
  }

  /** Give one record back. */
  release(r: number): void {
    this.next[r] = this.free;
    this.free = r;
    this.used--;
  }

  /** Give back a whole list from its head; returns NONE (the head to store). */
  releaseList(head: number): number {
    while (head !== NONE) {
      const n = this.next[head];
      this.release(head);
      head = n;
    }
    return NONE;
  }
}
