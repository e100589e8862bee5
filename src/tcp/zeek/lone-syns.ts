/**
 * Zeek's connections that are so far one SYN from their originator (a SYN flood's spoofed
 * sources, a scan, a host that never answers), in a compact form: the few numbers Zeek keeps
 * of them, without a session slot, endpoints, history or queued timers (session.ts).
 *
 * Such a connection has history "S", its originator in SYN_SENT and its responder INACTIVE;
 * its timers are the expire timer and the attempt timer, both due `tcp_attempt_delay` after
 * its SYN (they are set at the same delay; the store is used only then), and its inactivity
 * timer, due much later. Nothing else changes while only retransmissions of its SYN come. Its
 * timers are not queued: the store is a first-in first-out ring in the order the SYNs came,
 * which is the order their timers come due (network time never goes back), and each record
 * keeps the order its first timer took (ZeekTimerHeap.reserve), so that the tracker fires
 * them in their turn among the queued timers (conn.ts). When the attempt timer fires the
 * connection is logged from the record (S0); when any other packet comes the connection
 * takes a slot with the state the SYN made (TcpSessions.promote) and goes on from there.
 *
 * A row names its record in the column of its Zeek slot (conn/slots.ts `mark`). Records of
 * connections that left the store early (promoted, evicted) stay in the ring, their row -1,
 * until they reach its head.
 */
import { ColumnSet } from '../../conn/columns.js';
import { NO_SLOT } from '../../conn/slots.js';

const LONE_SYN_COLUMNS = {
  /** The connection-table row, or -1 once the connection left the store. */
  row: Int32Array,
  serial: Uint32Array,
  /** The row's end that sent the SYN: the originator. */
  origEnd: Uint8Array,
  /** The SYN's time and frame; the latest retransmission's as offsets from them. */
  startTime: Float64Array,
  firstFrame: Float64Array,
  lastTimeAfter: Uint32Array,
  lastFrameAfter: Uint32Array,
  /** The order of its expire timer; its inactivity timer's is the next, its attempt timer's the one after. */
  order: Float64Array,
  /** The SYN's sequence number (the originator's start). */
  seq: Uint32Array,
  /** ConnSize: the SYNs and their IP bytes. */
  packets: Uint32Array,
  ipBytes: Uint32Array,
};

const FIRST_CAPACITY = 1024;

export class LoneSyns {
  private set = new ColumnSet(LONE_SYN_COLUMNS, FIRST_CAPACITY);
  /** The oldest record's place, and how many places from there are in use (ended ones included). */
  private head = 0;
  private length = 0;
  private mask = FIRST_CAPACITY - 1;

  /** `marks`: the rows' Zeek slots (conn/slots.ts), whose column names a row's record. */
  constructor(private readonly marks: { mark(row: number, record: number): void }) {}

  /** The fields, by record (re-read after `add`: the ring grows). */
  get c() {
    return this.set.c;
  }

  /** Places in use, ended records not yet dropped included. */
  get size(): number {
    return this.length;
  }

  /** A new record at the tail, its row marked; its fields other than `row` are the caller's to set. */
  add(row: number): number {
    if (this.length > this.mask) this.grow();
    const r = (this.head + this.length++) & this.mask;
    this.set.c.row[r] = row;
    this.marks.mark(row, r);
    return r;
  }

  /** The record leaves the store (its row's mark is the caller's: a slot or nothing replaces it). */
  drop(r: number): void {
    this.set.c.row[r] = -1;
  }

  /** Places the ring has room for. */
  get capacity(): number {
    return this.mask + 1;
  }

  /**
   * The oldest record still in the store (ended ones at the head are dropped), or NO_SLOT. When a
   * flood has drained, the ring is made smaller (its records move: read `c` after the call).
   */
  first(): number {
    const row = this.set.c.row;
    while (this.length > 0 && row[this.head] < 0) {
      this.head = (this.head + 1) & this.mask;
      this.length--;
    }
    if (this.mask + 1 >= 4 * FIRST_CAPACITY && this.length < (this.mask + 1) >> 3) this.shrink();
    return this.length > 0 ? this.head : NO_SLOT;
  }

  /** The records still in the store, oldest first. */
  forEach(fn: (r: number) => void): void {
    const row = this.set.c.row;
    for (let k = 0; k < this.length; k++) {
      const r = (this.head + k) & this.mask;
      if (row[r] >= 0) fn(r);
    }
  }

  /** A quarter of the room, the places in use moved to the front in order, their rows' marks with them. */
  private shrink(): void {
    const into = new ColumnSet(LONE_SYN_COLUMNS, (this.mask + 1) >> 2);
    const row = this.set.c.row;
    for (let k = 0; k < this.length; k++) {
      const r = (this.head + k) & this.mask;
      this.set.copyRow(into, k, r);
      if (row[r] >= 0) this.marks.mark(row[r], k);
    }
    this.set = into;
    this.head = 0;
    this.mask = into.capacity - 1;
  }

  /** Twice the room; the places that had wrapped round to the front move behind the old end, their rows' marks with them. */
  private grow(): void {
    const cap = this.mask + 1;
    this.set.ensure(2 * cap);
    const wrapped = this.head + this.length - cap;
    const c = this.set.c;
    for (let r = 0; r < wrapped; r++) {
      this.set.copyRow(this.set, cap + r, r);
      if (c.row[r] >= 0) this.marks.mark(c.row[r], cap + r);
    }
    this.mask = 2 * cap - 1;
  }
}
