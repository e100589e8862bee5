/**
 * Per-packet TCP sequence analysis that agrees with tshark 4.0.17's
 * `tcp.analysis.*` (retransmissions, out-of-order, lost and ACKed-unseen
 * segments, dup ACKs, keep-alives, zero windows, window updates and full
 * windows, reused ports). The rules, their order and their quirks are those of
 * shared/design/tcp-analysis-rules.md (section numbers below refer to it); one
 * function per rule, called in Wireshark's order.
 *
 * Streaming: call `packet()` for every TCP packet in file order. It returns a
 * reused AnalysisResult, valid until the next call.
 */
import type { DecodedPacket } from '../decode/packet.js';
import {
  ConversationTable,
  DUPACK_SENTINEL,
  MAX_UNACKED_SEGMENTS,
  SACK_NUMBERS,
  WSCALE_NOT_USED,
  WSCALE_UNKNOWN,
  conversationKey,
  endpointOrder,
  type TcpConversation,
  type TcpFlow,
} from './conversation.js';
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
 * can pass a copy of just these.
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
  /** Seconds after which an idle closed, one-sided or handshake-only conversation is forgotten (default 75; Infinity: never). */
  quietTimeoutSec?: number;
  /**
   * Seconds after which an idle conversation is kept frozen, as numbers, until its next packet
   * (default 5; Infinity: never). Changes memory only, never a result.
   */
  freezeAfterSec?: number;
}

/** Packet time as (µs since the epoch, extra ns 0..999) -> ns since (refUs, refNs); exact for deltas under ~100 days. */
function deltaNs(us: number, ns: number, refUs: number, refNs: number): number {
  return (us - refUs) * 1000 + (ns - refNs);
}

export class SequenceAnalyzer {
  private readonly table: ConversationTable;
  private readonly result = new AnalysisResult();
  private readonly fastFirst: boolean;
  private readonly trackBif: boolean;

  // The packet being analysed (set by packet(), read by the rules).
  private frame = 0;
  private us = 0;
  private ns = 0;
  private seq = 0;
  private ack = 0;
  private len = 0;
  private tcpFlags = 0;
  private win = 0;
  private current: TcpConversation | null = null;

  constructor(opts: SequenceAnalyzerOptions = {}) {
    this.fastFirst = opts.fastRetransmissionSupersedesOutOfOrder ?? true;
    this.trackBif = opts.trackBytesInFlight ?? false;
    this.table = new ConversationTable({
      idleUs: (opts.idleTimeoutSec ?? 7800) * 1e6,
      quietUs: (opts.quietTimeoutSec ?? 75) * 1e6,
      freezeUs: (opts.freezeAfterSec ?? 5) * 1e6,
    });
  }

  /** Conversations currently held. */
  get conversations(): number {
    return this.table.size;
  }

  /** Conversations forgotten by the idle sweep so far. */
  get swept(): number {
    return this.table.swept;
  }

  /** Conversations frozen while idle, and brought back by a later packet, so far. */
  get frozen(): number {
    return this.table.frozen;
  }

  get thawed(): number {
    return this.table.thawed;
  }

  /** Freeze now every conversation idle for freezeAfterSec or longer (the sweep does it every 10 s of packet time). */
  freezeIdle(): void {
    this.table.freezeIdle();
  }

  /**
   * Analyse one TCP packet (`p` holds a decoded TCP header). `frame` is the frame
   * number, `tsUs` the packet time in µs, `tsNs` optional extra nanoseconds (0..999)
   * for captures with ns resolution.
   */
  /** There is a conversation for the packet's endpoints. */
  has(p: TcpSegmentView): boolean {
    return this.table.has(conversationKey(p, endpointOrder(p)));
  }

  /**
   * A packet held back (a lone SYN kept compactly): the clock moves as packet() would
   * move it, and the stream index it would have had is reserved. Returns the clock,
   * for replay().
   */
  reserve(tsUs: number): { stream: number; clock: number } {
    const clock = this.table.advance(tsUs);
    const stream = this.table.reserveStream();
    this.table.maybeSweep();
    return { stream, clock };
  }

  /** The held-back packet, analysed as packet() would have then, in its reserved stream. */
  replay(frame: number, tsUs: number, p: TcpSegmentView, stream: number, clock: number): AnalysisResult {
    return this.analyse(frame, tsUs, p, 0, clock, stream);
  }

  /**
   * `hint`: the `conversation` an earlier packet of the same endpoints went to, if known (the
   * caller keeps it per connection): while the table still holds it, the key and lookup are skipped.
   */
  packet(frame: number, tsUs: number, p: TcpSegmentView, tsNs = 0, hint: TcpConversation | null = null): AnalysisResult {
    const r = this.analyse(frame, tsUs, p, tsNs, this.table.advance(tsUs), -1, hint);
    this.table.maybeSweep();
    return r;
  }

  /** The conversation the last packet() or replay() went to (valid as a hint while its `inTable`). */
  get conversation(): TcpConversation | null {
    return this.current;
  }

  private analyse(frame: number, tsUs: number, p: TcpSegmentView, tsNs: number, clock: number, reserved: number, hint: TcpConversation | null = null): AnalysisResult {
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
    const order = endpointOrder(p);
    let conv: TcpConversation;
    if (hint !== null && hint.inTable) conv = hint;
    else {
      const key = conversationKey(p, order);
      conv = this.table.get(key) ?? this.table.create(key, frame, reserved);
    }
    let fwd = order >= 0 ? conv.flow1 : conv.flow2;
    if (this.isReusedPortsSyn(fwd)) {
      conv = this.table.create(conv.key, frame);
      fwd = order >= 0 ? conv.flow1 : conv.flow2;
      r.flags |= A.REUSED_PORTS;
    } else if (this.isReusedPortsSynAck(fwd)) {
      r.flags |= A.REUSED_PORTS;
      fwd.baseSeq = this.seq;
    }
    const rev = fwd === conv.flow1 ? conv.flow2 : conv.flow1;
    this.recordBaseSeq(fwd, rev);
    r.stream = conv.stream;
    r.windowScale = fwd.winScale;

    this.analyzeSequenceNumber(conv, fwd, rev, r);

    // After the analysis (these only affect later packets): window scaling (§6), iRTT (§3).
    this.afterAnalysis(conv, fwd, rev, p.windowScale);
    if (this.trackBif) {
      fwd.sackCount = p.sackCount;
      if (p.sackCount > 0) {
        fwd.sack ??= new Uint32Array(SACK_NUMBERS);
        for (let i = 0; i < 2 * p.sackCount; i++) fwd.sack[i] = p.sack[i];
      }
    }
    r.initialRttNs = conv.initialRttNs;
    this.current = conv;
    conv.lastSeen = clock;
    fwd.seen = true;
    if (!(this.tcpFlags & SYN)) conv.pastHandshake = true;
    if (this.tcpFlags & RST) conv.finMask |= 4;
    else if (this.tcpFlags & FIN) conv.finMask |= fwd === conv.flow1 ? 1 : 2;
    return r;
  }

  // ------------------------------------------------------------ conversation layer (§5.15)

  /**
   * A SYN (no ACK) whose sequence number is not this direction's recorded ISN starts
   * a new conversation (new stream, fresh state). A SYN repeating the ISN is a
   * retransmitted SYN: the sender's nextSeq falls back to maxSeqToBeAcked.
   */
  private isReusedPortsSyn(fwd: TcpFlow): boolean {
    if ((this.tcpFlags & (SYN | ACK)) !== SYN || !fwd.baseSeqSet) return false;
    if (this.seq !== fwd.baseSeq) return true;
    fwd.nextSeq = fwd.maxSeqToBeAcked;
    return false;
  }

  /** A SYN-ACK with a sequence number other than the recorded ISN: flagged, same stream and state. */
  private isReusedPortsSynAck(fwd: TcpFlow): boolean {
    return (this.tcpFlags & (SYN | ACK)) === (SYN | ACK) && fwd.baseSeqSet && this.seq !== fwd.baseSeq;
  }

  /** The ISN of each direction: from its first packet, or from the first ACK of the other direction. */
  private recordBaseSeq(fwd: TcpFlow, rev: TcpFlow): void {
    if (!fwd.baseSeqSet) {
      fwd.baseSeq = this.tcpFlags & SYN ? this.seq : (this.seq - 1) >>> 0;
      fwd.baseSeqSet = true;
    }
    if (!rev.baseSeqSet && this.tcpFlags & ACK) {
      rev.baseSeq = (this.ack - 1) >>> 0;
      rev.baseSeqSet = true;
    }
  }

  // ------------------------------------------------------------ the analysis (§5)

  private analyzeSequenceNumber(conv: TcpConversation, fwd: TcpFlow, rev: TcpFlow, r: AnalysisResult): void {
    let flags = r.flags;

    // Phase A: checks on the sender's packet.
    if (this.isZeroWindowProbe(fwd, rev)) {
      flags |= A.ZERO_WINDOW_PROBE;
    } else {
      if (this.isZeroWindow()) flags |= A.ZERO_WINDOW;
      if (this.isLostSegment(fwd)) {
        flags |= A.LOST_SEGMENT;
        fwd.validBif = false;
      }
      if (this.isKeepAlive(fwd)) flags |= A.KEEP_ALIVE;
      if (this.isWindowUpdate(fwd)) flags |= A.WINDOW_UPDATE;
      if (this.isWindowFull(rev)) flags |= A.WINDOW_FULL;
      if (this.isKeepAliveAck(fwd, rev)) flags |= A.KEEP_ALIVE_ACK;
      else if (this.isZeroWindowProbeAck(fwd, rev)) flags |= A.ZERO_WINDOW_PROBE_ACK;
      else if (this.isDuplicateAck(fwd)) {
        flags |= A.DUPLICATE_ACK;
        fwd.dupAckCount = fwd.dupAckCount === DUPACK_SENTINEL ? 1 : fwd.dupAckCount + 1;
        r.dupAckNum = fwd.dupAckCount;
        r.dupAckFrame = fwd.lastNonDupAckFrame;
      }
    }

    // Phase B: a changed ack value resets this direction's dup-ACK count.
    if (this.ack !== fwd.lastAck) {
      fwd.lastNonDupAckFrame = this.frame;
      fwd.dupAckCount = 0;
    }
    if (this.isAckedUnseenSegment(rev, r)) flags |= A.ACK_LOST_SEGMENT;

    // Phase C: the retransmission family, for segments that occupy sequence space.
    if (this.len > 0 || this.tcpFlags & (SYN | FIN)) flags |= this.retransmissionType(conv, fwd, rev, flags, r);

    // Phase D: state updates.
    this.updateSequenceState(fwd, flags);
    fwd.window = this.win;
    fwd.lastAck = this.ack;
    fwd.lastAckUs = this.us;
    fwd.lastAckNs = this.ns;
    fwd.lastFlags = flags;
    const unacked = rev.unacked;
    unacked.ack(this.ack);
    const acked = unacked.ackedFrame;
    if (acked !== 0) {
      r.acksFrame = acked;
      r.ackRttNs = deltaNs(this.us, this.ns, unacked.ackedUs, unacked.ackedNs);
    }
    rev.settleUnacked();
    if (this.trackBif) this.bytesInFlight(fwd, rev, r);
    if (this.tcpFlags & ACK) rev.validBif = true;
    r.flags = flags;
    if (flags !== 0 || r.acksFrame !== 0 || r.bytesInFlight > 0) r.hasAnalysis = true;
  }

  /** 1. Zero window probe: one byte at nextSeq while the receiver's last window was 0. */
  private isZeroWindowProbe(fwd: TcpFlow, rev: TcpFlow): boolean {
    return this.len === 1 && this.seq === fwd.nextSeq && rev.window === 0;
  }

  /** 2. Zero window: the packet advertises a window of 0 (not on SYN, FIN or RST). */
  private isZeroWindow(): boolean {
    return this.win === 0 && (this.tcpFlags & SYN_FIN_RST) === 0;
  }

  /** 3. Previous segment not captured: the packet starts beyond the highest sequence end seen. */
  private isLostSegment(fwd: TcpFlow): boolean {
    return fwd.nextSeq !== 0 && gtSeq(this.seq, fwd.nextSeq) && (this.tcpFlags & RST) === 0;
  }

  /** 4. Keep-alive: 0 or 1 byte one below nextSeq (position only). */
  private isKeepAlive(fwd: TcpFlow): boolean {
    return this.len <= 1 && (this.tcpFlags & SYN_FIN_RST) === 0 && this.seq === ((fwd.nextSeq - 1) >>> 0);
  }

  /** The common part of window update, keep-alive ACK, ZWP ACK and dup ACK: an empty segment at nextSeq repeating the ack. */
  private isBareRepeat(fwd: TcpFlow): boolean {
    return this.len === 0 && this.seq === fwd.nextSeq && this.ack === fwd.lastAck && (this.tcpFlags & SYN_FIN_RST) === 0;
  }

  /** 5. Window update: only the (raw) window changed. */
  private isWindowUpdate(fwd: TcpFlow): boolean {
    return this.win !== 0 && this.win !== fwd.window && this.isBareRepeat(fwd);
  }

  /** 6. Window full: the segment ends exactly at the receiver's advertised right edge (scale known). */
  private isWindowFull(rev: TcpFlow): boolean {
    if (this.len === 0 || rev.winScale === WSCALE_UNKNOWN || this.tcpFlags & SYN_FIN_RST) return false;
    const shift = rev.isFirstAck || rev.winScale === WSCALE_NOT_USED ? 0 : rev.winScale;
    const rightEdge = (rev.lastAck + ((rev.window << shift) >>> 0)) >>> 0;
    return ((this.seq + this.len) >>> 0) === rightEdge;
  }

  /** 7. Keep-alive ACK: a bare repeat, same window, answering a keep-alive. */
  private isKeepAliveAck(fwd: TcpFlow, rev: TcpFlow): boolean {
    return this.win !== 0 && this.win === fwd.window && (rev.lastFlags & A.KEEP_ALIVE) !== 0 && this.isBareRepeat(fwd);
  }

  /** 8. Zero window probe ACK: a bare repeat with the window still 0, answering a probe. */
  private isZeroWindowProbeAck(fwd: TcpFlow, rev: TcpFlow): boolean {
    return this.win === 0 && fwd.window === 0 && (rev.lastFlags & A.ZERO_WINDOW_PROBE) !== 0 && this.isBareRepeat(fwd);
  }

  /** 9. Duplicate ACK: a bare repeat with the same non-zero window (the ACK bit is not checked). */
  private isDuplicateAck(fwd: TcpFlow): boolean {
    return this.win !== 0 && this.win === fwd.window && this.isBareRepeat(fwd);
  }

  /**
   * §5.6 ACKed unseen segment: the ack goes beyond what the other side can have
   * sent contiguously. Over a hole we saw: flag and resync. Beyond everything:
   * flag once per stall: the other side's dup-ACK count then holds a sentinel (also
   * when it was not 0 and nothing is flagged) until that side's ack value changes.
   */
  private isAckedUnseenSegment(rev: TcpFlow, r: AnalysisResult): boolean {
    if (rev.maxSeqToBeAcked === 0 || !gtSeq(this.ack, rev.maxSeqToBeAcked) || (this.tcpFlags & ACK) === 0) return false;
    r.hasAnalysis = true; // Wireshark creates the record before deciding whether to flag
    if (ltSeq(rev.maxSeqToBeAcked, rev.nextSeq)) {
      rev.maxSeqToBeAcked = rev.nextSeq;
      return true;
    }
    // Beyond everything: flagged only if the other side's count was 0; the sentinel is set either way.
    const flag = rev.dupAckCount === 0;
    rev.dupAckCount = DUPACK_SENTINEL;
    return flag;
  }

  /** Phase C: at most one of spurious, fast, out-of-order or plain retransmission. */
  private retransmissionType(conv: TcpConversation, fwd: TcpFlow, rev: TcpFlow, flags: number, r: AnalysisResult): number {
    // C1: a keep-alive is never a retransmission.
    if (flags & A.KEEP_ALIVE) return 0;
    // C0, C2: "not advanced", except a multi-byte segment starting one below nextSeq (data after a ZWP).
    let notAdvanced = fwd.nextSeq !== 0 && ltSeq(this.seq, fwd.nextSeq);
    if (this.len > 1 && ((fwd.nextSeq - 1) >>> 0) === this.seq) notAdvanced = false;
    if (this.isSpuriousRetransmission(rev)) return A.SPURIOUS_RETRANSMISSION;
    if (this.fastFirst) {
      if (notAdvanced && this.isFastRetransmission(rev)) return A.FAST_RETRANSMISSION;
      if (notAdvanced && this.isOutOfOrder(conv, fwd)) return A.OUT_OF_ORDER;
    } else {
      if (notAdvanced && this.isOutOfOrder(conv, fwd)) return A.OUT_OF_ORDER;
      if (notAdvanced && this.isFastRetransmission(rev)) return A.FAST_RETRANSMISSION;
    }
    if (!notAdvanced) return 0;
    // C6: a plain retransmission.
    const u = fwd.unacked;
    if (u.count > 0) {
      r.rtoFrame = u.frame(0);
      r.rtoNs = deltaNs(this.us, this.ns, u.tsUs(0), u.tsNs(0));
    } else {
      r.rtoFrame = fwd.nextSeqFrame;
      r.rtoNs = deltaNs(this.us, this.ns, fwd.nextSeqUs, fwd.nextSeqNs);
    }
    return A.RETRANSMISSION;
  }

  /** C3 Spurious retransmission: data entirely below the receiver's last ack value. */
  private isSpuriousRetransmission(rev: TcpFlow): boolean {
    return this.len > 0 && rev.lastAck !== 0 && leSeq((this.seq + this.len) >>> 0, rev.lastAck);
  }

  /** C4 Fast retransmission: at the dup-acked number, after 2+ dup ACKs, within 20 ms of the receiver's last packet. */
  private isFastRetransmission(rev: TcpFlow): boolean {
    if (rev.dupAckCount < 2 || rev.lastAck !== this.seq) return false;
    const t = deltaNs(this.us, this.ns, rev.lastAckUs, rev.lastAckNs);
    return t >= 0 && t < FAST_RETRANSMISSION_NS;
  }

  /** C5 Out-of-order: soon after the highest segment (iRTT, or 3 ms), not ending exactly at nextSeq. */
  private isOutOfOrder(conv: TcpConversation, fwd: TcpFlow): boolean {
    const t = deltaNs(this.us, this.ns, fwd.nextSeqUs, fwd.nextSeqNs);
    // A negative iRTT (SYN stamped after its ACK) is a huge unsigned threshold in Wireshark.
    const threshold = conv.initialRttNs === 0 ? OUT_OF_ORDER_DEFAULT_NS : conv.initialRttNs < 0 ? Infinity : conv.initialRttNs;
    const end = (this.seq + this.len + (this.tcpFlags & (SYN | FIN) ? 1 : 0)) >>> 0;
    return t >= 0 && t < threshold && fwd.nextSeq !== end;
  }

  /** Phase D (§3, §4): the unacked list, nextSeq and maxSeqToBeAcked (neither moves on a zero window probe). */
  private updateSequenceState(fwd: TcpFlow, flags: number): void {
    let end = (this.seq + this.len) >>> 0;
    const synFin = (this.tcpFlags & (SYN | FIN)) !== 0;
    if ((this.len > 0 || synFin) && fwd.unacked.count < MAX_UNACKED_SEGMENTS) {
      // The SYN/FIN +1 is only counted for a segment that goes on the list (§4 caveat).
      if (synFin) end = (end + 1) >>> 0;
      fwd.pushUnacked(this.frame, this.seq, end, this.us, this.ns);
    }
    if (flags & A.ZERO_WINDOW_PROBE) return;
    if (fwd.nextSeq === 0 || gtSeq(end, fwd.nextSeq)) {
      fwd.nextSeq = end;
      fwd.nextSeqFrame = this.frame;
      fwd.nextSeqUs = this.us;
      fwd.nextSeqNs = this.ns;
    }
    if (fwd.maxSeqToBeAcked === 0 || this.seq === fwd.maxSeqToBeAcked) fwd.maxSeqToBeAcked = fwd.nextSeq;
  }

  /**
   * Bytes in flight as Wireshark counts them by default: the span of this direction's
   * unacked segments less what the receiver's last packet SACKed, shown on data
   * packets while no segment was lost (until the receiver ACKs again).
   */
  private bytesInFlight(fwd: TcpFlow, rev: TcpFlow, r: AnalysisResult): void {
    const u = fwd.unacked;
    if (this.len === 0 || u.count === 0 || !fwd.validBif) return;
    r.hasAnalysis = true; // Wireshark creates the record before checking the result
    const base = fwd.baseSeq;
    let first = (u.seq(u.count - 1) - base) >>> 0;
    let last = (u.nextSeq(u.count - 1) - base) >>> 0;
    for (let i = 0; i < u.count; i++) {
      const s = (u.seq(i) - base) >>> 0;
      const e = (u.nextSeq(i) - base) >>> 0;
      if (e > last) last = e;
      if (s < first) first = s;
    }
    // Data the receiver's last packet SACKed is not in flight.
    let delivered = 0;
    const sack = rev.sack;
    if (sack !== null) for (let i = 0; i < rev.sackCount; i++) delivered += (sack[2 * i + 1] - sack[2 * i]) >>> 0;
    // A SYN or FIN on this segment takes a sequence number but carries no byte.
    const synFin = this.tcpFlags & (SYN | FIN) ? 1 : 0;
    const inFlight = (last - first - delivered - synFin) >>> 0;
    if (inFlight > 0 && inFlight < 2_000_000_000) r.bytesInFlight = inFlight;
  }

  // ------------------------------------------------------------ after the analysis (§3, §6)

  private afterAnalysis(conv: TcpConversation, fwd: TcpFlow, rev: TcpFlow, windowScaleOption: number): void {
    const f = this.tcpFlags;
    if (windowScaleOption >= 0) fwd.winScale = Math.min(windowScaleOption, 14);
    if (f & SYN) {
      this.verifyWindowScaling(fwd, rev, (f & ACK) !== 0);
      fwd.isFirstAck = true;
      if ((f & ACK) === 0) {
        conv.lastSynUs = this.us;
        conv.lastSynNs = this.ns;
      }
    } else if (f & ACK) {
      if (conv.initialRttNs === 0 && (conv.lastSynUs !== 0 || conv.lastSynNs !== 0)) {
        conv.initialRttNs = deltaNs(this.us, this.ns, conv.lastSynUs, conv.lastSynNs);
      }
      fwd.isFirstAck = false;
    }
  }

  /** §6: a SYN without the option turns scaling off both ways; a SYN-ACK with it after such a SYN too. */
  private verifyWindowScaling(fwd: TcpFlow, rev: TcpFlow, isSynAck: boolean): void {
    if (fwd.winScale === WSCALE_UNKNOWN) {
      fwd.winScale = WSCALE_NOT_USED;
      rev.winScale = WSCALE_NOT_USED;
    } else if (isSynAck && rev.winScale === WSCALE_NOT_USED) {
      fwd.winScale = WSCALE_NOT_USED;
    }
  }
}
