/**
 * The parts of Zeek's TCP_Reassembler that decide history letters and when a
 * close is reported: which sequence ranges were seen (no bytes are kept),
 * what was delivered in order, content gaps revealed by ACKs (G/g) and the
 * "data pending" test that defers a close. Sequence numbers are relative
 * (the first data octet is 1).
 *
 * An endpoint's numbers are columns of endpoint.ts; its seen ranges are records
 * of one pool, a sorted list chained from the endpoint's `blocks` column.
 */
import { NONE, Pool } from '../conn/pool.js';
import { type Endpoints, EndpointState, endpointSize, noDataAcked, toFullSeqSpace } from './endpoint.js';

export interface ReassemblerHost {
  /** The connection started without a handshake from both sides. */
  isPartial(row: number): boolean;
  /** A content gap in the data of endpoint (row, end). */
  contentGap(row: number, end: number, seq: number, len: number): void;
  /** Everything endpoint (row, end) sent up to its FIN/RST was delivered. */
  endpointEof(row: number, end: number): void;
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

  hasBlocks(row: number, end: number): boolean {
    return this.ends.at[end].c.blocks[row] !== NONE;
  }

  /** Give back the endpoint's ranges (its connection is gone). */
  release(row: number, end: number): void {
    const e = this.ends.at[end].c;
    e.blocks[row] = this.ranges.releaseList(e.blocks[row]);
  }

  /** Data from endpoint (row, end) at relative `seq` (TCP_Reassembler::DataSent). */
  dataSent(row: number, end: number, seq: number, len: number): void {
    const e = this.ends.at[end].c;
    if (e.skipDeliveries[row]) return;
    this.newBlock(row, end, seq, len);
    const L = this.limits;
    if (noDataAcked(e, row) && L.tcpMaxAboveHoleWithoutAnyAcks && this.undeliveredBytes(row, end) > L.tcpMaxAboveHoleWithoutAnyAcks) {
      this.giveUp(row, end); // above_hole_data_without_any_acks
    }
    if (L.tcpExcessiveDataWithoutFurtherAcks && e.bufferedBytes[row] > L.tcpExcessiveDataWithoutFurtherAcks) {
      this.giveUp(row, end); // excessive_data_without_further_acks
    }
  }

  /** The peer acknowledged endpoint (row, end)'s data up to relative `seq` (TCP_Reassembler::AckReceived). */
  ackReceived(row: number, end: number, seq: number): void {
    const e = this.ends.at[end].c;
    if (e.finCount[row] > 0 && seq >= e.finSeq[row]) seq = e.finSeq[row] - 1;
    if (seq <= e.trimSeq[row]) return;
    this.trimToSeq(row, end, seq);
    this.checkEof(row, end);
  }

  /** Reports EOF once everything up to the FIN/RST is delivered. */
  checkEof(row: number, end: number): void {
    const e = this.ends.at[end].c;
    if (e.didEof[row]) return;
    const s = e.state[row];
    if (e.finCount[row] > 0 || s === EndpointState.CLOSED || s === EndpointState.RESET) {
      if (!this.dataPending(row, end)) {
        e.didEof[row] = 1;
        this.host.endpointEof(row, end);
      }
    }
  }

  /** Undelivered data, or the peer's data still waiting for an ACK (TCP_Reassembler::DataPending). */
  dataPending(row: number, end: number): boolean {
    const e = this.ends.at[end].c;
    if (e.skipDeliveries[row]) return false;
    const delivered = e.startSeq[row] + e.lastReassemSeq[row];
    const last = toFullSeqSpace(e.lastSeq[row], e.seqWraps[row]);
    if (last < delivered) return false;
    if (delivered !== last - 1 && delivered !== last) return true;
    return e.state[row] !== EndpointState.RESET && this.hasBlocks(row, 1 - end);
  }

  private undeliveredBytes(row: number, end: number): number {
    const e = this.ends.at[end].c;
    let b = e.blocks[row];
    if (b === NONE) return 0;
    for (let n = this.ranges.next[b]; n !== NONE; n = this.ranges.next[n]) b = n;
    return this.ranges.c.upper[b] - e.lastReassemSeq[row];
  }

  private giveUp(row: number, end: number): void {
    const e = this.ends.at[end].c;
    e.blocks[row] = this.ranges.releaseList(e.blocks[row]);
    e.bufferedBytes[row] = 0;
    e.skipDeliveries[row] = 1;
  }

  private newBlock(row: number, end: number, seq: number, len: number): void {
    if (len === 0) return;
    const upper = seq + len;
    const trimSeq = this.ends.at[end].c.trimSeq[row];
    if (upper <= trimSeq) return; // old data
    if (seq < trimSeq) seq = trimSeq;
    this.insertUncovered(row, end, seq, upper);
    this.deliverInOrder(row, end);
  }

  /** Adds the parts of [seq, upper) no block covers yet (what Zeek's DataBlockList::Insert keeps). */
  private insertUncovered(row: number, end: number, seq: number, upper: number): void {
    const R = this.ranges;
    // The first block whose upper end is above `seq` (blocks are sorted and disjoint), and the one before it.
    let prev = NONE;
    let cur = this.ends.at[end].c.blocks[row];
    while (cur !== NONE && R.c.upper[cur] <= seq) {
      prev = cur;
      cur = R.next[cur];
    }
    let cursor = seq;
    while (cursor < upper) {
      if (cur === NONE || R.c.seq[cur] >= upper) {
        this.insertAfter(row, end, prev, cursor, upper);
        return;
      }
      if (R.c.seq[cur] > cursor) prev = this.insertAfter(row, end, prev, cursor, R.c.seq[cur]);
      cursor = Math.max(cursor, R.c.upper[cur]);
      prev = cur;
      cur = R.next[cur];
    }
  }

  /** A new block [seq, upper) after `prev` (NONE: first); returns it. */
  private insertAfter(row: number, end: number, prev: number, seq: number, upper: number): number {
    const R = this.ranges;
    const r = R.alloc();
    R.c.seq[r] = seq;
    R.c.upper[r] = upper;
    const e = this.ends.at[end].c;
    if (prev === NONE) {
      R.next[r] = e.blocks[row];
      e.blocks[row] = r;
    } else {
      R.next[r] = R.next[prev];
      R.next[prev] = r;
    }
    e.bufferedBytes[row] += upper - seq;
    return r;
  }

  /** Delivers the blocks that continue the in-order stream (BlockInserted). */
  private deliverInOrder(row: number, end: number): void {
    const R = this.ranges;
    const e = this.ends.at[end].c;
    let delivered = false;
    for (let b = e.blocks[row]; b !== NONE; b = R.next[b]) {
      if (R.c.seq[b] > e.lastReassemSeq[row]) break;
      if (R.c.seq[b] === e.lastReassemSeq[row]) {
        e.lastReassemSeq[row] = R.c.upper[b];
        delivered = true;
      }
    }
    if (!delivered) return;
    // Nothing of ours was ever acknowledged although we sent a lot: the peer's
    // ACKs are probably not visible, so do not hold on to the delivered data.
    const max = this.limits.tcpMaxInitialWindow;
    if (noDataAcked(e, row) && max && endpointSize(e, row, this.ends.at[1 - end].c.state[row]) > max) {
      this.trimToSeq(row, end, e.lastReassemSeq[row]);
    }
  }

  /** Drops what is acknowledged; data acknowledged but never seen is a gap (DataBlockList::Trim). */
  private trimToSeq(row: number, end: number, seq: number): void {
    const R = this.ranges;
    const e = this.ends.at[end].c;
    if (seq > e.lastReassemSeq[row]) this.undelivered(row, end, seq);
    let head = e.blocks[row];
    while (head !== NONE && R.c.upper[head] <= seq) {
      e.bufferedBytes[row] -= R.c.upper[head] - R.c.seq[head];
      const next = R.next[head];
      R.release(head);
      head = next;
    }
    e.blocks[row] = head;
    if (head !== NONE && R.c.seq[head] === e.lastReassemSeq[row]) this.deliverInOrder(row, end);
    e.trimSeq[row] = seq;
  }

  /** TCP_Reassembler::Undelivered: everything below `upTo` that was not seen is a gap. */
  private undelivered(row: number, end: number, upTo: number): void {
    // A partial connection's synthetic start makes the first 1-2 octets look missing.
    if (upTo <= 2 && this.host.isPartial(row)) return;
    const R = this.ranges;
    const e = this.ends.at[end].c;
    if (!e.skipDeliveries[row]) {
      for (;;) {
        let b = e.blocks[row];
        while (b !== NONE && R.c.seq[b] < e.lastReassemSeq[row]) b = R.next[b];
        if (b === NONE || R.c.seq[b] >= upTo) break;
        const gapLen = R.c.seq[b] - e.lastReassemSeq[row];
        this.host.contentGap(row, end, e.lastReassemSeq[row], gapLen);
        e.lastReassemSeq[row] += gapLen;
        this.deliverInOrder(row, end);
      }
      if (upTo > e.lastReassemSeq[row]) this.host.contentGap(row, end, e.lastReassemSeq[row], upTo - e.lastReassemSeq[row]);
    }
    if (upTo > e.lastReassemSeq[row]) e.lastReassemSeq[row] = upTo;
  }
}
