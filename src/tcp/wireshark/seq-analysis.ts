/**
 * Per-packet TCP sequence analysis that agrees with tshark 4.0.17's
 * `tcp.analysis.*` (retransmissions, out-of-order, lost and ACKed-unseen
 * segments, dup ACKs, keep-alives, zero windows, window updates and full
 * windows, reused ports). The rules, their order and their quirks are those of
 * shared/design/tcp-analysis-rules.md (section numbers below refer to it); one
 * function per rule, called in Wireshark's order.
 *
 * Streaming: call `packet()` for every TCP packet in file order, or `packetAt()` with
 * the packet's row and direction when the caller looks packets up in a connection
 * table it shares with other analyzers (analyze/capture.ts). It returns a reused
 * AnalysisResult, valid until the next call. Per-connection state is in columns at a
 * slot of the analysis's own, bound to the table's row while it holds a conversation
 * there (conversation.ts): a packet allocates nothing.
 */
import type { DecodedPacket } from '../../decode/packet.js';
import { ConnTable } from '../../conn/table.js';
import {
  BASE_SEQ_SET,
  Conversations,
  DUPACK_SENTINEL,
  FIN_DIR0,
  FIRST_ACK,
  LAST_KEEP_ALIVE,
  LAST_ZERO_WINDOW_PROBE,
  MAX_SACK_BLOCKS,
  MAX_UNACKED_SEGMENTS,
  NO_BIF,
  PAST_HANDSHAKE,
  RST_SEEN,
  SEEN,
  WINDOW_SET,
  WINDOW_UNSET,
  WSCALE_NOT_USED,
  WSCALE_UNKNOWN,
} from './conversation.js';
import { NONE } from '../../conn/pool.js';
import { AnalysisFlag as A } from './flags.js';
import { gtSeq, leSeq, ltSeq } from './seq.js';

const FIN = 0x01;
const SYN = 0x02;
const RST = 0x04;
const ACK = 0x10;
const SYN_FIN_RST = SYN | FIN | RST;

/** Fast retransmission: within this time of the receiver's last packet (ns). */
const FAST_RETRANSMISSION_NS = 20_000_000;
/** Out-of-order threshold when no initial RTT is known (ns). */
const OUT_OF_ORDER_DEFAULT_NS = 3_000_000;

/**
 * The fields of a decoded TCP packet the analysis reads. A DecodedPacket is one; a
 * caller that must hold a packet back (e.g. until its IP datagram is reassembled)
 * can pass a copy of just these (the connection table reads only the endpoints).
 */
export type TcpSegmentView = Pick<
  DecodedPacket,
  'ipVersion' | 'buf' | 'srcOff' | 'dstOff' | 'srcPort' | 'dstPort' | 'seq' | 'ack' | 'flags' | 'window' | 'windowScale' | 'payloadLen' | 'sack' | 'sackCount'
>;

/** What the analysis found for one packet (reused: copy what you keep). */
export class AnalysisResult {
  /** Wireshark's `tcp.stream`. */
  stream = -1;
  /** AnalysisFlag bits. */
  flags = 0;
  /** `tcp.analysis.duplicate_ack_num` and `duplicate_ack_frame` (0 unless DUPLICATE_ACK). */
  dupAckNum = 0;
  dupAckFrame = 0;
  /**
   * For a plain RETRANSMISSION: the frame of the oldest segment of this direction
   * still unacknowledged (or, with none, the frame that last advanced the sequence)
   * and the time since it (`tcp.analysis.rto_frame`, `tcp.analysis.rto`); 0 otherwise.
   */
  rtoFrame = 0;
  rtoNs = 0;
  /** The frame whose segment this packet's ack covers exactly, and the RTT (`acks_frame`, `ack_rtt`); 0 when none. */
  acksFrame = 0;
  ackRttNs = 0;
  /** `tcp.analysis.bytes_in_flight` when the analyzer tracks it and Wireshark would show it; -1 otherwise. */
  bytesInFlight = -1;
  /** `tcp.analysis.initial_rtt` in ns once measured; 0 before. */
  initialRttNs = 0;
  /**
   * tshark would show a `tcp.analysis` record for this packet (flags, acked frame or
   * bytes in flight, or an ack beyond the other side's data that was not flagged again):
   * the packets on which it prints initial_rtt.
   */
  hasAnalysis = false;
  /**
   * The sender's window scale as `tcp.window_size_scalefactor` shows it on non-SYN packets:
   * a shift 0..14, WSCALE_UNKNOWN (-1) or WSCALE_NOT_USED (-2).
   */
  windowScale = WSCALE_UNKNOWN;

  clear(): void {
    this.stream = -1;
    this.flags = 0;
    this.dupAckNum = 0;
    this.dupAckFrame = 0;
    this.rtoFrame = 0;
    this.rtoNs = 0;
    this.acksFrame = 0;
    this.ackRttNs = 0;
    this.bytesInFlight = -1;
    this.initialRttNs = 0;
    this.hasAnalysis = false;
    this.windowScale = WSCALE_UNKNOWN;
  }
}

export interface SequenceAnalyzerOptions {
  /** tshark's `tcp.fastrt_supersedes_ooo` (default true): the fast-retransmission test runs before out-of-order. */
  fastRetransmissionSupersedesOutOfOrder?: boolean;
  /** Compute `bytesInFlight` (walks the sender's unacked segments on every data packet). Default false. */
  trackBytesInFlight?: boolean;
  /** Seconds of packet time after which an idle live conversation is forgotten (default 7800; Infinity: never). */
  idleTimeoutSec?: number;
  /**
   * Seconds after which an idle closed, one-sided or handshake-only conversation is kept without
   * its unacknowledged segments and SACK blocks (default 75; Infinity: never).
   */
  quietTimeoutSec?: number;
  /**
   * Closed, one-sided or handshake-only conversations kept at most (default DEFAULT_MAX_QUIET);
   * beyond, the least recently seen is forgotten, one that never got past its handshake first.
   */
  maxQuietConversations?: number;
}

/**
 * Quiet conversations kept by default: with 189 bytes of columns a conversation (and 4 a table row
 * for its slot), a SYN flood of any size keeps the analysis's columns and pools under 40 MB (test/seq-rows.test.ts floods 1,000,000).
 */
export const DEFAULT_MAX_QUIET = 100_000;

/** Packet time as (µs since the epoch, extra ns 0..999) -> ns since (refUs, refNs); exact for deltas under ~100 days. */
function deltaNs(us: number, ns: number, refUs: number, refNs: number): number {
  return (us - refUs) * 1000 + (ns - refNs);
}

export class SequenceAnalyzer {
  private readonly conversations: Conversations;
  private readonly table: ConnTable;
  private readonly result = new AnalysisResult();
  private readonly fastFirst: boolean;
  private readonly trackBif: boolean;

  // The packet being analysed (set by analyse(), read by the rules).
  private frame = 0;
  private us = 0;
  private ns = 0;
  private seq = 0;
  private ack = 0;
  private len = 0;
  private tcpFlags = 0;
  private win = 0;

  /**
   * `table`: the connection table the caller looks packets up in (then call packetAt); by
   * default one of the analyzer's own (then call packet).
   */
  constructor(opts: SequenceAnalyzerOptions = {}, table: ConnTable = new ConnTable()) {
    this.fastFirst = opts.fastRetransmissionSupersedesOutOfOrder ?? true;
    this.trackBif = opts.trackBytesInFlight ?? false;
    this.table = table;
    this.conversations = new Conversations(table, {
      idleUs: (opts.idleTimeoutSec ?? 7800) * 1e6,
      quietUs: (opts.quietTimeoutSec ?? 75) * 1e6,
      maxQuiet: Math.max(1, opts.maxQuietConversations ?? DEFAULT_MAX_QUIET),
    });
  }

  /** Conversations currently held. */
  get held(): number {
    return this.conversations.size;
  }

  /** Conversations forgotten by the idle sweep so far (live ones idle for idleTimeoutSec). */
  get swept(): number {
    return this.conversations.swept;
  }

  /** The connection on `row` is evicted (the memory budget): its conversation is forgotten, as if it had timed out. */
  evict(row: number): void {
    this.conversations.evict(row);
  }

  /** Quiet conversations forgotten past maxQuietConversations so far, and quiet ones compacted. */
  get evicted(): number {
    return this.conversations.evicted;
  }

  get compacted(): number {
    return this.conversations.compacted;
  }

  /** Quiet conversations held now. */
  get quiet(): number {
    return this.conversations.quietCount;
  }

  /** Bytes of the analysis's columns and pools as allocated now (they grow with the connection table). */
  get columnBytes(): number {
    return this.conversations.bytes;
  }

  /** Records in use: unacknowledged segments, SACK blocks. */
  get pooled(): { segments: number; sackBlocks: number } {
    return { segments: this.conversations.segments.size, sackBlocks: this.conversations.sacks.size };
  }

  /**
   * Analyse one TCP packet (`p` holds a decoded TCP header), looking it up in the table.
   * `frame` is the frame number, `tsUs` the packet time in µs, `tsNs` optional extra
   * nanoseconds (0..999) for captures with ns resolution.
   */
  packet(frame: number, tsUs: number, p: TcpSegmentView, tsNs = 0): AnalysisResult {
    const row = this.table.lookup(p as DecodedPacket);
    return this.packetAt(row, this.table.dir, frame, tsUs, p, tsNs);
  }

  /** Analyse one TCP packet whose row (and direction) the caller looked up in the shared table. */
  packetAt(row: number, dir: number, frame: number, tsUs: number, p: TcpSegmentView, tsNs = 0): AnalysisResult {
    const r = this.analyse(row, dir, frame, tsUs, p, tsNs, this.conversations.advance(tsUs));
    this.conversations.maybeSweep();
    return r;
  }

  private analyse(row: number, dir: number, frame: number, tsUs: number, p: TcpSegmentView, tsNs: number, clock: number): AnalysisResult {
    const r = this.result;
    r.clear();
    this.frame = frame;
    this.us = tsUs;
    this.ns = tsNs;
    this.seq = p.seq >>> 0;
    this.ack = p.ack >>> 0;
    this.len = p.payloadLen;
    this.tcpFlags = p.flags;
    this.win = p.window;

    // §3, §5.15: the conversation, its direction, and the port-reuse decisions.
    // The conversation's slot (conversation.ts), once: its columns are at slot, its directions at 2 * slot + dir.
    const convs = this.conversations;
    const slot = convs.has(row) ? convs.slotOf(row) : convs.open(row, clock);
    const fwd = 2 * slot + dir;
    const rev = fwd ^ 1;
    const d = convs.flows.c;
    if (this.isReusedPortsSyn(fwd)) {
      convs.open(row, clock); // the same slot
      r.flags |= A.REUSED_PORTS;
    } else if (this.isReusedPortsSynAck(fwd)) {
      r.flags |= A.REUSED_PORTS;
      d.baseSeq[fwd] = this.seq;
    }
    this.recordBaseSeq(fwd, rev);
    const c = convs.conv.c;
    r.stream = c.stream[slot];
    r.windowScale = d.winScale[fwd];

    this.analyzeSequenceNumber(slot, fwd, rev, r);

    // After the analysis (these only affect later packets): window scaling (§6), iRTT (§3).
    this.afterAnalysis(slot, fwd, rev, p.windowScale);
    if (this.trackBif) convs.setSack(fwd, p.sack, Math.min(p.sackCount, MAX_SACK_BLOCKS));
    r.initialRttNs = c.initialRttNs[slot];
    c.lastSeen[slot] = clock;
    d.bits[fwd] |= SEEN;
    if (!(this.tcpFlags & SYN)) c.state[slot] |= PAST_HANDSHAKE;
    if (this.tcpFlags & RST) c.state[slot] |= RST_SEEN;
    else if (this.tcpFlags & FIN) c.state[slot] |= FIN_DIR0 << dir;
    convs.settle(row, slot, clock);
    return r;
  }

  // ------------------------------------------------------------ conversation layer (§5.15)

  /**
   * A SYN (no ACK) whose sequence number is not this direction's recorded ISN starts
   * a new conversation (new stream, fresh state). A SYN repeating the ISN is a
   * retransmitted SYN: the sender's nextSeq falls back to maxSeqToBeAcked.
   */
  private isReusedPortsSyn(fwd: number): boolean {
    const d = this.conversations.flows.c;
    if ((this.tcpFlags & (SYN | ACK)) !== SYN || (d.bits[fwd] & BASE_SEQ_SET) === 0) return false;
    if (this.seq !== d.baseSeq[fwd]) return true;
    d.nextSeq[fwd] = d.maxSeqToBeAcked[fwd];
    return false;
  }

  /** A SYN-ACK with a sequence number other than the recorded ISN: flagged, same stream and state. */
  private isReusedPortsSynAck(fwd: number): boolean {
    const d = this.conversations.flows.c;
    return (this.tcpFlags & (SYN | ACK)) === (SYN | ACK) && (d.bits[fwd] & BASE_SEQ_SET) !== 0 && this.seq !== d.baseSeq[fwd];
  }

  /** The ISN of each direction: from its first packet, or from the first ACK of the other direction. */
  private recordBaseSeq(fwd: number, rev: number): void {
    const d = this.conversations.flows.c;
    if ((d.bits[fwd] & BASE_SEQ_SET) === 0) {
      d.baseSeq[fwd] = this.tcpFlags & SYN ? this.seq : (this.seq - 1) >>> 0;
      d.bits[fwd] |= BASE_SEQ_SET;
    }
    if ((d.bits[rev] & BASE_SEQ_SET) === 0 && this.tcpFlags & ACK) {
      d.baseSeq[rev] = (this.ack - 1) >>> 0;
      d.bits[rev] |= BASE_SEQ_SET;
    }
  }

  // ------------------------------------------------------------ the analysis (§5)

  private analyzeSequenceNumber(slot: number, fwd: number, rev: number, r: AnalysisResult): void {
    const convs = this.conversations;
    const d = convs.flows.c;
    let flags = r.flags;

    // Phase A: checks on the sender's packet.
    if (this.isZeroWindowProbe(fwd, rev)) {
      flags |= A.ZERO_WINDOW_PROBE;
    } else {
      if (this.isZeroWindow()) flags |= A.ZERO_WINDOW;
      if (this.isLostSegment(fwd)) {
        flags |= A.LOST_SEGMENT;
        d.bits[fwd] |= NO_BIF;
      }
      if (this.isKeepAlive(fwd)) flags |= A.KEEP_ALIVE;
      if (this.isWindowUpdate(fwd)) flags |= A.WINDOW_UPDATE;
      if (this.isWindowFull(rev)) flags |= A.WINDOW_FULL;
      if (this.isKeepAliveAck(fwd, rev)) flags |= A.KEEP_ALIVE_ACK;
      else if (this.isZeroWindowProbeAck(fwd, rev)) flags |= A.ZERO_WINDOW_PROBE_ACK;
      else if (this.isDuplicateAck(fwd)) {
        flags |= A.DUPLICATE_ACK;
        d.dupAckCount[fwd] = d.dupAckCount[fwd] === DUPACK_SENTINEL ? 1 : d.dupAckCount[fwd] + 1;
        r.dupAckNum = d.dupAckCount[fwd];
        r.dupAckFrame = d.lastNonDupAckFrame[fwd];
      }
    }

    // Phase B: a changed ack value resets this direction's dup-ACK count.
    if (this.ack !== d.lastAck[fwd]) {
      d.lastNonDupAckFrame[fwd] = this.frame;
      d.dupAckCount[fwd] = 0;
    }
    if (this.isAckedUnseenSegment(rev, r)) flags |= A.ACK_LOST_SEGMENT;

    // Phase C: the retransmission family, for segments that occupy sequence space.
    if (this.len > 0 || this.tcpFlags & (SYN | FIN)) flags |= this.retransmissionType(slot, fwd, rev, flags, r);

    // Phase D: state updates.
    this.updateSequenceState(fwd, flags);
    d.window[fwd] = this.win;
    const last = (flags & A.KEEP_ALIVE ? LAST_KEEP_ALIVE : 0) | (flags & A.ZERO_WINDOW_PROBE ? LAST_ZERO_WINDOW_PROBE : 0);
    d.bits[fwd] = (d.bits[fwd] & ~(LAST_KEEP_ALIVE | LAST_ZERO_WINDOW_PROBE)) | last | WINDOW_SET;
    d.lastAck[fwd] = this.ack;
    d.lastAckUs[fwd] = this.us;
    d.lastAckNs[fwd] = this.ns;
    convs.ack(rev, this.ack);
    if (convs.ackedFrame !== 0) {
      r.acksFrame = convs.ackedFrame;
      r.ackRttNs = deltaNs(this.us, this.ns, convs.ackedUs, convs.ackedNs);
    }
    if (this.trackBif) this.bytesInFlight(fwd, rev, r);
    if (this.tcpFlags & ACK) d.bits[rev] &= ~NO_BIF;
    r.flags = flags;
    if (flags !== 0 || r.acksFrame !== 0 || r.bytesInFlight > 0) r.hasAnalysis = true;
  }

  /** The raw window of flow `f`'s previous packet, WINDOW_UNSET before its first. */
  private windowOf(f: number): number {
    const d = this.conversations.flows.c;
    return (d.bits[f] & WINDOW_SET) !== 0 ? d.window[f] : WINDOW_UNSET;
  }

  /** 1. Zero window probe: one byte at nextSeq while the receiver's last window was 0. */
  private isZeroWindowProbe(fwd: number, rev: number): boolean {
    const d = this.conversations.flows.c;
    return this.len === 1 && this.seq === d.nextSeq[fwd] && this.windowOf(rev) === 0;
  }

  /** 2. Zero window: the packet advertises a window of 0 (not on SYN, FIN or RST). */
  private isZeroWindow(): boolean {
    return this.win === 0 && (this.tcpFlags & SYN_FIN_RST) === 0;
  }

  /** 3. Previous segment not captured: the packet starts beyond the highest sequence end seen. */
  private isLostSegment(fwd: number): boolean {
    const nextSeq = this.conversations.flows.c.nextSeq[fwd];
    return nextSeq !== 0 && gtSeq(this.seq, nextSeq) && (this.tcpFlags & RST) === 0;
  }

  /** 4. Keep-alive: 0 or 1 byte one below nextSeq (position only). */
  private isKeepAlive(fwd: number): boolean {
    return this.len <= 1 && (this.tcpFlags & SYN_FIN_RST) === 0 && this.seq === ((this.conversations.flows.c.nextSeq[fwd] - 1) >>> 0);
  }

  /** The common part of window update, keep-alive ACK, ZWP ACK and dup ACK: an empty segment at nextSeq repeating the ack. */
  private isBareRepeat(fwd: number): boolean {
    const d = this.conversations.flows.c;
    return this.len === 0 && this.seq === d.nextSeq[fwd] && this.ack === d.lastAck[fwd] && (this.tcpFlags & SYN_FIN_RST) === 0;
  }

  /** 5. Window update: only the (raw) window changed. */
  private isWindowUpdate(fwd: number): boolean {
    return this.win !== 0 && this.win !== this.windowOf(fwd) && this.isBareRepeat(fwd);
  }

  /** 6. Window full: the segment ends exactly at the receiver's advertised right edge (scale known). */
  private isWindowFull(rev: number): boolean {
    const d = this.conversations.flows.c;
    const scale = d.winScale[rev];
    if (this.len === 0 || scale === WSCALE_UNKNOWN || this.tcpFlags & SYN_FIN_RST) return false;
    const shift = (d.bits[rev] & FIRST_ACK) !== 0 || scale === WSCALE_NOT_USED ? 0 : scale;
    const rightEdge = (d.lastAck[rev] + ((this.windowOf(rev) << shift) >>> 0)) >>> 0;
    return ((this.seq + this.len) >>> 0) === rightEdge;
  }

  /** 7. Keep-alive ACK: a bare repeat, same window, answering a keep-alive. */
  private isKeepAliveAck(fwd: number, rev: number): boolean {
    const d = this.conversations.flows.c;
    return this.win !== 0 && this.win === this.windowOf(fwd) && (d.bits[rev] & LAST_KEEP_ALIVE) !== 0 && this.isBareRepeat(fwd);
  }

  /** 8. Zero window probe ACK: a bare repeat with the window still 0, answering a probe. */
  private isZeroWindowProbeAck(fwd: number, rev: number): boolean {
    const d = this.conversations.flows.c;
    return this.win === 0 && this.windowOf(fwd) === 0 && (d.bits[rev] & LAST_ZERO_WINDOW_PROBE) !== 0 && this.isBareRepeat(fwd);
  }

  /** 9. Duplicate ACK: a bare repeat with the same non-zero window (the ACK bit is not checked). */
  private isDuplicateAck(fwd: number): boolean {
    return this.win !== 0 && this.win === this.windowOf(fwd) && this.isBareRepeat(fwd);
  }

  /**
   * §5.6 ACKed unseen segment: the ack goes beyond what the other side can have
   * sent contiguously. Over a hole we saw: flag and resync. Beyond everything:
   * flag once per stall: the other side's dup-ACK count then holds a sentinel (also
   * when it was not 0 and nothing is flagged) until that side's ack value changes.
   */
  private isAckedUnseenSegment(rev: number, r: AnalysisResult): boolean {
    const d = this.conversations.flows.c;
    const max = d.maxSeqToBeAcked[rev];
    if (max === 0 || !gtSeq(this.ack, max) || (this.tcpFlags & ACK) === 0) return false;
    r.hasAnalysis = true; // Wireshark creates the record before deciding whether to flag
    if (ltSeq(max, d.nextSeq[rev])) {
      d.maxSeqToBeAcked[rev] = d.nextSeq[rev];
      return true;
    }
    // Beyond everything: flagged only if the other side's count was 0; the sentinel is set either way.
    const flag = d.dupAckCount[rev] === 0;
    d.dupAckCount[rev] = DUPACK_SENTINEL;
    return flag;
  }

  /** Phase C: at most one of spurious, fast, out-of-order or plain retransmission. */
  private retransmissionType(slot: number, fwd: number, rev: number, flags: number, r: AnalysisResult): number {
    // C1: a keep-alive is never a retransmission.
    if (flags & A.KEEP_ALIVE) return 0;
    const convs = this.conversations;
    const d = convs.flows.c;
    // C0, C2: "not advanced", except a multi-byte segment starting one below nextSeq (data after a ZWP).
    const nextSeq = d.nextSeq[fwd];
    let notAdvanced = nextSeq !== 0 && ltSeq(this.seq, nextSeq);
    if (this.len > 1 && ((nextSeq - 1) >>> 0) === this.seq) notAdvanced = false;
    if (this.isSpuriousRetransmission(rev)) return A.SPURIOUS_RETRANSMISSION;
    if (this.fastFirst) {
      if (notAdvanced && this.isFastRetransmission(rev)) return A.FAST_RETRANSMISSION;
      if (notAdvanced && this.isOutOfOrder(slot, fwd)) return A.OUT_OF_ORDER;
    } else {
      if (notAdvanced && this.isOutOfOrder(slot, fwd)) return A.OUT_OF_ORDER;
      if (notAdvanced && this.isFastRetransmission(rev)) return A.FAST_RETRANSMISSION;
    }
    if (!notAdvanced) return 0;
    // C6: a plain retransmission.
    const oldest = d.unacked[fwd];
    if (oldest !== NONE) {
      const s = convs.segments.c;
      r.rtoFrame = s.frame[oldest];
      r.rtoNs = deltaNs(this.us, this.ns, s.tsUs[oldest], s.tsNs[oldest]);
    } else {
      r.rtoFrame = d.nextSeqFrame[fwd];
      r.rtoNs = deltaNs(this.us, this.ns, d.nextSeqUs[fwd], d.nextSeqNs[fwd]);
    }
    return A.RETRANSMISSION;
  }

  /** C3 Spurious retransmission: data entirely below the receiver's last ack value. */
  private isSpuriousRetransmission(rev: number): boolean {
    const lastAck = this.conversations.flows.c.lastAck[rev];
    return this.len > 0 && lastAck !== 0 && leSeq((this.seq + this.len) >>> 0, lastAck);
  }

  /** C4 Fast retransmission: at the dup-acked number, after 2+ dup ACKs, within 20 ms of the receiver's last packet. */
  private isFastRetransmission(rev: number): boolean {
    const d = this.conversations.flows.c;
    if (d.dupAckCount[rev] < 2 || d.lastAck[rev] !== this.seq) return false;
    const t = deltaNs(this.us, this.ns, d.lastAckUs[rev], d.lastAckNs[rev]);
    return t >= 0 && t < FAST_RETRANSMISSION_NS;
  }

  /** C5 Out-of-order: soon after the highest segment (iRTT, or 3 ms), not ending exactly at nextSeq. */
  private isOutOfOrder(slot: number, fwd: number): boolean {
    const d = this.conversations.flows.c;
    const t = deltaNs(this.us, this.ns, d.nextSeqUs[fwd], d.nextSeqNs[fwd]);
    // A negative iRTT (SYN stamped after its ACK) is a huge unsigned threshold in Wireshark.
    const irtt = this.conversations.conv.c.initialRttNs[slot];
    const threshold = irtt === 0 ? OUT_OF_ORDER_DEFAULT_NS : irtt < 0 ? Infinity : irtt;
    const end = (this.seq + this.len + (this.tcpFlags & (SYN | FIN) ? 1 : 0)) >>> 0;
    return t >= 0 && t < threshold && d.nextSeq[fwd] !== end;
  }

  /** Phase D (§3, §4): the unacked list, nextSeq and maxSeqToBeAcked (neither moves on a zero window probe). */
  private updateSequenceState(fwd: number, flags: number): void {
    const convs = this.conversations;
    const d = convs.flows.c;
    let end = (this.seq + this.len) >>> 0;
    const synFin = (this.tcpFlags & (SYN | FIN)) !== 0;
    if ((this.len > 0 || synFin) && d.unackedCount[fwd] < MAX_UNACKED_SEGMENTS) {
      // The SYN/FIN +1 is only counted for a segment that goes on the list (§4 caveat).
      if (synFin) end = (end + 1) >>> 0;
      convs.pushUnacked(fwd, this.frame, this.seq, end, this.us, this.ns);
    }
    if (flags & A.ZERO_WINDOW_PROBE) return;
    if (d.nextSeq[fwd] === 0 || gtSeq(end, d.nextSeq[fwd])) {
      d.nextSeq[fwd] = end;
      d.nextSeqFrame[fwd] = this.frame;
      d.nextSeqUs[fwd] = this.us;
      d.nextSeqNs[fwd] = this.ns;
    }
    if (d.maxSeqToBeAcked[fwd] === 0 || this.seq === d.maxSeqToBeAcked[fwd]) d.maxSeqToBeAcked[fwd] = d.nextSeq[fwd];
  }

  /**
   * Bytes in flight as Wireshark counts them by default: the span of this direction's
   * unacked segments less what the receiver's last packet SACKed, shown on data
   * packets while no segment was lost (until the receiver ACKs again).
   */
  private bytesInFlight(fwd: number, rev: number, r: AnalysisResult): void {
    const convs = this.conversations;
    const d = convs.flows.c;
    if (this.len === 0 || d.unackedCount[fwd] === 0 || (d.bits[fwd] & NO_BIF) !== 0) return;
    r.hasAnalysis = true; // Wireshark creates the record before checking the result
    const base = d.baseSeq[fwd];
    const s = convs.segments.c;
    const next = convs.segments.next;
    const tail = d.unackedTail[fwd];
    let first = (s.seq[tail] - base) >>> 0;
    let last = (s.nextSeq[tail] - base) >>> 0;
    for (let i = d.unacked[fwd]; i !== NONE; i = next[i]) {
      const a = (s.seq[i] - base) >>> 0;
      const e = (s.nextSeq[i] - base) >>> 0;
      if (e > last) last = e;
      if (a < first) first = a;
    }
    // Data the receiver's last packet SACKed is not in flight.
    let delivered = 0;
    const blocks = convs.sacks;
    let b = d.sack[rev];
    for (let i = 0; i < d.sackCount[rev]; i++) {
      delivered += (blocks.c.right[b] - blocks.c.left[b]) >>> 0;
      b = blocks.next[b];
    }
    // A SYN or FIN on this segment takes a sequence number but carries no byte.
    const synFin = this.tcpFlags & (SYN | FIN) ? 1 : 0;
    const inFlight = (last - first - delivered - synFin) >>> 0;
    if (inFlight > 0 && inFlight < 2_000_000_000) r.bytesInFlight = inFlight;
  }

  // ------------------------------------------------------------ after the analysis (§3, §6)

  private afterAnalysis(slot: number, fwd: number, rev: number, windowScaleOption: number): void {
    const f = this.tcpFlags;
    const d = this.conversations.flows.c;
    const c = this.conversations.conv.c;
    if (windowScaleOption >= 0) d.winScale[fwd] = Math.min(windowScaleOption, 14);
    if (f & SYN) {
      this.verifyWindowScaling(fwd, rev, (f & ACK) !== 0);
      d.bits[fwd] |= FIRST_ACK;
      if ((f & ACK) === 0) {
        c.lastSynUs[slot] = this.us;
        c.lastSynNs[slot] = this.ns;
      }
    } else if (f & ACK) {
      if (c.initialRttNs[slot] === 0 && (c.lastSynUs[slot] !== 0 || c.lastSynNs[slot] !== 0)) {
        c.initialRttNs[slot] = deltaNs(this.us, this.ns, c.lastSynUs[slot], c.lastSynNs[slot]);
      }
      d.bits[fwd] &= ~FIRST_ACK;
    }
  }

  /** §6: a SYN without the option turns scaling off both ways; a SYN-ACK with it after such a SYN too. */
  private verifyWindowScaling(fwd: number, rev: number, isSynAck: boolean): void {
    const d = this.conversations.flows.c;
    if (d.winScale[fwd] === WSCALE_UNKNOWN) {
      d.winScale[fwd] = WSCALE_NOT_USED;
      d.winScale[rev] = WSCALE_NOT_USED;
    } else if (isSynAck && d.winScale[rev] === WSCALE_NOT_USED) {
      d.winScale[fwd] = WSCALE_NOT_USED;
    }
  }
}
