/**
 * Zeek's TCP connections on the rows of the connection table: Zeek's
 * Connection plus its TCPSessionAdapter, i.e. the per-packet processing
 * (history letters, endpoint state machine, sequence bookkeeping, close
 * reporting) and the connection's timers, with every number in columns
 * (no object per connection). A row holds at most one Zeek connection at a
 * time; `serial` names it (0: none), so that a timer set for an earlier
 * connection on the row is known to be stale.
 *
 * Functions carry the names of their Zeek counterparts so the two can be read
 * side by side; comments say what each rule does, not how Zeek spells it. An
 * endpoint is (row, end): `me` the packet's sender, `peer` the other end.
 */
import type { ChecksumVerdict } from '../decode/checksum.js';
import { TcpFlag } from '../decode/packet.js';
import type { ColumnSet } from '../conn/columns.js';
import type { ConnTable } from '../conn/table.js';
import { zeekConnState, type ZeekConnState } from './conn-state.js';
import {
  ENDPOINT_STATE_NAMES,
  EndpointState,
  Endpoints,
  type EndpointColumns,
  type EndpointStateValue,
  endpointSize,
  isHandshakeState,
  restartSequence,
  seq32,
  seqDelta,
  toFullSeqSpace,
  updateAckSeq as advanceAckSeq,
  updateLastSeq as advanceLastSeq,
} from './endpoint.js';
import { CARET, HistBit, HistoryStore, bumpScaled } from './history.js';
import { type ReassemblerHost, Reassembler } from './reassembler.js';
import type { ZeekTimerHeap } from './timers.js';
import type { ZeekTuning } from './tuning.js';

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

/** The tracker around the sessions: clock and removal. */
export interface SessionHost {
  readonly tuning: ZeekTuning;
  readonly likelyServerPorts: ReadonlySet<number>;
  readonly verifyChecksums: boolean;
  networkTime(): number;
  /** session_mgr->Remove: log and forget the connection on `row`. */
  remove(row: number): void;
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

/** @deprecated Zeek's connections are rows now (src/flow/flow.ts still names this for its unused zeekHint). */
export type ZeekTcpSession = never;

/** The per-connection fields, one column each. */
const SESSION_COLUMNS = {
  /** The connection on the row (0: none): a number no other connection had. */
  serial: Uint32Array,
  /** The row's end (conn/table.ts) that is the originator; Zeek's flips change it. */
  origEnd: Uint8Array,
  /** Both endpoints are the same address and port: every packet is the originator's. */
  selfPair: Uint8Array,
  startTime: Float64Array,
  lastTime: Float64Array,
  firstFrame: Float64Array,
  lastFrame: Float64Array,
  missedBytes: Float64Array,
  /** TCPSessionAdapter flags. */
  isActive: Uint8Array,
  partial: Uint8Array,
  firstPacketSeen: Uint8Array,
  closeDeferred: Uint8Array,
  deferredGenEvent: Uint8Array,
  inactivityTimeout: Float64Array,
  /** The order of the inactivity timer set (-1: none). */
  inactivityOrder: Float64Array,
  /** Analyzer timers set since their last cancellation belong to this epoch; and how many are queued. */
  timerEpoch: Uint32Array,
  analyzerTimers: Uint16Array,
};

/** Timer kinds (ZeekTimerHeap entries). */
export const TimerKind = {
  /** tcp_expire: idle after a close, or nothing ever processed. */
  EXPIRE: 0,
  /** tcp_attempt: a SYN nobody answered. */
  ATTEMPT: 1,
  /** tcp_close_delay after a complete close: remove. */
  REMOVE: 2,
  /** Session::InactivityTimer. */
  INACTIVITY: 3,
} as const;

const ORIG_SEEN = 1;
const RESP_SEEN = 2;
const TOO_LARGE_SEQ_DELTA = 1048576;
const { FIN, SYN, RST, ACK } = TcpFlag;
const [LETTER_S, LETTER_H, LETTER_A, LETTER_D, LETTER_F, LETTER_R, LETTER_C, LETTER_G, LETTER_T, LETTER_W, LETTER_I, LETTER_Q, LETTER_h] = [...'SHADFRCGTWIQh'].map((c) => c.charCodeAt(0));

/** Letters other than control flags: A (pure ACK) or D (payload). */
export function writesAckOrData(flags: number, len: number): boolean {
  if (flags & (SYN | FIN | RST)) return false;
  return len > 0 || (flags & ACK) !== 0;
}

export class TcpSessions implements ReassemblerHost {
  private readonly cols: ColumnSet<typeof SESSION_COLUMNS>;
  readonly ends: Endpoints;
  readonly history: HistoryStore;
  readonly reassembler: Reassembler;
  private serials = 0;

  /** What the last relativeSeq() said besides the number: it lay before the side's start. */
  private relUnderflow = false;
  /** updateStateMachine's answer (read at once by its one caller). */
  private doClose = false;
  private genEvent = false;
  /** The heap's test for an entry (made once: compaction takes it). */
  readonly stands = (row: number, serial: number, kind: number, epoch: number, order: number): boolean =>
    this.cols.c.serial[row] === serial && (kind === TimerKind.INACTIVITY ? this.cols.c.inactivityOrder[row] === order : this.cols.c.timerEpoch[row] === epoch);

  constructor(
    private readonly host: SessionHost,
    private readonly table: ConnTable,
    private readonly timers: ZeekTimerHeap,
  ) {
    this.cols = table.columns(SESSION_COLUMNS);
    this.ends = new Endpoints(table);
    this.history = new HistoryStore(table);
    this.reassembler = new Reassembler(this.ends, this, host.tuning);
  }

  // ---------------------------------------------------------------- the row's connection

  /** The row holds a Zeek connection. */
  has(row: number): boolean {
    return this.cols.c.serial[row] !== 0;
  }

  serialOf(row: number): number {
    return this.cols.c.serial[row];
  }

  /**
   * A new connection on `row` (Connection's constructor): its first packet came from end `srcEnd`
   * of the row, at `tsUs`; `flipped` when the port heuristic makes the receiver the originator.
   */
  begin(row: number, srcEnd: number, selfPair: boolean, tsUs: number, frame: number, flipped: boolean): void {
    // Field by field (see Endpoints.reset).
    const s = this.cols.c;
    this.serials = (this.serials + 1) >>> 0 || 1;
    s.serial[row] = this.serials;
    s.origEnd[row] = flipped ? 1 - srcEnd : srcEnd;
    s.selfPair[row] = selfPair ? 1 : 0;
    s.startTime[row] = s.lastTime[row] = tsUs;
    s.firstFrame[row] = s.lastFrame[row] = frame;
    s.missedBytes[row] = 0;
    s.isActive[row] = 1;
    s.partial[row] = s.firstPacketSeen[row] = s.closeDeferred[row] = s.deferredGenEvent[row] = 0;
    s.inactivityTimeout[row] = 0;
    s.inactivityOrder[row] = -1;
    s.timerEpoch[row] = s.analyzerTimers[row] = 0;
    this.history.reset(row);
    if (flipped) this.history.add(row, CARET);
    this.ends.reset(row, 0);
    this.ends.reset(row, 1);

    const tuning = this.host.tuning;
    this.addAnalyzerTimer(row, this.host.networkTime() + tuning.tcpSynTimeout, TimerKind.EXPIRE);
    this.setInactivityTimeout(row, tuning.initialInactivityTimeout);
  }

  /** The connection leaves the row: its timers are canceled, its lists given back. Read `toConn` first. */
  end(row: number): void {
    this.cancelAnalyzerTimers(row);
    this.cancelInactivityTimer(row);
    this.history.release(row);
    this.reassembler.release(row, 0);
    this.reassembler.release(row, 1);
    this.cols.c.serial[row] = 0;
  }

  /** The row end a packet from end `dir` of the row is from, as Zeek tells it (all the originator's on a pair of one endpoint). */
  senderEnd(row: number, dir: number): number {
    const s = this.cols.c;
    return s.selfPair[row] ? s.origEnd[row] : dir;
  }

  /** The conn.log row, as connection_state_remove would log it now: made at the edge, when logged. */
  toConn(row: number): ZeekConn {
    const s = this.cols.c;
    const o = s.origEnd[row];
    const O = this.ends.at[o].c;
    const R = this.ends.at[1 - o].c;
    const origSize = endpointSize(O, row, R.state[row]);
    const respSize = endpointSize(R, row, O.state[row]);
    const history = this.history.text(row);
    const orig = O.state[row] as EndpointStateValue;
    const resp = R.state[row] as EndpointStateValue;
    return {
      orig_h: this.table.address(row, o),
      orig_p: this.table.port(row, o),
      resp_h: this.table.address(row, 1 - o),
      resp_p: this.table.port(row, 1 - o),
      ts: s.startTime[row],
      duration: s.lastTime[row] - s.startTime[row],
      conn_state: zeekConnState({ orig, resp, origSize, respSize, history }),
      history,
      orig_pkts: O.packets[row],
      orig_ip_bytes: O.ipBytes[row],
      resp_pkts: R.packets[row],
      resp_ip_bytes: R.ipBytes[row],
      orig_bytes: origSize,
      resp_bytes: respSize,
      missed_bytes: s.missedBytes[row],
      orig_state: ENDPOINT_STATE_NAMES[orig],
      resp_state: ENDPOINT_STATE_NAMES[resp],
      first_frame: s.firstFrame[row],
      last_frame: s.lastFrame[row],
    };
  }

  // ---------------------------------------------------------------- entry points

  /** TCPAnalyzer::DeliverPacket: checksum, the SYN-ACK-first flip, processing, ConnSize. `me`: the sender's end. */
  deliver(row: number, me: number, seg: ZeekSegment): void {
    const s = this.cols.c;
    s.lastFrame[row] = seg.frame;
    let isOrig = me === s.origEnd[row];
    if (this.host.verifyChecksums && seg.payloadCaptured && seg.tcpChecksum === 'bad') {
      this.checksumError(row, me);
      return; // dropped: no state change, not counted
    }
    if (this.history.is(row, LETTER_H) && writesAckOrData(seg.flags, seg.len)) {
      this.flipAfterSynAckFirst(row);
      isOrig = !isOrig;
    }
    this.process(row, me, isOrig, seg);
    const E = this.ends.at[me].c;
    E.packets[row]++;
    E.ipBytes[row] += seg.ipBytes;
  }

  /** TCPSessionAdapter::IsReuse: a SYN (or a SYN-ACK on a half connection) that starts a new connection. */
  isReuse(row: number, seg: ZeekSegment): boolean {
    if (!(seg.flags & SYN)) return false;
    const o = this.cols.c.origEnd[row];
    let connOrig = o;
    if (seg.flags & ACK) {
      if (this.ends.at[o].c.state[row] !== EndpointState.INACTIVE) return false; // not a half connection
      connOrig = 1 - o;
    }
    if (this.isClosed(row)) return true;
    const C = this.ends.at[connOrig].c;
    const R = this.ends.at[1 - o].c;
    if (seg.seq === C.startSeq[row]) return false; // a retransmitted SYN
    const reversedHandshake =
      !(seg.flags & ACK) && C.state[row] === EndpointState.SYN_ACK_SENT && R.state[row] === EndpointState.INACTIVE && seg.seq === R.startSeq[row];
    return !reversedHandshake; // a new initial sequence number: SYN_seq_jump / active_connection_reuse
  }

  // ---------------------------------------------------------------- roles

  /** Connection::FlipRoles with the adapter's part: swap sides, mark '^'. The endpoints stay on their ends. */
  private flipRoles(row: number): void {
    const s = this.cols.c;
    s.origEnd[row] ^= 1;
    const seen = s.firstPacketSeen[row];
    s.firstPacketSeen[row] = (seen & ORIG_SEEN ? RESP_SEEN : 0) | (seen & RESP_SEEN ? ORIG_SEEN : 0);
    s.partial[row] = 0;
    this.history.add(row, CARET);
  }

  /**
   * A connection that began with a SYN-ACK (history exactly "H") sees an ACK or
   * data: the SYN-ACK's sender was the server. Flip, restart the history as
   * "^h", and treat the originator's missing SYN as seen.
   */
  private flipAfterSynAckFirst(row: number): void {
    this.flipRoles(row);
    this.history.replace2(row, CARET, LETTER_h);
    this.cols.c.firstPacketSeen[row] |= ORIG_SEEN;
  }

  /** The endpoint on end `end` is the responder now. */
  private isResp(row: number, end: number): boolean {
    return end !== this.cols.c.origEnd[row];
  }

  // ---------------------------------------------------------------- history letters

  /** TCP_Endpoint::CheckHistory: responder letters are lower case and use the upper mask bits. */
  private checkHistory(row: number, end: number, mask: number, code: number): boolean {
    return this.history.check(row, mask, code, this.isResp(row, end));
  }

  private addHistory(row: number, end: number, code: number): void {
    this.history.addSide(row, code, this.isResp(row, end));
  }

  private checksumError(row: number, end: number): void {
    const E = this.ends.at[end].c;
    if (bumpScaled(E.checksumErrors, E.checksumErrorsNext, row)) this.addHistory(row, end, LETTER_C);
  }

  /** update_history: the letter(s) of one packet's flags. */
  private updateHistory(row: number, flags: number, me: number, relSeq: number, len: number): void {
    const bitsSet = (flags & SYN ? 1 : 0) + (flags & FIN ? 1 : 0) + (flags & RST ? 1 : 0);
    if (bitsSet > 1) {
      if (flags & FIN && flags & RST) this.checkHistory(row, me, HistBit.FIN_RST, LETTER_I);
      else this.checkHistory(row, me, HistBit.MULTI_FLAG, LETTER_Q);
    } else if (bitsSet === 1) {
      const E = this.ends.at[me].c;
      if (flags & SYN) {
        // S or H: again only for a SYN at a new sequence number.
        const code = flags & ACK ? LETTER_H : LETTER_S;
        if (this.checkHistory(row, me, HistBit.SYN, code) && relSeq !== E.histLastSyn[row]) this.addHistory(row, me, code);
        E.histLastSyn[row] = relSeq;
      }
      if (flags & FIN) {
        // F: again only when the sequence number after the payload changed.
        const seqAfterPayload = relSeq + len;
        if (this.checkHistory(row, me, HistBit.FIN, LETTER_F) && seqAfterPayload !== E.histLastFin[row]) this.addHistory(row, me, LETTER_F);
        E.histLastFin[row] = seqAfterPayload;
      }
      if (flags & RST) {
        // R: again only for a RST at a new sequence number.
        if (this.checkHistory(row, me, HistBit.RST, LETTER_R) && relSeq !== E.histLastRst[row]) this.addHistory(row, me, LETTER_R);
        E.histLastRst[row] = relSeq;
      }
    } else if (len > 0) {
      this.checkHistory(row, me, HistBit.DATA, LETTER_D);
    } else if (flags & ACK) {
      this.checkHistory(row, me, HistBit.ACK, LETTER_A);
    }
  }

  /** update_window: a zero window counts unless it comes with a RST, after the peer's FIN, or after our RST. */
  private updateWindow(row: number, me: number, window: number, flags: number): void {
    const E = this.ends.at[me].c;
    if (window === 0 && !(flags & RST) && this.ends.at[1 - me].c.state[row] !== EndpointState.CLOSED && E.state[row] !== EndpointState.RESET) {
      if (bumpScaled(E.zeroWindows, E.zeroWindowsNext, row)) this.addHistory(row, me, LETTER_W);
    }
  }

  // ---------------------------------------------------------------- sequence bookkeeping

  /** init_endpoint: the first packet from a side sets its initial sequence numbers. */
  private initEndpoint(row: number, E: EndpointColumns, flags: number, firstSegSeq: number, lastSeq: number): void {
    switch (E.state[row]) {
      case EndpointState.INACTIVE:
        if (flags & SYN) restartSequence(E, row, firstSegSeq, firstSegSeq, lastSeq);
        // Mid-stream: number as though a SYN preceded, and do not call the first packet a retransmission.
        else restartSequence(E, row, firstSegSeq - 1, firstSegSeq - 1, firstSegSeq);
        break;
      case EndpointState.SYN_SENT:
      case EndpointState.SYN_ACK_SENT:
        if (flags & SYN && firstSegSeq !== E.startSeq[row]) restartSequence(E, row, firstSegSeq, firstSegSeq, lastSeq); // SYN_seq_jump
        break;
      case EndpointState.ESTABLISHED:
      case EndpointState.PARTIAL:
        if (flags & SYN) restartSequence(E, row, firstSegSeq, firstSegSeq, lastSeq); // guess: this SYN really sets it up
        break;
      case EndpointState.RESET:
        // The numbers came from a RST that may have been injected: trust the SYN.
        if (flags & SYN && E.prevState[row] === EndpointState.INACTIVE) restartSequence(E, row, firstSegSeq, firstSegSeq, lastSeq);
        break;
      default:
        break;
    }
  }

  /**
   * get_relative_seq: a 32-bit number in a side's relative 64-bit space; `relUnderflow` says
   * whether it lies before the side's start (per packet: no object for the pair).
   */
  private relativeSeq(row: number, E: EndpointColumns, cur: number, last: number, wraps: number): number {
    const delta = seqDelta(cur, last);
    if (delta < 0) {
      if (wraps && cur > last) wraps--; // part of a previous 32-bit space
    } else if (delta > 0) {
      if (cur < last) wraps++; // the space wrapped
    }
    if (wraps === 0) {
      const rel = seqDelta(cur, E.startSeq[row]);
      this.relUnderflow = rel < 0;
      return rel;
    }
    this.relUnderflow = false;
    return toFullSeqSpace(cur, wraps) - E.startSeq[row];
  }

  /** update_ack_seq: acknowledgements only move forward (an ACK of 0 far ahead is broken). */
  private updateAckSeq(row: number, P: EndpointColumns, ackSeq: number): void {
    const deltaAck = seqDelta(ackSeq, P.ackSeq[row]);
    if (ackSeq === 0 && deltaAck > TOO_LARGE_SEQ_DELTA) return;
    if (deltaAck > 0) advanceAckSeq(P, row, ackSeq);
  }

  /** update_last_seq: advance the highest sequence sent; payload at or below it is a retransmission (T/t). */
  private updateLastSeq(row: number, me: number, lastSeq: number, flags: number, len: number): void {
    const E = this.ends.at[me].c;
    const deltaLast = seqDelta(lastSeq, E.lastSeq[row]);
    if (flags & (SYN | RST) && (deltaLast > TOO_LARGE_SEQ_DELTA || deltaLast < -TOO_LARGE_SEQ_DELTA)) {
      // an implausible jump: ignore this sequence number
    } else if (flags & FIN && E.lastSeq[row] === seq32(E.startSeq[row] + 1)) {
      advanceLastSeq(E, row, lastSeq); // only SYN and FIN seen (transfers > 2 GB)
    } else if (E.state[row] === EndpointState.RESET) {
      // sequence numbers after our RST are not trusted
    } else if (deltaLast > 0) {
      advanceLastSeq(E, row, lastSeq);
    } else if (len > 0) {
      if (bumpScaled(E.retransmissions, E.retransmissionsNext, row)) this.addHistory(row, me, LETTER_T);
    }
  }

  // ---------------------------------------------------------------- TCPSessionAdapter::Process

  private setPartialStatus(row: number, flags: number, isOrig: boolean): void {
    const s = this.cols.c;
    if (isOrig) {
      if (!(s.firstPacketSeen[row] & ORIG_SEEN)) s.partial[row] = !(flags & SYN) || (flags & ACK) !== 0 ? 1 : 0;
    } else if (!(s.firstPacketSeen[row] & RESP_SEEN) && !s.partial[row]) {
      s.partial[row] = !(flags & SYN) ? 1 : 0;
    }
  }

  /** `isOrig`: the sender's role when the packet came (a flip during processing does not change it). */
  private process(row: number, me: number, isOrig: boolean, seg: ZeekSegment): void {
    const { flags, tsUs: t, len } = seg;
    const baseSeq = seg.seq;
    const ackSeq = seg.ack;
    const peer = 1 - me;
    const E = this.ends.at[me].c;
    const P = this.ends.at[peer].c;
    const s = this.cols.c;

    this.setPartialStatus(row, flags, !this.isResp(row, me));

    const segLen = len + (flags & SYN ? 1 : 0) + (flags & FIN ? 1 : 0) - (flags & RST ? len : 0);
    const seqOnePastSegment = seq32(baseSeq + segLen);
    this.initEndpoint(row, E, flags, baseSeq, seqOnePastSegment);

    const relSeq = this.relativeSeq(row, E, baseSeq, E.lastSeq[row], E.seqWraps[row]);
    const seqUnderflow = this.relUnderflow;

    this.updateHistory(row, flags, me, relSeq, len);
    this.updateWindow(row, me, seg.window, flags);

    if (!E.didClose[row] || !P.didClose[row]) s.lastTime[row] = t;

    if (flags & FIN) {
      E.finCount[row]++;
      E.finSeq[row] = relSeq + segLen;
    }
    if (flags & RST) E.rstCount[row]++;

    let relAck = 0;
    if (flags & ACK) {
      if (P.state[row] === EndpointState.INACTIVE) {
        relAck = 1;
        // init_peer: an ACK for a side we never heard from numbers that side as if it had sent a SYN.
        restartSequence(P, row, ackSeq - 1, ackSeq - 1, ackSeq - 1);
      } else {
        const rel = this.relativeSeq(row, P, ackSeq, P.ackSeq[row], P.ackWraps[row]);
        if (this.relUnderflow) relAck = 0;
        else {
          relAck = rel;
          if (!(flags & RST)) this.updateAckSeq(row, P, ackSeq); // ACKs in RSTs are not trusted
        }
      }
    }

    this.updateLastSeq(row, me, seqOnePastSegment, flags, len);

    this.updateStateMachine(row, t, me, baseSeq, len, isOrig, flags);
    const doClose = this.doClose;
    const genEvent = this.genEvent;

    // After the state machine, so a gap revealed by a FIN or RST can be judged against the new states.
    if (flags & ACK) this.reassembler.ackReceived(row, peer, relAck);

    s.firstPacketSeen[row] |= isOrig ? ORIG_SEEN : RESP_SEEN; // CheckPIA_FirstPacket

    const relDataSeq = flags & SYN ? relSeq + 1 : relSeq;
    if (len > 0 && !(flags & RST) && !seqUnderflow && seg.payloadCaptured) this.reassembler.dataSent(row, me, relDataSeq, len);

    this.reassembler.checkEof(row, me);

    // After the data, so data carried by a FIN is processed first.
    if (doClose) this.connectionClosed(row, me, genEvent);
  }

  // ---------------------------------------------------------------- the endpoint state machine

  /** TCP_Endpoint::SetState; leaving the handshake switches to the TCP inactivity timeout. */
  private setState(row: number, end: number, to: number): void {
    const E = this.ends.at[end].c;
    const from = E.state[row];
    if (to === from) return;
    if (!isHandshakeState(to) && isHandshakeState(from) && isHandshakeState(this.ends.at[1 - end].c.state[row])) {
      this.setInactivityTimeout(row, this.host.tuning.tcpInactivityTimeout);
    }
    E.prevState[row] = from;
    E.state[row] = to;
  }

  private stateOf(row: number, end: number): number {
    return this.ends.at[end].c.state[row];
  }

  private updateStateMachine(row: number, t: number, me: number, baseSeq: number, len: number, isOrig: boolean, flags: number): void {
    this.doClose = false;
    this.genEvent = false;
    switch (this.stateOf(row, me)) {
      case EndpointState.INACTIVE:
        this.updateInactiveState(row, t, me, baseSeq, len, isOrig, flags);
        break;
      case EndpointState.SYN_SENT:
      case EndpointState.SYN_ACK_SENT:
        this.updateSynSentState(row, me, flags);
        break;
      case EndpointState.ESTABLISHED:
      case EndpointState.PARTIAL:
        this.updateEstablishedState(row, me, flags);
        break;
      case EndpointState.CLOSED:
        this.updateClosedState(row, me, flags);
        break;
      case EndpointState.RESET:
        break; // SYN_after_reset, FIN_after_reset, data_after_reset: weirds only
    }
  }

  private updateInactiveState(row: number, t: number, me: number, baseSeq: number, len: number, isOrig: boolean, flags: number): void {
    const peer = 1 - me;
    if (flags & SYN) {
      if (isOrig) this.originatorOpens(row, t, me, flags);
      else this.responderAnswers(row, me, baseSeq, flags);
    }

    if (flags & FIN) {
      this.setState(row, me, EndpointState.CLOSED);
      this.doClose = this.genEvent = true; // spontaneous_FIN unless the peer is mid-stream or SYN is set
    }

    if (flags & RST) {
      this.setState(row, me, EndpointState.RESET);
      const p = this.stateOf(row, peer);
      const isReject = isOrig
        ? p === EndpointState.ESTABLISHED // a SYN-ACK seen but no SYN: a reverse scan
        : p === EndpointState.SYN_SENT || p === EndpointState.SYN_ACK_SENT;
      this.doClose = true;
      this.genEvent = !isReject;
    }

    if (this.stateOf(row, me) === EndpointState.INACTIVE) this.noControlFlags(row, me, len, isOrig, flags);
  }

  /** The originator's SYN (or SYN-ACK): SYN_SENT (or SYN_ACK_SENT) and the attempt timer. */
  private originatorOpens(row: number, t: number, me: number, flags: number): void {
    this.setState(row, me, flags & ACK ? EndpointState.SYN_ACK_SENT : EndpointState.SYN_SENT);
    const delay = this.host.tuning.tcpAttemptDelay;
    if (delay) this.addAnalyzerTimer(row, t + delay, TimerKind.ATTEMPT);
  }

  /** The responder's SYN or SYN-ACK establishes it, and a SYN_SENT originator with it. */
  private responderAnswers(row: number, me: number, baseSeq: number, flags: number): void {
    const peer = 1 - me;
    if (!(flags & ACK) && this.stateOf(row, peer) === EndpointState.SYN_ACK_SENT && baseSeq === this.ends.at[me].c.startSeq[row]) {
      // The SYN-ACK was captured before this SYN: flip the roles and establish.
      this.cols.c.partial[row] = 0;
      this.flipRoles(row);
      this.setState(row, peer, EndpointState.ESTABLISHED);
      this.cols.c.firstPacketSeen[row] |= ORIG_SEEN;
    }
    if (this.stateOf(row, peer) === EndpointState.SYN_SENT) this.setState(row, peer, EndpointState.ESTABLISHED);
    // (a silent originator: unsolicited_SYN_response; another pure SYN: simultaneous_open)
    this.setState(row, me, EndpointState.ESTABLISHED);
    if (this.stateOf(row, peer) !== EndpointState.PARTIAL) this.connectionEstablished(row);
  }

  /** Data or ACK from a side that sent no SYN, FIN or RST yet. */
  private noControlFlags(row: number, me: number, len: number, isOrig: boolean, flags: number): void {
    if (!isOrig && len === 0 && this.stateOf(row, this.cols.c.origEnd[row]) === EndpointState.SYN_SENT) {
      // Some stacks ACK a SYN before answering it: not a partial connection.
    } else if (flags & ACK && this.stateOf(row, 1 - me) === EndpointState.ESTABLISHED) {
      // We missed this side's SYN but saw the peer's SYN-ACK.
      this.setState(row, me, EndpointState.ESTABLISHED);
      this.cols.c.partial[row] = 0;
      this.cols.c.firstPacketSeen[row] |= isOrig ? ORIG_SEEN : RESP_SEEN;
    } else {
      this.setState(row, me, EndpointState.PARTIAL);
    }
  }

  private updateSynSentState(row: number, me: number, flags: number): void {
    if (flags & FIN) {
      this.setState(row, me, EndpointState.CLOSED); // inappropriate_FIN if the peer is silent
      this.doClose = this.genEvent = true;
    }
    if (flags & RST) {
      this.setState(row, me, EndpointState.RESET);
      this.cols.c.isActive[row] = 0; // ConnectionReset
      this.doClose = true;
    }
  }

  private updateEstablishedState(row: number, me: number, flags: number): void {
    const peer = 1 - me;
    const P = this.ends.at[peer].c;
    if (flags & SYN && this.stateOf(row, me) === EndpointState.PARTIAL && P.state[row] === EndpointState.INACTIVE && !(flags & ACK)) {
      this.setState(row, me, EndpointState.SYN_SENT); // SYN_after_partial
    }
    if (flags & FIN && !(flags & RST)) {
      this.setState(row, me, EndpointState.CLOSED);
      // The peer sent FIN then RST: that was a normal close after all.
      if (P.state[row] === EndpointState.RESET && P.prevState[row] === EndpointState.CLOSED) this.setState(row, peer, EndpointState.CLOSED);
      this.doClose = this.genEvent = true;
    }
    if (flags & RST) {
      this.setState(row, me, EndpointState.RESET);
      this.doClose = true;
      if (P.state[row] !== EndpointState.RESET || P.prevState[row] !== EndpointState.ESTABLISHED) this.cols.c.isActive[row] = 0; // ConnectionReset
    }
  }

  /** After our FIN, a RST counts only if the peer has not closed too. */
  private updateClosedState(row: number, me: number, flags: number): void {
    if (flags & RST && this.stateOf(row, 1 - me) !== EndpointState.CLOSED) {
      this.setState(row, me, EndpointState.RESET);
      if (!this.ends.at[me].c.didClose[row]) this.doClose = true; // RST after FIN
    }
  }

  // ---------------------------------------------------------------- closing

  /** TCPSessionAdapter::ConnectionClosed: report a side's close, arm the removal. */
  private connectionClosed(row: number, me: number, genEvent: boolean): void {
    const s = this.cols.c;
    if (this.reassembler.dataPending(row, me)) {
      // Wait for the data still to be delivered before reporting the close.
      s.closeDeferred[row] = 1;
      if (!s.deferredGenEvent[row]) s.deferredGenEvent[row] = genEvent ? 1 : 0;
      return;
    }
    s.closeDeferred[row] = 0;
    const E = this.ends.at[me].c;
    const P = this.ends.at[1 - me].c;
    if (E.didClose[row]) return;
    E.didClose[row] = 1;

    const tuning = this.host.tuning;
    const closeComplete = E.state[row] === EndpointState.RESET || P.didClose[row] || P.state[row] === EndpointState.INACTIVE;
    if (closeComplete) {
      if (E.prevState[row] !== EndpointState.INACTIVE || P.state[row] !== EndpointState.INACTIVE) {
        if (s.deferredGenEvent[row]) {
          genEvent = true;
          s.deferredGenEvent[row] = 0;
        }
        if (genEvent) s.isActive[row] = 0; // ConnectionFinished
      }
      this.cancelAnalyzerTimers(row);
      this.addAnalyzerTimer(row, s.lastTime[row] + tuning.tcpCloseDelay, TimerKind.REMOVE);
    } else if (E.prevState[row] !== EndpointState.INACTIVE) {
      // A half close: look again later for the other side closing.
      this.addAnalyzerTimer(row, s.lastTime[row] + tuning.tcpSessionTimer, TimerKind.EXPIRE);
    }
  }

  /** Seen from the connection_established event: base/protocols/conn/inactivity.zeek. */
  private connectionEstablished(row: number): void {
    const o = this.cols.c.origEnd[row];
    let servicePort = this.table.port(row, 1 - o);
    const likely = this.host.likelyServerPorts;
    if (this.stateOf(row, o) === EndpointState.INACTIVE && !likely.has(servicePort) && likely.has(this.table.port(row, o))) servicePort = this.table.port(row, o);
    const timeout = this.host.tuning.portInactivityTimeouts.get(servicePort);
    if (timeout !== undefined) this.setInactivityTimeout(row, timeout);
  }

  private isClosed(row: number): boolean {
    return this.ends.at[0].c.didClose[row] !== 0 || this.ends.at[1].c.didClose[row] !== 0;
  }

  // ---------------------------------------------------------------- ReassemblerHost

  isPartial(row: number): boolean {
    return this.cols.c.partial[row] !== 0;
  }

  contentGap(row: number, end: number, _seq: number, len: number): void {
    // Only connections established (or cleanly closing) on both sides get a letter and missed_bytes.
    if (this.isClean(row, end) && this.isClean(row, 1 - end)) {
      const E = this.ends.at[end].c;
      if (bumpScaled(E.gaps, E.gapsNext, row)) this.addHistory(row, end, LETTER_G);
      this.cols.c.missedBytes[row] += len;
    }
  }

  endpointEof(row: number, end: number): void {
    const s = this.cols.c;
    if (!s.closeDeferred[row]) return;
    this.connectionClosed(row, end, s.deferredGenEvent[row] !== 0);
    s.closeDeferred[row] = 0;
  }

  /** Established, or closed straight from established. */
  private isClean(row: number, end: number): boolean {
    const E = this.ends.at[end].c;
    const st = E.state[row];
    return st === EndpointState.ESTABLISHED || (st === EndpointState.CLOSED && E.prevState[row] === EndpointState.ESTABLISHED);
  }

  // ---------------------------------------------------------------- timers

  private addAnalyzerTimer(row: number, due: number, kind: number): void {
    const s = this.cols.c;
    this.timers.push(due, row, s.serial[row], kind, s.timerEpoch[row]);
    s.analyzerTimers[row]++;
  }

  /** The analyzer timers set so far no longer stand (they stay in the heap, counted stale). */
  private cancelAnalyzerTimers(row: number): void {
    const s = this.cols.c;
    this.timers.stale += s.analyzerTimers[row];
    s.analyzerTimers[row] = 0;
    s.timerEpoch[row] = (s.timerEpoch[row] + 1) >>> 0;
    this.compactTimers();
  }

  private cancelInactivityTimer(row: number): void {
    const s = this.cols.c;
    if (s.inactivityOrder[row] < 0) return;
    s.inactivityOrder[row] = -1;
    this.timers.stale++;
    this.compactTimers();
  }

  /** Memory follows live timers: the heap is rebuilt when canceled entries dominate it. */
  private compactTimers(): void {
    const t = this.timers;
    if (t.stale > 1024 && t.stale * 2 > t.size) t.compact(this.stands);
  }

  /** Session::SetInactivityTimeout: re-arm at last activity + timeout. */
  private setInactivityTimeout(row: number, timeout: number): void {
    const s = this.cols.c;
    if (timeout === s.inactivityTimeout[row]) return;
    this.cancelInactivityTimer(row);
    if (timeout) this.armInactivityTimer(row, s.lastTime[row] + timeout);
    s.inactivityTimeout[row] = timeout;
  }

  private armInactivityTimer(row: number, due: number): void {
    const s = this.cols.c;
    s.inactivityOrder[row] = this.timers.push(due, row, s.serial[row], TimerKind.INACTIVITY, 0);
  }

  /** A timer of the row's connection that `stands` came due: what it does. */
  fire(row: number, kind: number, now: number): void {
    const s = this.cols.c;
    if (kind === TimerKind.INACTIVITY) {
      s.inactivityOrder[row] = -1;
      if (s.lastTime[row] + s.inactivityTimeout[row] <= now) this.host.remove(row);
      else this.armInactivityTimer(row, s.lastTime[row] + s.inactivityTimeout[row]);
      return;
    }
    s.analyzerTimers[row]--;
    if (kind === TimerKind.EXPIRE) this.expireTimer(row, now);
    else if (kind === TimerKind.ATTEMPT) this.attemptTimer(row);
    else this.host.remove(row);
  }

  /** A SYN nobody answered: log the attempt (S0) and forget the connection. */
  private attemptTimer(row: number): void {
    const s = this.cols.c;
    if (!s.isActive[row]) return;
    const o = s.origEnd[row];
    const origState = this.stateOf(row, o);
    const opened = origState === EndpointState.SYN_SENT || origState === EndpointState.SYN_ACK_SENT;
    if (opened && this.stateOf(row, 1 - o) === EndpointState.INACTIVE) {
      s.isActive[row] = 0;
      this.host.remove(row);
    }
  }

  /** Idle for tcp_connection_linger after a close (or with nothing ever processed): remove; else look again. */
  private expireTimer(row: number, now: number): void {
    const s = this.cols.c;
    if (!s.isActive[row]) return;
    const tuning = this.host.tuning;
    if (s.lastTime[row] + tuning.tcpConnectionLinger < now) {
      const o = s.origEnd[row];
      const O = this.ends.at[o].c;
      const R = this.ends.at[1 - o].c;
      const origState = O.state[row];
      const respState = R.state[row];
      if (O.didClose[row] || R.didClose[row]) {
        const anyReset = origState === EndpointState.RESET || respState === EndpointState.RESET;
        const anyInactive = origState === EndpointState.INACTIVE || respState === EndpointState.INACTIVE;
        if ((O.didClose[row] && R.didClose[row]) || anyReset || anyInactive) {
          s.isActive[row] = 0;
          this.host.remove(row);
          return;
        }
      }
      if (respState === EndpointState.INACTIVE && origState === EndpointState.INACTIVE) {
        this.host.remove(row); // nothing was ever processed (e.g. only a bad checksum)
        return;
      }
    }
    this.addAnalyzerTimer(row, now + tuning.tcpSessionTimer, TimerKind.EXPIRE);
  }
}
