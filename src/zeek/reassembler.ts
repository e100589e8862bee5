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
import { NONE, Pool } from '../conn/pool.js';
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

  constructor(
    private readonly ends: Endpoints,
    private readonly host: ReassemblerHost,
    private readonly limits: ReassemblerLimits,
  ) {}

  /** Ranges held, all endpoints together. */
  get rangesHeld(): number {
    return this.ranges.size;
  }

  hasBlocks(slot: number, end: number): boolean {
    return this.ends.c.blocks[2 * slot + end] !== NONE;
  }

  /** Give back the endpoint's ranges (its connection is gone). */
  release(slot: number, end: number): void {
    const e = this.ends.c;
    const i = 2 * slot + end;
    e.blocks[i] = this.ranges.releaseList(e.blocks[i]);
  }

  /** Data from endpoint (slot, end) at relative `seq` (TCP_Reassembler::DataSent). */
  dataSent(slot: number, end: number, seq: number, len: number): void {
    const e = this.ends.c;
    const i = 2 * slot + end;
    if (e.skipDeliveries[i]) return;
    this.newBlock(slot, end, seq, len);
    const L = this.limits;
    if (noDataAcked(e, i) && L.tcpMaxAboveHoleWithoutAnyAcks && this.undeliveredBytes(slot, end) > L.tcpMaxAboveHoleWithoutAnyAcks) {
      this.giveUp(slot, end); // above_hole_data_without_any_acks
    }
    if (L.tcpExcessiveDataWithoutFurtherAcks && e.bufferedBytes[i] > L.tcpExcessiveDataWithoutFurtherAcks) {
      this.giveUp(slot, end); // excessive_data_without_further_acks
    }
  }

  /** The peer acknowledged endpoint (slot, end)'s data up to relative `seq` (TCP_Reassembler::AckReceived). */
  ackReceived(slot: number, end: number, seq: number): void {
    const e = this.ends.c;
    const i = 2 * slot + end;
    if (e.finCount[i] > 0) {
      const finSeq = this.ends.rare.c.finSeq[e.rare[i]]; // set with the FIN
      if (seq >= finSeq) seq = finSeq - 1;
    }
    if (seq <= e.trimSeq[i]) return;
    this.trimToSeq(slot, end, seq);
    this.checkEof(slot, end);
  }

  /** Reports EOF once everything up to the FIN/RST is delivered. */
  checkEof(slot: number, end: number): void {
    const e = this.ends.c;
    const i = 2 * slot + end;
    if (e.didEof[i]) return;
    const s = e.state[i];
    if (e.finCount[i] > 0 || s === EndpointState.CLOSED || s === EndpointState.RESET) {
      if (!this.dataPending(slot, end)) {
        e.didEof[i] = 1;
        this.host.endpointEof(slot, end);
      }
    }
  }

  /** Undelivered data, or the peer's data still waiting for an ACK (TCP_Reassembler::DataPending). */
  dataPending(slot: number, end: number): boolean {
    const e = this.ends.c;
    const i = 2 * slot + end;
    if (e.skipDeliveries[i]) return false;
    const delivered = e.startSeq[i] + e.lastReassemSeq[i];
    const last = toFullSeqSpace(e.lastSeq[i], e.seqWraps[i]);
    if (last < delivered) return false;
    if (delivered !== last - 1 && delivered !== last) return true;
    return e.state[i] !== EndpointState.RESET && this.hasBlocks(slot, 1 - end);
  }

  private undeliveredBytes(slot: number, end: number): number {
    const e = this.ends.c;
    const i = 2 * slot + end;
    let b = e.blocks[i];
    if (b === NONE) return 0;
    for (let n = this.ranges.next[b]; n !== NONE; n = this.ranges.next[n]) b = n;
    return this.ranges.c.upper[b] - e.lastReassemSeq[i];
  }

  private giveUp(slot: number, end: number): void {
    const e = this.ends.c;
    const i = 2 * slot + end;
    e.blocks[i] = this.ranges.releaseList(e.blocks[i]);
    e.bufferedBytes[i] = 0;
    e.skipDeliveries[i] = 1;
  }

  private newBlock(slot: number, end: number, seq: number, len: number): void {
    if (len === 0) return;
    const upper = seq + len;
    const trimSeq = this.ends.c.trimSeq[2 * slot + end];
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
    let cur = this.ends.c.blocks[2 * slot + end];
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
    const r = R.alloc();
    R.c.seq[r] = seq;
    R.c.upper[r] = upper;
    const e = this.ends.c;
    const i = 2 * slot + end;
    if (prev === NONE) {
      R.next[r] = e.blocks[i];
      e.blocks[i] = r;
    } else {
      R.next[r] = R.next[prev];
      R.next[prev] = r;
    }
    e.bufferedBytes[i] += upper - seq;
    return r;
  }

  /** Delivers the blocks that continue the in-order stream (BlockInserted). */
  private deliverInOrder(slot: number, end: number): void {
    const R = this.ranges;
    const e = this.ends.c;
    const i = 2 * slot + end;
    let delivered = false;
    for (let b = e.blocks[i]; b !== NONE; b = R.next[b]) {
      if (R.c.seq[b] > e.lastReassemSeq[i]) break;
      if (R.c.seq[b] === e.lastReassemSeq[i]) {
        e.lastReassemSeq[i] = R.c.upper[b];
        delivered = true;
      }
    }
    if (!delivered) return;
    // Nothing of ours was ever acknowledged although we sent a lot: the peer's
    // ACKs are probably not visible, so do not hold on to the delivered data.
    const max = this.limits.tcpMaxInitialWindow;
    if (noDataAcked(e, i) && max && endpointSize(e, i, this.ends.c.state[i ^ 1]) > max) {
      this.trimToSeq(slot, end, e.lastReassemSeq[i]);
    }
  }

  /** Drops what is acknowledged; data acknowledged but never seen is a gap (DataBlockList::Trim). */
  private trimToSeq(slot: number, end: number, seq: number): void {
    const R = this.ranges;
    const e = this.ends.c;
    const i = 2 * slot + end;
    if (seq > e.lastReassemSeq[i]) this.undelivered(slot, end, seq);
    let head = e.blocks[i];
    while (head !== NONE && R.c.upper[head] <= seq) {
      e.bufferedBytes[i] -= R.c.upper[head] - R.c.seq[head];
      const next = R.next[head];
      R.release(head);
      head = next;
    }
    e.blocks[i] = head;
    if (head !== NONE && R.c.seq[head] === e.lastReassemSeq[i]) this.deliverInOrder(slot, end);
    e.trimSeq[i] = seq;
  }

  /** TCP_Reassembler::Undelivered: everything below `upTo` that was not seen is a gap. */
  private undelivered(slot: number, end: number, upTo: number): void {
    // A partial connection's synthetic start makes the first 1-2 octets look missing.
    if (upTo <= 2 && this.host.isPartial(slot)) return;
    const R = this.ranges;
    const e = this.ends.c;
    const i = 2 * slot + end;
    if (!e.skipDeliveries[i]) {
      for (;;) {
        let b = e.blocks[i];
        while (b !== NONE && R.c.seq[b] < e.lastReassemSeq[i]) b = R.next[b];
        if (b === NONE || R.c.seq[b] >= upTo) break;
        const gapLen = R.c.seq[b] - e.lastReassemSeq[i];
        this.host.contentGap(slot, end, e.lastReassemSeq[i], gapLen);
        e.lastReassemSeq[i] += gapLen;
        this.deliverInOrder(slot, end);
      }
      if (upTo > e.lastReassemSeq[i]) this.host.contentGap(slot, end, e.lastReassemSeq[i], upTo - e.lastReassemSeq[i]);
    }
    if (upTo > e.lastReassemSeq[i]) e.lastReassemSeq[i] = upTo;
  }
}
