/**
 * The parts of Zeek's TCP_Reassembler that decide history letters and when a
 * close is reported: which sequence ranges were seen (no bytes are kept),
 * what was delivered in order, content gaps revealed by ACKs (G/g) and the
 * "data pending" test that defers a close. Sequence numbers are relative
 * (the first data octet is 1).
 *
 * An endpoint's numbers are columns of endpoint.ts (endpoint (slot, end) is record
 * 2 * slot + end, slot the connection's slot in session.ts); its seen ranges are
 * records of one pool, a sorted list chained from the endpoint's `blocks` column.
 */
import { NONE, Pool } from '../../conn/pool.js';
import { type Endpoints, EndpointState, endpointSize, noDataAcked, toFullSeqSpace } from './endpoint.js';

export interface ReassemblerHost {
  /** The connection started without a handshake from both sides. */
  isPartial(slot: number): boolean;
  /** A content gap in the data of endpoint (slot, end). */
  contentGap(slot: number, end: number, seq: number, len: number): void;
  /** Everything endpoint (slot, end) sent up to its FIN/RST was delivered. */
  endpointEof(slot: number, end: number): void;
}

export interface ReassemblerLimits {
  tcpMaxInitialWindow: number;
  tcpMaxAboveHoleWithoutAnyAcks: number;
  tcpExcessiveDataWithoutFurtherAcks: number;
}

export class Reassembler {
  /** Seen, not yet acknowledged ranges [seq, upper), every endpoint's. */
  private readonly ranges = new Pool({ seq: Float64Array, upper: Float64Array }, 256);
  /**
   * An endpoint's reassembly numbers, in a record made when it first sends data or is
   * acknowledged beyond its start (`streamOf`): an endpoint that never is (a SYN of a flood)
   * has none, and reads as a new one (the endpoint's `stream` column: NONE).
   */
  private readonly streams = new Pool(
    {
      /** Next relative sequence number to deliver in order; everything below trimSeq was acknowledged and dropped. */
      lastReassemSeq: Float64Array,
      trimSeq: Float64Array,
      /** Seen, not yet acknowledged ranges (a list in `ranges`; NONE for none), and their bytes. */
      blocks: Int32Array,
      bufferedBytes: Float64Array,
      /** Reassembly gave up (too much data above a hole, or unacknowledged). */
      skipDeliveries: Uint8Array,
      didEof: Uint8Array,
    },
    64,
  );

  constructor(
    private readonly ends: Endpoints,
    private readonly host: ReassemblerHost,
    private readonly limits: ReassemblerLimits,
  ) {}

  /** Ranges held, all endpoints together. */
  get rangesHeld(): number {
    return this.ranges.size;
  }

  /** Endpoints with a reassembly record. */
  get streamsHeld(): number {
    return this.streams.size;
  }

  /** The next relative sequence number endpoint (slot, end) would deliver in order. */
  lastReassemSeq(slot: number, end: number): number {
    const q = this.ends.c.stream[2 * slot + end];
    return q === NONE ? 1 : this.streams.c.lastReassemSeq[q];
  }

  /** Endpoint i's reassembly record, made now (numbers as a new endpoint's, no ranges) if it has none. */
  private streamOf(i: number): number {
    const e = this.ends.c;
    let q = e.stream[i];
    if (q === NONE) {
      q = e.stream[i] = this.streams.alloc();
      const S = this.streams.c;
      S.lastReassemSeq[q] = S.trimSeq[q] = 1;
      S.blocks[q] = NONE;
    }
    return q;
  }

  hasBlocks(slot: number, end: number): boolean {
    const q = this.ends.c.stream[2 * slot + end];
    return q !== NONE && this.streams.c.blocks[q] !== NONE;
  }

  /** Give back the endpoint's record and ranges (its connection is gone). */
  release(slot: number, end: number): void {
    const e = this.ends.c;
    const i = 2 * slot + end;
    const q = e.stream[i];
    if (q === NONE) return;
    this.ranges.releaseList(this.streams.c.blocks[q]);
    this.streams.release(q);
    e.stream[i] = NONE;
  }

  /** Data (len > 0) from endpoint (slot, end) at relative `seq` (TCP_Reassembler::DataSent). */
  dataSent(slot: number, end: number, seq: number, len: number): void {
    const e = this.ends.c;
    const i = 2 * slot + end;
    const q = this.streamOf(i);
    const S = this.streams.c;
    if (S.skipDeliveries[q]) return;
    this.newBlock(slot, end, seq, len);
    const L = this.limits;
    if (noDataAcked(this.ends, i) && L.tcpMaxAboveHoleWithoutAnyAcks && this.undeliveredBytes(slot, end) > L.tcpMaxAboveHoleWithoutAnyAcks) {
      this.giveUp(slot, end); // above_hole_data_without_any_acks
    }
    if (L.tcpExcessiveDataWithoutFurtherAcks && S.bufferedBytes[q] > L.tcpExcessiveDataWithoutFurtherAcks) {
      this.giveUp(slot, end); // excessive_data_without_further_acks
    }
  }

  /** The peer acknowledged endpoint (slot, end)'s data up to relative `seq` (TCP_Reassembler::AckReceived). */
  ackReceived(slot: number, end: number, seq: number): void {
    const e = this.ends.c;
    const i = 2 * slot + end;
    if (this.ends.finCount(i) > 0) {
      const finSeq = this.ends.rare.c.finSeq[e.rare[i]]; // set with the FIN
      if (seq >= finSeq) seq = finSeq - 1;
    }
    const q = e.stream[i];
    if (seq <= (q === NONE ? 1 : this.streams.c.trimSeq[q])) return; // (1: a new endpoint's trimSeq)
    this.streamOf(i);
    this.trimToSeq(slot, end, seq);
    this.checkEof(slot, end);
  }

  /** Reports EOF once everything up to the FIN/RST is delivered. */
  checkEof(slot: number, end: number): void {
    const e = this.ends.c;
    const i = 2 * slot + end;
    const q = e.stream[i];
    if (q !== NONE && this.streams.c.didEof[q]) return;
    const s = e.state[i];
    if (this.ends.finCount(i) > 0 || s === EndpointState.CLOSED || s === EndpointState.RESET) {
      if (!this.dataPending(slot, end)) {
        const made = this.streamOf(i); // before reading the pool's columns: it may grow
        this.streams.c.didEof[made] = 1;
        this.host.endpointEof(slot, end);
      }
    }
  }

  /** Undelivered data, or the peer's data still waiting for an ACK (TCP_Reassembler::DataPending). */
  dataPending(slot: number, end: number): boolean {
    const e = this.ends.c;
    const i = 2 * slot + end;
    const q = e.stream[i];
    const S = this.streams.c;
    if (q !== NONE && S.skipDeliveries[q]) return false;
    const delivered = e.startSeq[i] + (q === NONE ? 1 : S.lastReassemSeq[q]);
    const last = toFullSeqSpace(e.lastSeq[i], this.ends.seqWraps(i));
    if (last < delivered) return false;
    if (delivered !== last - 1 && delivered !== last) return true;
    return e.state[i] !== EndpointState.RESET && this.hasBlocks(slot, 1 - end);
  }

  private undeliveredBytes(slot: number, end: number): number {
    const e = this.ends.c;
    const i = 2 * slot + end;
    const S = this.streams.c;
    const q = e.stream[i];
    let b = S.blocks[q];
    if (b === NONE) return 0;
    for (let n = this.ranges.next[b]; n !== NONE; n = this.ranges.next[n]) b = n;
    return this.ranges.c.upper[b] - S.lastReassemSeq[q];
  }

  private giveUp(slot: number, end: number): void {
    const e = this.ends.c;
    const i = 2 * slot + end;
    const S = this.streams.c;
    const q = e.stream[i];
    S.blocks[q] = this.ranges.releaseList(S.blocks[q]);
    S.bufferedBytes[q] = 0;
    S.skipDeliveries[q] = 1;
  }

  private newBlock(slot: number, end: number, seq: number, len: number): void {
    if (len === 0) return;
    const upper = seq + len;
    const trimSeq = this.streams.c.trimSeq[this.ends.c.stream[2 * slot + end]];
    if (upper <= trimSeq) return; // old data
    if (seq < trimSeq) seq = trimSeq;
    this.insertUncovered(slot, end, seq, upper);
    this.deliverInOrder(slot, end);
  }

  /** Adds the parts of [seq, upper) no block covers yet (what Zeek's DataBlockList::Insert keeps). */
  private insertUncovered(slot: number, end: number, seq: number, upper: number): void {
    const R = this.ranges;
    // The first block whose upper end is above `seq` (blocks are sorted and disjoint), and the one before it.
    let prev = NONE;
    let cur = this.streams.c.blocks[this.ends.c.stream[2 * slot + end]];
    while (cur !== NONE && R.c.upper[cur] <= seq) {
      prev = cur;
      cur = R.next[cur];
    }
    let cursor = seq;
    while (cursor < upper) {
      if (cur === NONE || R.c.seq[cur] >= upper) {
        this.insertAfter(slot, end, prev, cursor, upper);
        return;
      }
      if (R.c.seq[cur] > cursor) prev = this.insertAfter(slot, end, prev, cursor, R.c.seq[cur]);
      cursor = Math.max(cursor, R.c.upper[cur]);
      prev = cur;
      cur = R.next[cur];
    }
  }

  /** A new block [seq, upper) after `prev` (NONE: first); returns it. */
  private insertAfter(slot: number, end: number, prev: number, seq: number, upper: number): number {
    const R = this.ranges;
    const r = R.take();
    R.c.seq[r] = seq;
    R.c.upper[r] = upper;
    const e = this.ends.c;
    const i = 2 * slot + end;
    const S = this.streams.c;
    const q = e.stream[i];
    if (prev === NONE) {
      R.next[r] = S.blocks[q];
      S.blocks[q] = r;
    } else {
      R.next[r] = R.next[prev];
      R.next[prev] = r;
    }
    S.bufferedBytes[q] += upper - seq;
    return r;
  }

  /** Delivers the blocks that continue the in-order stream (BlockInserted). */
  private deliverInOrder(slot: number, end: number): void {
    const R = this.ranges;
    const e = this.ends.c;
    const i = 2 * slot + end;
    const S = this.streams.c;
    const q = e.stream[i];
    let delivered = false;
    for (let b = S.blocks[q]; b !== NONE; b = R.next[b]) {
      if (R.c.seq[b] > S.lastReassemSeq[q]) break;
      if (R.c.seq[b] === S.lastReassemSeq[q]) {
        S.lastReassemSeq[q] = R.c.upper[b];
        delivered = true;
      }
    }
    if (!delivered) return;
    // Nothing of ours was ever acknowledged although we sent a lot: the peer's
    // ACKs are probably not visible, so do not hold on to the delivered data.
    const max = this.limits.tcpMaxInitialWindow;
    if (noDataAcked(this.ends, i) && max && endpointSize(this.ends, i, this.ends.c.state[i ^ 1]) > max) {
      this.trimToSeq(slot, end, S.lastReassemSeq[q]);
    }
  }

  /** Drops what is acknowledged; data acknowledged but never seen is a gap (DataBlockList::Trim). */
  private trimToSeq(slot: number, end: number, seq: number): void {
    const R = this.ranges;
    const e = this.ends.c;
    const i = 2 * slot + end;
    const S = this.streams.c;
    const q = e.stream[i];
    if (seq > S.lastReassemSeq[q]) this.undelivered(slot, end, seq);
    let head = S.blocks[q];
    while (head !== NONE && R.c.upper[head] <= seq) {
      S.bufferedBytes[q] -= R.c.upper[head] - R.c.seq[head];
      const next = R.next[head];
      R.release(head);
      head = next;
    }
    S.blocks[q] = head;
    if (head !== NONE && R.c.seq[head] === S.lastReassemSeq[q]) this.deliverInOrder(slot, end);
    S.trimSeq[q] = seq;
  }

  /** TCP_Reassembler::Undelivered: everything below `upTo` that was not seen is a gap. */
  private undelivered(slot: number, end: number, upTo: number): void {
    // A partial connection's synthetic start makes the first 1-2 octets look missing.
    if (upTo <= 2 && this.host.isPartial(slot)) return;
    const R = this.ranges;
    const e = this.ends.c;
    const i = 2 * slot + end;
    const S = this.streams.c;
    const q = e.stream[i];
    if (!S.skipDeliveries[q]) {
      for (;;) {
        let b = S.blocks[q];
        while (b !== NONE && R.c.seq[b] < S.lastReassemSeq[q]) b = R.next[b];
        if (b === NONE || R.c.seq[b] >= upTo) break;
        const gapLen = R.c.seq[b] - S.lastReassemSeq[q];
        this.host.contentGap(slot, end, S.lastReassemSeq[q], gapLen);
        S.lastReassemSeq[q] += gapLen;
        this.deliverInOrder(slot, end);
      }
      if (upTo > S.lastReassemSeq[q]) this.host.contentGap(slot, end, S.lastReassemSeq[q], upTo - S.lastReassemSeq[q]);
    }
    if (upTo > S.lastReassemSeq[q]) S.lastReassemSeq[q] = upTo;
  }
}
