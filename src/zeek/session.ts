/**
 * One Zeek TCP connection: Zeek's Connection plus its TCPSessionAdapter, i.e.
 * the per-packet processing (history letters, endpoint state machine,
 * sequence bookkeeping, close reporting) and the connection's timers.
 *
 * Functions carry the names of their Zeek counterparts so the two can be read
 * side by side; comments say what each rule does, not how Zeek spells it.
 */
import type { ChecksumVerdict } from '../decode/checksum.js';
import { TcpFlag } from '../decode/packet.js';
import { zeekConnState, type ZeekConnState } from './conn-state.js';
import { ENDPOINT_STATE_NAMES, EndpointState, type EndpointStateValue, isHandshakeState, seq32, seqDelta, ZeekEndpoint } from './endpoint.js';
import { ConnHistory, HistBit, ScaledCounter } from './history.js';
import { type ReassemblerHost, ZeekReassembler } from './reassembler.js';
import type { ZeekTimer } from './timers.js';
import type { ZeekTuning } from './tuning.js';

/** The history counters a ZeekEndpoint keeps. */
type ScaledCounterName = 'checksumErrors' | 'retransmissions' | 'zeroWindows' | 'gaps';

/** What the session needs to know about one TCP segment. */
export interface ZeekSegment {
  tsUs: number;
  frame: number;
  flags: number;
  seq: number;
  ack: number;
  /** Payload length from the IP length. */
  len: number;
  /** The whole payload was captured (Zeek: caplen >= len). */
  payloadCaptured: boolean;
  window: number;
  /** IP total length (ConnSize's *_ip_bytes). */
  ipBytes: number;
  /** Only 'bad' matters, and only when checksums are verified. */
  tcpChecksum: ChecksumVerdict;
}

/**
 * One side's (address, port) as a lookup key: address * 65536 + port for IPv4
 * (exact in a double), the 16 address bytes and the port as a short string for IPv6.
 */
export type EndpointKey = number | string;

/** The tracker around the sessions: clock, timers, removal. */
export interface SessionHost {
  readonly tuning: ZeekTuning;
  readonly likelyServerPorts: ReadonlySet<number>;
  readonly verifyChecksums: boolean;
  networkTime(): number;
  addTimer(due: number, fire: (now: number) => void): ZeekTimer;
  cancelTimer(t: ZeekTimer): void;
  remove(s: ZeekTcpSession): void;
}

/** A row of Zeek's conn.log for a TCP connection (the columns this emulation computes). */
export interface ZeekConn {
  orig_h: string;
  orig_p: number;
  resp_h: string;
  resp_p: number;
  /** First packet time, integer µs since the epoch. */
  ts: number;
  /** Last time minus first time, µs (Zeek leaves the column unset when it is 0). */
  duration: number;
  conn_state: ZeekConnState;
  history: string;
  orig_pkts: number;
  orig_ip_bytes: number;
  resp_pkts: number;
  resp_ip_bytes: number;
  /** Sequence-space sizes (Zeek logs them only when duration > 0). */
  orig_bytes: number;
  resp_bytes: number;
  missed_bytes: number;
  /** Endpoint states at removal, in Zeek's names (TCP_ prefix dropped). */
  orig_state: string;
  resp_state: string;
  /** Frame numbers of the first and last packet that reached this connection. */
  first_frame: number;
  last_frame: number;
}

/** updateStateMachine's answer, reused for every packet (read at once by its one caller). */
const CLOSE_DECISION = { doClose: false, genEvent: false };

const ORIG_SEEN = 1;
const RESP_SEEN = 2;
const TOO_LARGE_SEQ_DELTA = 1048576;
const { FIN, SYN, RST, ACK } = TcpFlag;

/** Letters other than control flags: A (pure ACK) or D (payload). */
export function writesAckOrData(flags: number, len: number): boolean {
  if (flags & (SYN | FIN | RST)) return false;
  return len > 0 || (flags & ACK) !== 0;
}

export class ZeekTcpSession implements ReassemblerHost {
  origAddr: string;
  origPort: number;
  respAddr: string;
  respPort: number;
  private origKey: EndpointKey;
  private respKey: EndpointKey;
  readonly startTime: number;
  lastTime: number;
  readonly history = new ConnHistory();
  orig: ZeekEndpoint;
  resp: ZeekEndpoint;
  readonly firstFrame: number;
  lastFrame: number;
  removed = false;
  missedBytes = 0;

  /** TCPSessionAdapter flags. */
  private isActive = true;
  private partial = false;
  private firstPacketSeen = 0;
  private closeDeferred = false;
  private deferredGenEvent = false;

  private inactivityTimeout = 0;
  /** What the last relativeSeq() said besides the number: it lay before the side's start. */
  private relUnderflow = false;
  private inactivityTimer: ZeekTimer | null = null;
  /** Pending analyzer timers, in the order they were set (a few at most: an array, not a Set per session). */
  private analyzerTimers: ZeekTimer[] = [];

  constructor(
    private readonly host: SessionHost,
    /** The connection's key in the session table: both endpoint keys, ordered. */
    readonly lowKey: EndpointKey,
    readonly highKey: EndpointKey,
    src: { addr: string; port: number; key: EndpointKey },
    dst: { addr: string; port: number; key: EndpointKey },
    tsUs: number,
    frame: number,
    flippedAtCreation: boolean,
  ) {
    this.origAddr = src.addr;
    this.origPort = src.port;
    this.origKey = src.key;
    this.respAddr = dst.addr;
    this.respPort = dst.port;
    this.respKey = dst.key;
    this.startTime = this.lastTime = tsUs;
    this.firstFrame = this.lastFrame = frame;
    if (flippedAtCreation) {
      this.flipAddresses();
      this.history.add('^');
    }

    this.orig = new ZeekEndpoint(true);
    this.resp = new ZeekEndpoint(false);
    this.orig.peer = this.resp;
    this.resp.peer = this.orig;
    this.orig.reassembler = new ZeekReassembler(this.orig, this, host.tuning);
    this.resp.reassembler = new ZeekReassembler(this.resp, this, host.tuning);

    this.addAnalyzerTimer(host.networkTime() + host.tuning.tcpSynTimeout, (t) => this.expireTimer(t));
    this.setInactivityTimeout(host.tuning.initialInactivityTimeout);
  }

  // ---------------------------------------------------------------- entry points

  /** The originator's (address, port) key: a packet from it is from the originator (the key moves to the other side when Zeek flips the connection). */
  get originatorKey(): EndpointKey {
    return this.origKey;
  }

  /** TCPAnalyzer::DeliverPacket: checksum, the SYN-ACK-first flip, processing, ConnSize. */
  deliver(seg: ZeekSegment, fromOrig: boolean): void {
    this.lastFrame = seg.frame;
    let isOrig = fromOrig;
    if (this.host.verifyChecksums && seg.payloadCaptured && seg.tcpChecksum === 'bad') {
      this.checksumError(isOrig ? this.orig : this.resp);
      return; // dropped: no state change, not counted
    }
    if (this.history.text === 'H' && writesAckOrData(seg.flags, seg.len)) {
      this.flipAfterSynAckFirst();
      isOrig = !isOrig;
    }
    this.process(isOrig, seg);
    const counted = isOrig ? this.orig : this.resp;
    counted.packets++;
    counted.ipBytes += seg.ipBytes;
  }

  /** TCPSessionAdapter::IsReuse: a SYN (or a SYN-ACK on a half connection) that starts a new connection. */
  isReuse(seg: ZeekSegment): boolean {
    if (!(seg.flags & SYN)) return false;
    let connOrig = this.orig;
    if (seg.flags & ACK) {
      if (this.orig.state !== EndpointState.INACTIVE) return false; // not a half connection
      connOrig = this.resp;
    }
    if (this.isClosed()) return true;
    if (seg.seq === connOrig.startSeq) return false; // a retransmitted SYN
    const reversedHandshake =
      !(seg.flags & ACK) && connOrig.state === EndpointState.SYN_ACK_SENT && this.resp.state === EndpointState.INACTIVE && seg.seq === this.resp.startSeq;
    return !reversedHandshake; // a new initial sequence number: SYN_seq_jump / active_connection_reuse
  }

  /** The conn.log row, as connection_state_remove would log it now. */
  toConn(): ZeekConn {
    const origSize = this.orig.size();
    const respSize = this.resp.size();
    return {
      orig_h: this.origAddr,
      orig_p: this.origPort,
      resp_h: this.respAddr,
      resp_p: this.respPort,
      ts: this.startTime,
      duration: this.lastTime - this.startTime,
      conn_state: zeekConnState({ orig: this.orig.state, resp: this.resp.state, origSize, respSize, history: this.history.text }),
      history: this.history.text,
      orig_pkts: this.orig.packets,
      orig_ip_bytes: this.orig.ipBytes,
      resp_pkts: this.resp.packets,
      resp_ip_bytes: this.resp.ipBytes,
      orig_bytes: origSize,
      resp_bytes: respSize,
      missed_bytes: this.missedBytes,
      orig_state: ENDPOINT_STATE_NAMES[this.orig.state],
      resp_state: ENDPOINT_STATE_NAMES[this.resp.state],
      first_frame: this.firstFrame,
      last_frame: this.lastFrame,
    };
  }

  /** Stops every timer (the session is being removed). */
  cancelAllTimers(): void {
    this.cancelAnalyzerTimers();
    if (this.inactivityTimer) this.host.cancelTimer(this.inactivityTimer);
    this.inactivityTimer = null;
  }

  // ---------------------------------------------------------------- roles

  private flipAddresses(): void {
    [this.origAddr, this.respAddr] = [this.respAddr, this.origAddr];
    [this.origPort, this.respPort] = [this.respPort, this.origPort];
    [this.origKey, this.respKey] = [this.respKey, this.origKey];
  }

  /** Connection::FlipRoles with the adapter's part: swap sides, mark '^'. */
  private flipRoles(): void {
    this.flipAddresses();
    [this.orig, this.resp] = [this.resp, this.orig];
    this.orig.isOrig = !this.orig.isOrig;
    this.resp.isOrig = !this.resp.isOrig;
    this.firstPacketSeen = (this.firstPacketSeen & ORIG_SEEN ? RESP_SEEN : 0) | (this.firstPacketSeen & RESP_SEEN ? ORIG_SEEN : 0);
    this.partial = false;
    this.history.add('^');
  }

  /**
   * A connection that began with a SYN-ACK (history exactly "H") sees an ACK or
   * data: the SYN-ACK's sender was the server. Flip, restart the history as
   * "^h", and treat the originator's missing SYN as seen.
   */
  private flipAfterSynAckFirst(): void {
    this.flipRoles();
    this.history.replace('^h');
    this.firstPacketSeen |= ORIG_SEEN;
  }

  // ---------------------------------------------------------------- history letters

  /** TCP_Endpoint::CheckHistory: responder letters are lower case and use the upper mask bits. */
  private checkHistory(ep: ZeekEndpoint, mask: number, code: string): boolean {
    return ep.isOrig ? this.history.check(mask, code) : this.history.check(mask << 16, code.toLowerCase());
  }

  private addHistory(ep: ZeekEndpoint, code: string): void {
    this.history.add(ep.isOrig ? code : code.toLowerCase());
  }

  /** C/G/T/W: a letter at the 1st, 10th, 100th... event of the kind. */
  private scaledHistory(ep: ZeekEndpoint, counter: ScaledCounterName, code: string): void {
    if ((ep[counter] ??= new ScaledCounter()).bump()) this.addHistory(ep, code);
  }

  private checksumError(ep: ZeekEndpoint): void {
    this.scaledHistory(ep, 'checksumErrors', 'C');
  }

  /** update_history: the letter(s) of one packet's flags. */
  private updateHistory(flags: number, ep: ZeekEndpoint, relSeq: number, len: number): void {
    const bitsSet = (flags & SYN ? 1 : 0) + (flags & FIN ? 1 : 0) + (flags & RST ? 1 : 0);
    if (bitsSet > 1) {
      if (flags & FIN && flags & RST) this.checkHistory(ep, HistBit.FIN_RST, 'I');
      else this.checkHistory(ep, HistBit.MULTI_FLAG, 'Q');
    } else if (bitsSet === 1) {
      if (flags & SYN) this.synLetter(flags, ep, relSeq);
      if (flags & FIN) this.finLetter(ep, relSeq + len);
      if (flags & RST) this.rstLetter(ep, relSeq);
    } else if (len > 0) {
      this.checkHistory(ep, HistBit.DATA, 'D');
    } else if (flags & ACK) {
      this.checkHistory(ep, HistBit.ACK, 'A');
    }
  }

  /** S or H: again only for a SYN at a new sequence number. */
  private synLetter(flags: number, ep: ZeekEndpoint, relSeq: number): void {
    const code = flags & ACK ? 'H' : 'S';
    if (this.checkHistory(ep, HistBit.SYN, code) && relSeq !== ep.histLastSyn) this.addHistory(ep, code);
    ep.histLastSyn = relSeq;
  }

  /** F: again only when the sequence number after the payload changed. */
  private finLetter(ep: ZeekEndpoint, seqAfterPayload: number): void {
    if (this.checkHistory(ep, HistBit.FIN, 'F') && seqAfterPayload !== ep.histLastFin) this.addHistory(ep, 'F');
    ep.histLastFin = seqAfterPayload;
  }

  /** R: again only for a RST at a new sequence number. */
  private rstLetter(ep: ZeekEndpoint, relSeq: number): void {
    if (this.checkHistory(ep, HistBit.RST, 'R') && relSeq !== ep.histLastRst) this.addHistory(ep, 'R');
    ep.histLastRst = relSeq;
  }

  /** update_window: a zero window counts unless it comes with a RST, after the peer's FIN, or after our RST. */
  private updateWindow(ep: ZeekEndpoint, window: number, flags: number): void {
    if (window === 0 && !(flags & RST) && ep.peer.state !== EndpointState.CLOSED && ep.state !== EndpointState.RESET) {
      this.scaledHistory(ep, 'zeroWindows', 'W');
    }
  }

  // ---------------------------------------------------------------- sequence bookkeeping

  /** init_endpoint: the first packet from a side sets its initial sequence numbers. */
  private initEndpoint(ep: ZeekEndpoint, flags: number, firstSegSeq: number, lastSeq: number): void {
    switch (ep.state) {
      case EndpointState.INACTIVE:
        if (flags & SYN) {
          ep.initAckSeq(firstSegSeq);
          ep.initStartSeq(firstSegSeq);
        } else {
          // Mid-stream: number as though a SYN preceded, and do not call the first packet a retransmission.
          ep.initAckSeq(firstSegSeq - 1);
          ep.initStartSeq(firstSegSeq - 1);
          lastSeq = firstSegSeq;
        }
        ep.initLastSeq(lastSeq);
        break;
      case EndpointState.SYN_SENT:
      case EndpointState.SYN_ACK_SENT:
        if (flags & SYN && firstSegSeq !== ep.startSeq) this.restartSequence(ep, firstSegSeq, lastSeq); // SYN_seq_jump
        break;
      case EndpointState.ESTABLISHED:
      case EndpointState.PARTIAL:
        if (flags & SYN) this.restartSequence(ep, firstSegSeq, lastSeq); // guess: this SYN really sets it up
        break;
      case EndpointState.RESET:
        // The numbers came from a RST that may have been injected: trust the SYN.
        if (flags & SYN && ep.prevState === EndpointState.INACTIVE) this.restartSequence(ep, firstSegSeq, lastSeq);
        break;
      default:
        break;
    }
  }

  private restartSequence(ep: ZeekEndpoint, firstSegSeq: number, lastSeq: number): void {
    ep.initStartSeq(firstSegSeq);
    ep.initAckSeq(firstSegSeq);
    ep.initLastSeq(lastSeq);
  }

  /**
   * get_relative_seq: a 32-bit number in a side's relative 64-bit space; `relUnderflow` says
   * whether it lies before the side's start (per packet: no object for the pair).
   */
  private relativeSeq(ep: ZeekEndpoint, cur: number, last: number, wraps: number): number {
    const delta = seqDelta(cur, last);
    if (delta < 0) {
      if (wraps && cur > last) wraps--; // part of a previous 32-bit space
    } else if (delta > 0) {
      if (cur < last) wraps++; // the space wrapped
    }
    if (wraps === 0) {
      const rel = seqDelta(cur, ep.startSeq);
      this.relUnderflow = rel < 0;
      return rel;
    }
    this.relUnderflow = false;
    return ep.toRelativeSeqSpace(cur, wraps);
  }

  /** init_peer: an ACK for a side we never heard from numbers that side as if it had sent a SYN. */
  private initPeer(peer: ZeekEndpoint, ackSeq: number): void {
    peer.initStartSeq(ackSeq - 1);
    peer.initAckSeq(ackSeq - 1);
    peer.initLastSeq(ackSeq - 1);
  }

  /** update_ack_seq: acknowledgements only move forward (an ACK of 0 far ahead is broken). */
  private updateAckSeq(ep: ZeekEndpoint, ackSeq: number): void {
    const deltaAck = seqDelta(ackSeq, ep.ackSeq);
    if (ackSeq === 0 && deltaAck > TOO_LARGE_SEQ_DELTA) return;
    if (deltaAck > 0) ep.updateAckSeq(ackSeq);
  }

  /** update_last_seq: advance the highest sequence sent; payload at or below it is a retransmission (T/t). */
  private updateLastSeq(ep: ZeekEndpoint, lastSeq: number, flags: number, len: number): void {
    const deltaLast = seqDelta(lastSeq, ep.lastSeq);
    if (flags & (SYN | RST) && (deltaLast > TOO_LARGE_SEQ_DELTA || deltaLast < -TOO_LARGE_SEQ_DELTA)) {
      // an implausible jump: ignore this sequence number
    } else if (flags & FIN && ep.lastSeq === seq32(ep.startSeq + 1)) {
      ep.updateLastSeq(lastSeq); // only SYN and FIN seen (transfers > 2 GB)
    } else if (ep.state === EndpointState.RESET) {
      // sequence numbers after our RST are not trusted
    } else if (deltaLast > 0) {
      ep.updateLastSeq(lastSeq);
    } else if (len > 0) {
      this.scaledHistory(ep, 'retransmissions', 'T');
    }
  }

  // ---------------------------------------------------------------- TCPSessionAdapter::Process

  private setPartialStatus(flags: number, isOrig: boolean): void {
    if (isOrig) {
      if (!(this.firstPacketSeen & ORIG_SEEN)) this.partial = !(flags & SYN) || (flags & ACK) !== 0;
    } else if (!(this.firstPacketSeen & RESP_SEEN) && !this.partial) {
      this.partial = !(flags & SYN);
    }
  }

  private process(isOrig: boolean, seg: ZeekSegment): void {
    const { flags, tsUs: t, len } = seg;
    const baseSeq = seg.seq;
    const ackSeq = seg.ack;
    const endpoint = isOrig ? this.orig : this.resp;
    const peer = endpoint.peer;

    this.setPartialStatus(flags, endpoint.isOrig);

    const segLen = len + (flags & SYN ? 1 : 0) + (flags & FIN ? 1 : 0) - (flags & RST ? len : 0);
    const seqOnePastSegment = seq32(baseSeq + segLen);
    this.initEndpoint(endpoint, flags, baseSeq, seqOnePastSegment);

    const relSeq = this.relativeSeq(endpoint, baseSeq, endpoint.lastSeq, endpoint.seqWraps);
    const seqUnderflow = this.relUnderflow;

    this.updateHistory(flags, endpoint, relSeq, len);
    this.updateWindow(endpoint, seg.window, flags);

    if (!this.orig.didClose || !this.resp.didClose) this.lastTime = t;

    if (flags & FIN) {
      endpoint.finCount++;
      endpoint.finSeq = relSeq + segLen;
    }
    if (flags & RST) endpoint.rstCount++;

    let relAck = 0;
    if (flags & ACK) {
      if (peer.state === EndpointState.INACTIVE) {
        relAck = 1;
        this.initPeer(peer, ackSeq);
      } else {
        const rel = this.relativeSeq(peer, ackSeq, peer.ackSeq, peer.ackWraps);
        if (this.relUnderflow) relAck = 0;
        else {
          relAck = rel;
          if (!(flags & RST)) this.updateAckSeq(peer, ackSeq); // ACKs in RSTs are not trusted
        }
      }
    }

    this.updateLastSeq(endpoint, seqOnePastSegment, flags, len);
    endpoint.lastTime = t;

    const { doClose, genEvent } = this.updateStateMachine(t, endpoint, peer, baseSeq, len, isOrig, flags);

    // After the state machine, so a gap revealed by a FIN or RST can be judged against the new states.
    if (flags & ACK) peer.reassembler.ackReceived(relAck);

    this.checkFirstPacket(isOrig);

    const relDataSeq = flags & SYN ? relSeq + 1 : relSeq;
    if (len > 0 && !(flags & RST) && !seqUnderflow && seg.payloadCaptured) endpoint.reassembler.dataSent(relDataSeq, len);

    endpoint.reassembler.checkEof();

    // After the data, so data carried by a FIN is processed first.
    if (doClose) this.connectionClosed(endpoint, peer, genEvent);
  }

  /** CheckPIA_FirstPacket: remembers that a side's first packet went through. */
  private checkFirstPacket(isOrig: boolean): void {
    this.firstPacketSeen |= isOrig ? ORIG_SEEN : RESP_SEEN;
  }

  // ---------------------------------------------------------------- the endpoint state machine

  /** TCP_Endpoint::SetState; leaving the handshake switches to the TCP inactivity timeout. */
  private setState(ep: ZeekEndpoint, s: EndpointStateValue): void {
    if (s === ep.state) return;
    if (!isHandshakeState(s) && isHandshakeState(ep.state) && isHandshakeState(ep.peer.state)) {
      this.setInactivityTimeout(this.host.tuning.tcpInactivityTimeout);
    }
    ep.prevState = ep.state;
    ep.state = s;
  }

  private updateStateMachine(
    t: number,
    endpoint: ZeekEndpoint,
    peer: ZeekEndpoint,
    baseSeq: number,
    len: number,
    isOrig: boolean,
    flags: number,
  ): { doClose: boolean; genEvent: boolean } {
    const r = CLOSE_DECISION;
    r.doClose = false;
    r.genEvent = false;
    switch (endpoint.state) {
      case EndpointState.INACTIVE:
        this.updateInactiveState(t, endpoint, peer, baseSeq, len, isOrig, flags, r);
        break;
      case EndpointState.SYN_SENT:
      case EndpointState.SYN_ACK_SENT:
        this.updateSynSentState(endpoint, flags, r);
        break;
      case EndpointState.ESTABLISHED:
      case EndpointState.PARTIAL:
        this.updateEstablishedState(endpoint, peer, flags, r);
        break;
      case EndpointState.CLOSED:
        this.updateClosedState(endpoint, flags, r);
        break;
      case EndpointState.RESET:
        break; // SYN_after_reset, FIN_after_reset, data_after_reset: weirds only
    }
    return r;
  }

  private updateInactiveState(
    t: number,
    endpoint: ZeekEndpoint,
    peer: ZeekEndpoint,
    baseSeq: number,
    len: number,
    isOrig: boolean,
    flags: number,
    r: { doClose: boolean; genEvent: boolean },
  ): void {
    if (flags & SYN) {
      if (isOrig) this.originatorOpens(t, endpoint, flags);
      else this.responderAnswers(endpoint, peer, baseSeq, flags);
    }

    if (flags & FIN) {
      this.setState(endpoint, EndpointState.CLOSED);
      r.doClose = r.genEvent = true; // spontaneous_FIN unless the peer is mid-stream or SYN is set
    }

    if (flags & RST) {
      this.setState(endpoint, EndpointState.RESET);
      const isReject = isOrig
        ? peer.state === EndpointState.ESTABLISHED // a SYN-ACK seen but no SYN: a reverse scan
        : peer.state === EndpointState.SYN_SENT || peer.state === EndpointState.SYN_ACK_SENT;
      r.doClose = true;
      r.genEvent = !isReject;
    }

    if (endpoint.state === EndpointState.INACTIVE) this.noControlFlags(endpoint, peer, len, isOrig, flags);
  }

  /** The originator's SYN (or SYN-ACK): SYN_SENT (or SYN_ACK_SENT) and the attempt timer. */
  private originatorOpens(t: number, endpoint: ZeekEndpoint, flags: number): void {
    this.setState(endpoint, flags & ACK ? EndpointState.SYN_ACK_SENT : EndpointState.SYN_SENT);
    if (this.host.tuning.tcpAttemptDelay) this.addAnalyzerTimer(t + this.host.tuning.tcpAttemptDelay, () => this.attemptTimer());
  }

  /** The responder's SYN or SYN-ACK establishes it, and a SYN_SENT originator with it. */
  private responderAnswers(endpoint: ZeekEndpoint, peer: ZeekEndpoint, baseSeq: number, flags: number): void {
    if (!(flags & ACK) && peer.state === EndpointState.SYN_ACK_SENT && baseSeq === endpoint.startSeq) {
      // The SYN-ACK was captured before this SYN: flip the roles and establish.
      this.partial = false;
      this.flipRoles();
      this.setState(peer, EndpointState.ESTABLISHED);
      this.firstPacketSeen |= ORIG_SEEN;
    }
    if (peer.state === EndpointState.SYN_SENT) this.setState(peer, EndpointState.ESTABLISHED);
    // (a silent originator: unsolicited_SYN_response; another pure SYN: simultaneous_open)
    this.setState(endpoint, EndpointState.ESTABLISHED);
    if (peer.state !== EndpointState.PARTIAL) this.connectionEstablished();
  }

  /** Data or ACK from a side that sent no SYN, FIN or RST yet. */
  private noControlFlags(endpoint: ZeekEndpoint, peer: ZeekEndpoint, len: number, isOrig: boolean, flags: number): void {
    if (!isOrig && len === 0 && this.orig.state === EndpointState.SYN_SENT) {
      // Some stacks ACK a SYN before answering it: not a partial connection.
    } else if (flags & ACK && peer.state === EndpointState.ESTABLISHED) {
      // We missed this side's SYN but saw the peer's SYN-ACK.
      this.setState(endpoint, EndpointState.ESTABLISHED);
      this.partial = false;
      this.firstPacketSeen |= isOrig ? ORIG_SEEN : RESP_SEEN;
    } else {
      this.setState(endpoint, EndpointState.PARTIAL);
    }
  }

  private updateSynSentState(endpoint: ZeekEndpoint, flags: number, r: { doClose: boolean; genEvent: boolean }): void {
    if (flags & FIN) {
      this.setState(endpoint, EndpointState.CLOSED); // inappropriate_FIN if the peer is silent
      r.doClose = r.genEvent = true;
    }
    if (flags & RST) {
      this.setState(endpoint, EndpointState.RESET);
      this.connectionReset();
      r.doClose = true;
    }
  }

  private updateEstablishedState(endpoint: ZeekEndpoint, peer: ZeekEndpoint, flags: number, r: { doClose: boolean; genEvent: boolean }): void {
    if (flags & SYN && endpoint.state === EndpointState.PARTIAL && peer.state === EndpointState.INACTIVE && !(flags & ACK)) {
      this.setState(endpoint, EndpointState.SYN_SENT); // SYN_after_partial
    }
    if (flags & FIN && !(flags & RST)) {
      this.setState(endpoint, EndpointState.CLOSED);
      // The peer sent FIN then RST: that was a normal close after all.
      if (peer.state === EndpointState.RESET && peer.prevState === EndpointState.CLOSED) this.setState(peer, EndpointState.CLOSED);
      r.doClose = r.genEvent = true;
    }
    if (flags & RST) {
      this.setState(endpoint, EndpointState.RESET);
      r.doClose = true;
      if (peer.state !== EndpointState.RESET || peer.prevState !== EndpointState.ESTABLISHED) this.connectionReset();
    }
  }

  /** After our FIN, a RST counts only if the peer has not closed too. */
  private updateClosedState(endpoint: ZeekEndpoint, flags: number, r: { doClose: boolean; genEvent: boolean }): void {
    if (flags & RST && endpoint.peer.state !== EndpointState.CLOSED) {
      this.setState(endpoint, EndpointState.RESET);
      if (!endpoint.didClose) r.doClose = true; // RST after FIN
    }
  }

  // ---------------------------------------------------------------- closing

  /** TCPSessionAdapter::ConnectionClosed: report a side's close, arm the removal. */
  private connectionClosed(endpoint: ZeekEndpoint, peer: ZeekEndpoint, genEvent: boolean): void {
    if (endpoint.reassembler.dataPending()) {
      // Wait for the data still to be delivered before reporting the close.
      this.closeDeferred = true;
      if (!this.deferredGenEvent) this.deferredGenEvent = genEvent;
      return;
    }
    this.closeDeferred = false;
    if (endpoint.didClose) return;
    endpoint.didClose = true;

    const closeComplete = endpoint.state === EndpointState.RESET || peer.didClose || peer.state === EndpointState.INACTIVE;
    if (closeComplete) {
      if (endpoint.prevState !== EndpointState.INACTIVE || peer.state !== EndpointState.INACTIVE) {
        if (this.deferredGenEvent) {
          genEvent = true;
          this.deferredGenEvent = false;
        }
        if (genEvent) this.connectionFinished();
      }
      this.cancelAnalyzerTimers();
      this.addAnalyzerTimer(this.lastTime + this.host.tuning.tcpCloseDelay, () => this.host.remove(this));
    } else if (endpoint.prevState !== EndpointState.INACTIVE) {
      // A half close: look again later for the other side closing.
      this.addAnalyzerTimer(this.lastTime + this.host.tuning.tcpSessionTimer, (now) => this.expireTimer(now));
    }
  }

  private connectionFinished(): void {
    this.isActive = false;
  }

  private connectionReset(): void {
    this.isActive = false;
  }

  /** Seen from the connection_established event: base/protocols/conn/inactivity.zeek. */
  private connectionEstablished(): void {
    let servicePort = this.respPort;
    const likely = this.host.likelyServerPorts;
    if (this.orig.state === EndpointState.INACTIVE && !likely.has(servicePort) && likely.has(this.origPort)) servicePort = this.origPort;
    const timeout = this.host.tuning.portInactivityTimeouts.get(servicePort);
    if (timeout !== undefined) this.setInactivityTimeout(timeout);
  }

  private isClosed(): boolean {
    return this.orig.didClose || this.resp.didClose;
  }

  // ---------------------------------------------------------------- ReassemblerHost

  isPartial(): boolean {
    return this.partial;
  }

  contentGap(r: ZeekReassembler, _seq: number, len: number): void {
    const ep = r.endp;
    // Only connections established (or cleanly closing) on both sides get a letter and missed_bytes.
    if (isClean(ep) && isClean(ep.peer)) {
      this.scaledHistory(ep, 'gaps', 'G');
      this.missedBytes += len;
    }
  }

  endpointEof(r: ZeekReassembler): void {
    if (!this.closeDeferred) return;
    this.connectionClosed(r.endp, r.endp.peer, this.deferredGenEvent);
    this.closeDeferred = false;
  }

  // ---------------------------------------------------------------- timers

  private addAnalyzerTimer(due: number, fire: (now: number) => void): void {
    if (this.removed) return;
    const timer = this.host.addTimer(due, (now) => {
      const i = this.analyzerTimers.indexOf(timer);
      if (i >= 0) this.analyzerTimers.splice(i, 1);
      fire(now);
    });
    this.analyzerTimers.push(timer);
  }

  private cancelAnalyzerTimers(): void {
    for (const timer of this.analyzerTimers) this.host.cancelTimer(timer);
    this.analyzerTimers = [];
  }

  /** Session::SetInactivityTimeout: re-arm at last activity + timeout. */
  private setInactivityTimeout(timeout: number): void {
    if (timeout === this.inactivityTimeout) return;
    if (this.inactivityTimer) this.host.cancelTimer(this.inactivityTimer);
    this.inactivityTimer = null;
    if (timeout) this.armInactivityTimer(this.lastTime + timeout);
    this.inactivityTimeout = timeout;
  }

  private armInactivityTimer(due: number): void {
    if (this.removed) return;
    this.inactivityTimer = this.host.addTimer(due, (now) => this.inactivityTimerFired(now));
  }

  private inactivityTimerFired(now: number): void {
    this.inactivityTimer = null;
    if (this.lastTime + this.inactivityTimeout <= now) this.host.remove(this);
    else this.armInactivityTimer(this.lastTime + this.inactivityTimeout);
  }

  /** A SYN nobody answered: log the attempt (S0) and forget the connection. */
  private attemptTimer(): void {
    if (!this.isActive) return;
    const opened = this.orig.state === EndpointState.SYN_SENT || this.orig.state === EndpointState.SYN_ACK_SENT;
    if (opened && this.resp.state === EndpointState.INACTIVE) {
      this.isActive = false;
      this.host.remove(this);
    }
  }

  /** Idle for tcp_connection_linger after a close (or with nothing ever processed): remove; else look again. */
  private expireTimer(now: number): void {
    if (!this.isActive) return;
    const { orig, resp } = this;
    if (this.lastTime + this.host.tuning.tcpConnectionLinger < now) {
      if (orig.didClose || resp.didClose) {
        const anyReset = orig.state === EndpointState.RESET || resp.state === EndpointState.RESET;
        const anyInactive = orig.state === EndpointState.INACTIVE || resp.state === EndpointState.INACTIVE;
        if ((orig.didClose && resp.didClose) || anyReset || anyInactive) {
          this.isActive = false;
          this.host.remove(this);
          return;
        }
      }
      if (resp.state === EndpointState.INACTIVE && orig.state === EndpointState.INACTIVE) {
        this.host.remove(this); // nothing was ever processed (e.g. only a bad checksum)
        return;
      }
    }
    this.addAnalyzerTimer(now + this.host.tuning.tcpSessionTimer, (t) => this.expireTimer(t));
  }
}

/** Established, or closed straight from established. */
function isClean(ep: ZeekEndpoint): boolean {
  return ep.state === EndpointState.ESTABLISHED || (ep.state === EndpointState.CLOSED && ep.prevState === EndpointState.ESTABLISHED);
}
