/**
 * The parts of Zeek's TCP_Reassembler that decide history letters and when a
 * close is reported: which sequence ranges were seen (no bytes are kept),
 * what was delivered in order, content gaps revealed by ACKs (G/g) and the
 * "data pending" test that defers a close. Sequence numbers are relative
 * (the first data octet is 1).
 */
import { EndpointState, type ZeekEndpoint } from './endpoint.js';

export interface ReassemblerHost {
  /** The connection started without a handshake from both sides. */
  isPartial(): boolean;
  /** A content gap in the data of `r`'s endpoint. */
  contentGap(r: ZeekReassembler, seq: number, len: number): void;
  /** Everything this endpoint sent up to its FIN/RST was delivered. */
  endpointEof(r: ZeekReassembler): void;
}

export interface ReassemblerLimits {
  tcpMaxInitialWindow: number;
  tcpMaxAboveHoleWithoutAnyAcks: number;
  tcpExcessiveDataWithoutFurtherAcks: number;
}

interface Block {
  seq: number;
  upper: number;
}

export class ZeekReassembler {
  /** Next relative sequence number to deliver in order. */
  lastReassemSeq = 1;
  /** Everything below this was acknowledged and dropped. */
  trimSeq = 1;
  /** Reassembly gave up (too much data above a hole, or unacknowledged). */
  skipDeliveries = false;
  didEof = false;
  hadGap = false;
  /** Seen, not yet acknowledged ranges, sorted and non-overlapping. */
  private blocks: Block[] = [];
  private bufferedBytes = 0;

  constructor(
    readonly endp: ZeekEndpoint,
    private readonly host: ReassemblerHost,
    private readonly limits: ReassemblerLimits,
  ) {}

  hasBlocks(): boolean {
    return this.blocks.length > 0;
  }

  /** Data from this endpoint at relative `seq` (TCP_Reassembler::DataSent). */
  dataSent(seq: number, len: number): void {
    if (this.skipDeliveries) return;
    this.newBlock(seq, len);

    if (this.endp.noDataAcked() && this.limits.tcpMaxAboveHoleWithoutAnyAcks && this.undeliveredBytes() > this.limits.tcpMaxAboveHoleWithoutAnyAcks) {
      this.giveUp(); // above_hole_data_without_any_acks
    }
    if (this.limits.tcpExcessiveDataWithoutFurtherAcks && this.bufferedBytes > this.limits.tcpExcessiveDataWithoutFurtherAcks) {
      this.giveUp(); // excessive_data_without_further_acks
    }
  }

  /** The peer acknowledged up to relative `seq` (TCP_Reassembler::AckReceived). */
  ackReceived(seq: number): void {
    if (this.endp.finCount > 0 && seq >= this.endp.finSeq) seq = this.endp.finSeq - 1;
    if (seq <= this.trimSeq) return;
    this.trimToSeq(seq);
    this.checkEof();
  }

  /** Reports EOF once everything up to the FIN/RST is delivered. */
  checkEof(): void {
    const e = this.endp;
    if (this.didEof) return;
    if (e.finCount > 0 || e.state === EndpointState.CLOSED || e.state === EndpointState.RESET) {
      if (!this.dataPending()) {
        this.didEof = true;
        this.host.endpointEof(this);
      }
    }
  }

  /** Undelivered data, or the peer's data still waiting for an ACK (TCP_Reassembler::DataPending). */
  dataPending(): boolean {
    if (this.skipDeliveries) return false;
    const e = this.endp;
    const delivered = e.startSeq + this.lastReassemSeq;
    const last = e.toFullSeqSpace(e.lastSeq, e.seqWraps);
    if (last < delivered) return false;
    if (delivered !== last - 1 && delivered !== last) return true;
    return e.state !== EndpointState.RESET && e.peer.reassembler.hasBlocks();
  }

  private undeliveredBytes(): number {
    if (this.blocks.length === 0) return 0;
    return this.blocks[this.blocks.length - 1].upper - this.lastReassemSeq;
  }

  private giveUp(): void {
    this.blocks = [];
    this.bufferedBytes = 0;
    this.skipDeliveries = true;
  }

  private newBlock(seq: number, len: number): void {
    if (len === 0) return;
    const upper = seq + len;
    if (upper <= this.trimSeq) return; // old data
    if (seq < this.trimSeq) seq = this.trimSeq;
    this.insertUncovered(seq, upper);
    this.deliverInOrder();
  }

  /** Adds the parts of [seq, upper) no block covers yet (what Zeek's DataBlockList::Insert keeps). */
  private insertUncovered(seq: number, upper: number): void {
    let i = this.firstBlockEndingAfter(seq);
    let cursor = seq;
    while (cursor < upper) {
      const b = i < this.blocks.length ? this.blocks[i] : undefined;
      if (b === undefined || b.seq >= upper) {
        this.insertAt(i, cursor, upper);
        return;
      }
      if (b.seq > cursor) {
        this.insertAt(i, cursor, b.seq);
        i++;
      }
      cursor = Math.max(cursor, b.upper);
      i++;
    }
  }

  /** Index of the first block whose upper end is above `seq` (blocks are sorted and disjoint). */
  private firstBlockEndingAfter(seq: number): number {
    let lo = 0;
    let hi = this.blocks.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.blocks[mid].upper <= seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private insertAt(i: number, seq: number, upper: number): void {
    this.blocks.splice(i, 0, { seq, upper });
    this.bufferedBytes += upper - seq;
  }

  /** Delivers the blocks that continue the in-order stream (BlockInserted). */
  private deliverInOrder(): void {
    let delivered = false;
    for (const b of this.blocks) {
      if (b.seq > this.lastReassemSeq) break;
      if (b.seq === this.lastReassemSeq) {
        this.lastReassemSeq = b.upper;
        delivered = true;
      }
    }
    if (!delivered) return;
    // Nothing of ours was ever acknowledged although we sent a lot: the peer's
    // ACKs are probably not visible, so do not hold on to the delivered data.
    const e = this.endp;
    if (e.noDataAcked() && this.limits.tcpMaxInitialWindow && e.size() > this.limits.tcpMaxInitialWindow) {
      this.trimToSeq(this.lastReassemSeq);
    }
  }

  /** Drops what is acknowledged; data acknowledged but never seen is a gap (DataBlockList::Trim). */
  private trimToSeq(seq: number): void {
    if (seq > this.lastReassemSeq) this.undelivered(seq);
    let acked = 0;
    while (acked < this.blocks.length && this.blocks[acked].upper <= seq) {
      this.bufferedBytes -= this.blocks[acked].upper - this.blocks[acked].seq;
      acked++;
    }
    if (acked > 0) this.blocks.splice(0, acked);
    if (this.blocks.length > 0 && this.blocks[0].seq === this.lastReassemSeq) this.deliverInOrder();
    this.trimSeq = seq;
  }

  /** TCP_Reassembler::Undelivered: everything below `upTo` that was not seen is a gap. */
  private undelivered(upTo: number): void {
    // A partial connection's synthetic start makes the first 1-2 octets look missing.
    if (upTo <= 2 && this.host.isPartial()) return;
    if (!this.skipDeliveries) {
      for (;;) {
        const b = this.blocks.find((x) => x.seq >= this.lastReassemSeq);
        if (b === undefined || b.seq >= upTo) break;
        const gapLen = b.seq - this.lastReassemSeq;
        this.gap(this.lastReassemSeq, gapLen);
        this.lastReassemSeq += gapLen;
        this.deliverInOrder();
      }
      if (upTo > this.lastReassemSeq) this.gap(this.lastReassemSeq, upTo - this.lastReassemSeq);
    }
    if (upTo > this.lastReassemSeq) this.lastReassemSeq = upTo;
  }

  private gap(seq: number, len: number): void {
    this.host.contentGap(this, seq, len);
    this.hadGap = true;
  }
}
