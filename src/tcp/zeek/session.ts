/**
 * Zeek's TCP connections on the rows of the connection table: Zeek's
 * Connection plus its TCPSessionAdapter, i.e. the per-packet processing
 * (history letters, endpoint state machine, sequence bookkeeping, close
 * reporting) and the connection's timers, with every number in columns
 * (no object per connection). A row holds at most one Zeek connection at a
 * time, in a slot of its own (conn/slots.ts: the columns are as long as the
 * connections Zeek holds, not as the table); `serial` names it (0: none), so
 * that a timer set for an earlier connection on the row is known to be stale.
 *
 * A connection that is so far one SYN from its originator takes no slot: it waits in compact
 * form (lone-syns.ts) until a packet other than that SYN again comes (`promote`) or its attempt
 * timer logs it (`loneConn`).
 *
 * Functions carry the names of their Zeek counterparts so the two can be read
 * side by side; comments say what each rule does, not how Zeek spells it. An
 * endpoint is (slot, end): `me` the packet's sender, `peer` the other end.
 */
import type { ChecksumVerdict } from '../../decode/checksum.js';
import { TcpFlag } from '../../decode/packet.js';
import type { ColumnSet } from '../../conn/columns.js';
import { NO_SLOT, Slots } from '../../conn/slots.js';
import type { ConnTable } from '../../conn/table.js';
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
import { LoneSyns } from './lone-syns.js';
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
  /** Lone SYNs wait in compact form (lone-syns.ts); off only to show that it changes nothing. */
  readonly compactLoneSyns: boolean;
  networkTime(): number;
  /** session_mgr->Remove: log and forget the connection in `slot`. */
  remove(slot: number): void;
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


/** The per-connection fields, one column each, indexed by the connection's slot. */
const SESSION_COLUMNS = {
  /** The connection in the slot (0: none): a number no other connection had. */
  serial: Uint32Array,
  /** The connection-table row the slot is bound to. */
  row: Int32Array,
  /** The row's end (conn/table.ts) that is the originator; Zeek's flips change it. */
  origEnd: Uint8Array,
  /** Both endpoints are the same address and port: every packet is the originator's. */
  selfPair: Uint8Array,
  startTime: Float64Array,
  lastTime: Float64Array,
  firstFrame: Float64Array,
  lastFrame: Float64Array,
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
const MAX_U32 = 0xffffffff;
const { FIN, SYN, RST, ACK } = TcpFlag;
const [LETTER_S, LETTER_H, LETTER_A, LETTER_D, LETTER_F, LETTER_R, LETTER_C, LETTER_G, LETTER_T, LETTER_W, LETTER_I, LETTER_Q, LETTER_h] = [...'SHADFRCGTWIQh'].map((c) => c.charCodeAt(0));

/** Letters other than control flags: A (pure ACK) or D (payload). */
export function writesAckOrData(flags: number, len: number): boolean {
  if (flags & (SYN | FIN | RST)) return false;
  return len > 0 || (flags & ACK) !== 0;
}

export class TcpSessions implements ReassemblerHost {
  /** The session's fields; its endpoints' and history's columns grow with them (`bind`). */
  private readonly slots: Slots<typeof SESSION_COLUMNS>;
  private readonly cols: ColumnSet<typeof SESSION_COLUMNS>;
  readonly ends: Endpoints;
  readonly history: HistoryStore;
  readonly reassembler: Reassembler;
  /** Connections that are one SYN so far, without a slot. */
  readonly lone: LoneSyns;
  /** The tuning lets a lone SYN's timers be told from its record: see `startsLone`. */
  private readonly loneAllowed: boolean;
  private serials = 0;

  /** What the last relativeSeq() said besides the number: it lay before the side's start. */
  private relUnderflow = false;
  /** updateStateMachine's answer (read at once by its one caller). */
  private doClose = false;
  private genEvent = false;
  /** The heap's test for an entry, which names a row (made once: compaction takes it). */
  readonly stands = (row: number, serial: number, kind: number, epoch: number, order: number): boolean => {
    const slot = this.slots.slotOf(row);
    return slot !== NO_SLOT && this.standsAt(slot, serial, kind, epoch, order);
  };

  constructor(
    private readonly host: SessionHost,
    private readonly table: ConnTable,
    private readonly timers: ZeekTimerHeap,
  ) {
    this.slots = new Slots(table, SESSION_COLUMNS);
    this.cols = this.slots.set;
    this.ends = new Endpoints();
    this.history = new HistoryStore();
    this.reassembler = new Reassembler(this.ends, this, host.tuning);
    this.lone = new LoneSyns(this.slots);
    // The expire and attempt timers come due together, before the inactivity timer.
    const t = host.tuning;
    this.loneAllowed = host.compactLoneSyns && t.tcpAttemptDelay > 0 && t.tcpAttemptDelay === t.tcpSynTimeout && t.initialInactivityTimeout > t.tcpAttemptDelay;
  }

  // ---------------------------------------------------------------- the row's connection

  /** The slot of the row's Zeek connection, or NO_SLOT (-1) when the row has none. */
  slotOf(row: number): number {
    return this.slots.slotOf(row);
  }

  /** The row holds a Zeek connection in a slot. */
  has(row: number): boolean {
    return this.slots.slotOf(row) !== NO_SLOT;
  }

  /** The record of the row's lone SYN (lone-syns.ts), or NO_SLOT when the row has none. */
  loneOf(row: number): number {
    return this.slots.markOf(row);
  }

  serialOf(slot: number): number {
    return this.cols.c.serial[slot];
  }

  /** Which end of its row's pair (0: lower, 1: higher) the connection in `slot` takes as its originator. */
  origEndOf(slot: number): number {
    return this.cols.c.origEnd[slot];
  }

  /** The connection-table row of the connection in `slot`. */
  rowOf(slot: number): number {
    return this.cols.c.row[slot];
  }

  /**
   * A new connection on `row` (Connection's constructor), in a slot of its own (returned): its
   * first packet came from end `srcEnd` of the row, at `tsUs`; `flipped` when the port heuristic
   * makes the receiver the originator.
   */
  begin(row: number, srcEnd: number, selfPair: boolean, tsUs: number, frame: number, flipped: boolean): number {
    const slot = this.slots.bind(row);
    this.ends.ensure(this.slots.capacity);
    this.history.ensure(this.slots.capacity);
    // Field by field (see Endpoints.reset): a reused slot holds what its last connection left.
    const s = this.cols.c;
    this.serials = (this.serials + 1) >>> 0 || 1;
    s.serial[slot] = this.serials;
    s.row[slot] = row;
    s.origEnd[slot] = flipped ? 1 - srcEnd : srcEnd;
    s.selfPair[slot] = selfPair ? 1 : 0;
    s.startTime[slot] = s.lastTime[slot] = tsUs;
    s.firstFrame[slot] = s.lastFrame[slot] = frame;
    s.isActive[slot] = 1;
    s.partial[slot] = s.firstPacketSeen[slot] = s.closeDeferred[slot] = s.deferredGenEvent[slot] = 0;
    s.inactivityTimeout[slot] = 0;
    s.inactivityOrder[slot] = -1;
    s.timerEpoch[slot] = s.analyzerTimers[slot] = 0;
    this.history.reset(slot);
    if (flipped) this.history.add(slot, CARET);
    this.ends.reset(2 * slot);
    this.ends.reset(2 * slot + 1);

    const tuning = this.host.tuning;
    this.addAnalyzerTimer(slot, this.host.networkTime() + tuning.tcpSynTimeout, TimerKind.EXPIRE);
    this.setInactivityTimeout(slot, tuning.initialInactivityTimeout);
    return slot;
  }

  // ---------------------------------------------------------------- lone SYNs (lone-syns.ts)

  /**
   * A connection whose first packet is `seg` waits as a lone SYN: the packet is a SYN that sets no
   * more than the store keeps (`plainSyn`), not between two ends of one endpoint, at the network
   * time (so that its timers come due in the store's order).
   */
  startsLone(seg: ZeekSegment, selfPair: boolean): boolean {
    return this.loneAllowed && !selfPair && this.plainSyn(seg) && seg.tsUs === this.host.networkTime();
  }

  /**
   * A SYN with nothing else that Zeek would note: no other control flag, no payload (no data to
   * reassemble), a window (a zero one writes W), a checksum that counts (a bad one writes C).
   */
  private plainSyn(seg: ZeekSegment): boolean {
    if ((seg.flags & (SYN | ACK | FIN | RST)) !== SYN || seg.len !== 0 || seg.window === 0) return false;
    return !(this.host.verifyChecksums && seg.payloadCaptured && seg.tcpChecksum === 'bad');
  }

  /**
   * A new connection on `row` from its SYN `seg`, sent by end `srcEnd`, as a lone SYN: what begin
   * and the SYN's processing would have set, its timers' orders taken as they would have been
   * (expire and inactivity by begin, attempt by the SYN).
   */
  beginLone(row: number, srcEnd: number, seg: ZeekSegment): void {
    const r = this.lone.add(row);
    const L = this.lone.c;
    this.serials = (this.serials + 1) >>> 0 || 1;
    L.serial[r] = this.serials;
    L.origEnd[r] = srcEnd;
    L.startTime[r] = seg.tsUs;
    // Its attempt timer is due then (loneDue): the queue's lower bound covers it as if queued.
    const due = seg.tsUs + this.host.tuning.tcpAttemptDelay;
    if (due < this.timers.queuedLow[0]) this.timers.queuedLow[0] = due;
    L.firstFrame[r] = seg.frame;
    L.lastTimeAfter[r] = L.lastFrameAfter[r] = 0;
    L.order[r] = this.timers.reserve(3);
    L.seq[r] = seg.seq;
    L.packets[r] = 1;
    L.ipBytes[r] = seg.ipBytes;
  }

  /**
   * A packet from end `me` of a lone SYN's row: when it is the SYN again (a retransmission, which
   * only counts and moves the last time), it is taken and true returned; otherwise false, and the
   * connection needs its slot (`promote`) before the packet is processed.
   */
  repeatLone(r: number, me: number, seg: ZeekSegment): boolean {
    const L = this.lone.c;
    if (me !== L.origEnd[r] || seg.seq !== L.seq[r] || !this.plainSyn(seg)) return false;
    const after = seg.tsUs - L.startTime[r];
    const frames = seg.frame - L.firstFrame[r];
    if (!(after >= 0 && after <= MAX_U32 && frames >= 0 && frames <= MAX_U32) || L.packets[r] === MAX_U32 || L.ipBytes[r] + seg.ipBytes > MAX_U32) return false;
    L.lastTimeAfter[r] = after;
    L.lastFrameAfter[r] = frames;
    L.packets[r]++;
    L.ipBytes[r] += seg.ipBytes;
    return true;
  }

  /**
   * The lone SYN in record `r` takes a slot, with every field as begin and its SYN(s) made them
   * (originator SYN_SENT, history "S"), and its three timers queued with their orders. Returns the slot.
   */
  promote(r: number): number {
    const L = this.lone.c;
    const row = L.row[r];
    const o = L.origEnd[r];
    const start = L.startTime[r];
    const order = L.order[r];
    const serial = L.serial[r];
    const seq = L.seq[r];
    this.lone.drop(r);
    const slot = this.slots.bind(row);
    this.ends.ensure(this.slots.capacity);
    this.history.ensure(this.slots.capacity);
    const s = this.cols.c;
    s.serial[slot] = serial;
    s.row[slot] = row;
    s.origEnd[slot] = o;
    s.selfPair[slot] = 0;
    s.startTime[slot] = start;
    s.lastTime[slot] = start + L.lastTimeAfter[r];
    s.firstFrame[slot] = L.firstFrame[r];
    s.lastFrame[slot] = L.firstFrame[r] + L.lastFrameAfter[r];
    s.isActive[slot] = 1;
    s.partial[slot] = s.closeDeferred[slot] = s.deferredGenEvent[slot] = 0;
    s.firstPacketSeen[slot] = ORIG_SEEN;
    const tuning = this.host.tuning;
    s.inactivityTimeout[slot] = tuning.initialInactivityTimeout;
    s.inactivityOrder[slot] = order + 1;
    s.timerEpoch[slot] = 0;
    s.analyzerTimers[slot] = 2;
    this.history.reset(slot);
    this.history.check(slot, HistBit.SYN, LETTER_S, false);
    this.ends.reset(2 * slot);
    this.ends.reset(2 * slot + 1);
    const E = this.ends.c;
    const iE = 2 * slot + o;
    E.state[iE] = EndpointState.SYN_SENT;
    restartSequence(E, iE, seq, seq, seq + 1);
    E.packets[iE] = L.packets[r];
    E.ipBytes[iE] = L.ipBytes[r];
    const due = start + tuning.tcpAttemptDelay;
    this.timers.insert(due, order, row, serial, TimerKind.EXPIRE, 0);
    this.timers.insert(start + tuning.initialInactivityTimeout, order + 1, row, serial, TimerKind.INACTIVITY, 0);
    this.timers.insert(due, order + 2, row, serial, TimerKind.ATTEMPT, 0);
    return slot;
  }

  /** When the lone SYN in record `r` is due to be logged: its expire and attempt timers' time. */
  loneDue(r: number): number {
    return this.lone.c.startTime[r] + this.host.tuning.tcpAttemptDelay;
  }

  /** The conn.log row of the lone SYN in record `r`, as toConn would make it: S0, history "S". */
  loneConn(r: number): ZeekConn {
    const L = this.lone.c;
    const row = L.row[r];
    const o = L.origEnd[r];
    const history = 'S';
    const orig = EndpointState.SYN_SENT;
    const resp = EndpointState.INACTIVE;
    return {
      orig_h: this.table.address(row, o),
      orig_p: this.table.port(row, o),
      resp_h: this.table.address(row, 1 - o),
      resp_p: this.table.port(row, 1 - o),
      ts: L.startTime[r],
      duration: L.lastTimeAfter[r],
      // Sizes from sequence numbers: the SYN's octet is not counted, and the responder sent nothing.
      conn_state: zeekConnState({ orig, resp, origSize: 0, respSize: 0, history }),
      history,
      orig_pkts: L.packets[r],
      orig_ip_bytes: L.ipBytes[r],
      resp_pkts: 0,
      resp_ip_bytes: 0,
      orig_bytes: 0,
      resp_bytes: 0,
      missed_bytes: 0,
      orig_state: ENDPOINT_STATE_NAMES[orig],
      resp_state: ENDPOINT_STATE_NAMES[resp],
      first_frame: L.firstFrame[r],
      last_frame: L.firstFrame[r] + L.lastFrameAfter[r],
    };
  }

  /** The lone SYN in record `r` leaves the store and its row. Read `loneConn` first. */
  endLone(r: number): void {
    this.slots.mark(this.lone.c.row[r], NO_SLOT);
    this.lone.drop(r);
  }

  /** The connection leaves its row and its slot: its timers are canceled, its lists given back. Read `toConn` first. */
  end(slot: number): void {
    this.cancelAnalyzerTimers(slot);
    this.cancelInactivityTimer(slot);
    this.history.release(slot);
    this.reassembler.release(slot, 0);
    this.reassembler.release(slot, 1);
    this.ends.release(2 * slot);
    this.ends.release(2 * slot + 1);
    const s = this.cols.c;
    s.serial[slot] = 0;
    this.slots.unbind(s.row[slot]);
  }

  /** The row end a packet from end `dir` of the row is from, as Zeek tells it (all the originator's on a pair of one endpoint). */
  senderEnd(slot: number, dir: number): number {
    const s = this.cols.c;
    return s.selfPair[slot] ? s.origEnd[slot] : dir;
  }

  /** The conn.log row, as connection_state_remove would log it now: made at the edge, when logged. */
  toConn(slot: number): ZeekConn {
    const s = this.cols.c;
    const o = s.origEnd[slot];
    const O = this.ends.c;
    const iO = 2 * slot + o;
    const R = this.ends.c;
    const iR = 2 * slot + (1 - o);
    const origSize = endpointSize(this.ends, iO, R.state[iR]);
    const respSize = endpointSize(this.ends, iR, O.state[iO]);
    const history = this.history.text(slot);
    const orig = O.state[iO] as EndpointStateValue;
    const resp = R.state[iR] as EndpointStateValue;
    const row = s.row[slot];
    return {
      orig_h: this.table.address(row, o),
      orig_p: this.table.port(row, o),
      resp_h: this.table.address(row, 1 - o),
      resp_p: this.table.port(row, 1 - o),
      ts: s.startTime[slot],
      duration: s.lastTime[slot] - s.startTime[slot],
      conn_state: zeekConnState({ orig, resp, origSize, respSize, history }),
      history,
      orig_pkts: O.packets[iO],
      orig_ip_bytes: O.ipBytes[iO],
      resp_pkts: R.packets[iR],
      resp_ip_bytes: R.ipBytes[iR],
      orig_bytes: origSize,
      resp_bytes: respSize,
      missed_bytes: this.ends.missedBytes(2 * slot) + this.ends.missedBytes(2 * slot + 1),
      orig_state: ENDPOINT_STATE_NAMES[orig],
      resp_state: ENDPOINT_STATE_NAMES[resp],
      first_frame: s.firstFrame[slot],
      last_frame: s.lastFrame[slot],
    };
  }

  // ---------------------------------------------------------------- entry points

  /** TCPAnalyzer::DeliverPacket: checksum, the SYN-ACK-first flip, processing, ConnSize. `me`: the sender's end. */
  deliver(slot: number, me: number, seg: ZeekSegment): void {
    const s = this.cols.c;
    s.lastFrame[slot] = seg.frame;
    let isOrig = me === s.origEnd[slot];
    if (this.host.verifyChecksums && seg.payloadCaptured && seg.tcpChecksum === 'bad') {
      this.checksumError(slot, me);
      return; // dropped: no state change, not counted
    }
    if (this.history.is(slot, LETTER_H) && writesAckOrData(seg.flags, seg.len)) {
      this.flipAfterSynAckFirst(slot);
      isOrig = !isOrig;
    }
    this.process(slot, me, isOrig, seg);
    const E = this.ends.c;
    const iE = 2 * slot + me;
    E.packets[iE]++;
    E.ipBytes[iE] += seg.ipBytes;
  }

  /** TCPSessionAdapter::IsReuse: a SYN (or a SYN-ACK on a half connection) that starts a new connection. */
  isReuse(slot: number, seg: ZeekSegment): boolean {
    if (!(seg.flags & SYN)) return false;
    const o = this.cols.c.origEnd[slot];
    let connOrig = o;
    if (seg.flags & ACK) {
      if (this.ends.c.state[2 * slot + o] !== EndpointState.INACTIVE) return false; // not a half connection
      connOrig = 1 - o;
    }
    if (this.isClosed(slot)) return true;
    const C = this.ends.c;
    const iC = 2 * slot + connOrig;
    const R = this.ends.c;
    const iR = 2 * slot + (1 - o);
    if (seg.seq === C.startSeq[iC]) return false; // a retransmitted SYN
    const reversedHandshake =
      !(seg.flags & ACK) && C.state[iC] === EndpointState.SYN_ACK_SENT && R.state[iR] === EndpointState.INACTIVE && seg.seq === R.startSeq[iR];
    return !reversedHandshake; // a new initial sequence number: SYN_seq_jump / active_connection_reuse
  }

  // ---------------------------------------------------------------- roles

  /** Connection::FlipRoles with the adapter's part: swap sides, mark '^'. The endpoints stay on their ends. */
  private flipRoles(slot: number): void {
    const s = this.cols.c;
    s.origEnd[slot] ^= 1;
    const seen = s.firstPacketSeen[slot];
    s.firstPacketSeen[slot] = (seen & ORIG_SEEN ? RESP_SEEN : 0) | (seen & RESP_SEEN ? ORIG_SEEN : 0);
    s.partial[slot] = 0;
    this.history.add(slot, CARET);
  }

  /**
   * A connection that began with a SYN-ACK (history exactly "H") sees an ACK or
   * data: the SYN-ACK's sender was the server. Flip, restart the history as
   * "^h", and treat the originator's missing SYN as seen.
   */
  private flipAfterSynAckFirst(slot: number): void {
    this.flipRoles(slot);
    this.history.replace2(slot, CARET, LETTER_h);
    this.cols.c.firstPacketSeen[slot] |= ORIG_SEEN;
  }

  /** The endpoint on end `end` is the responder now. */
  private isResp(slot: number, end: number): boolean {
    return end !== this.cols.c.origEnd[slot];
  }

  // ---------------------------------------------------------------- history letters

  /** TCP_Endpoint::CheckHistory: responder letters are lower case and use the upper mask bits. */
  private checkHistory(slot: number, end: number, mask: number, code: number): boolean {
    return this.history.check(slot, mask, code, this.isResp(slot, end));
  }

  private addHistory(slot: number, end: number, code: number): void {
    this.history.addSide(slot, code, this.isResp(slot, end));
  }

  private checksumError(slot: number, end: number): void {
    const r = this.ends.rareOf(2 * slot + end);
    const X = this.ends.rare.c;
    if (bumpScaled(X.checksumErrors, X.checksumErrorsNext, r)) this.addHistory(slot, end, LETTER_C);
  }

  /** update_history: the letter(s) of one packet's flags. */
  private updateHistory(slot: number, flags: number, me: number, relSeq: number, len: number): void {
    const bitsSet = (flags & SYN ? 1 : 0) + (flags & FIN ? 1 : 0) + (flags & RST ? 1 : 0);
    if (bitsSet > 1) {
      if (flags & FIN && flags & RST) this.checkHistory(slot, me, HistBit.FIN_RST, LETTER_I);
      else this.checkHistory(slot, me, HistBit.MULTI_FLAG, LETTER_Q);
    } else if (bitsSet === 1) {
      const E = this.ends.c;
      const iE = 2 * slot + me;
      if (flags & SYN) {
        // S or H: again only for a SYN at a new sequence number.
        const code = flags & ACK ? LETTER_H : LETTER_S;
        if (this.checkHistory(slot, me, HistBit.SYN, code) && relSeq !== E.histLastSyn[iE]) this.addHistory(slot, me, code);
        E.histLastSyn[iE] = relSeq;
      }
      if (flags & FIN) {
        // F: again only when the sequence number after the payload changed.
        const seqAfterPayload = relSeq + len;
        const r = this.ends.rareOf(iE);
        const X = this.ends.rare.c;
        if (this.checkHistory(slot, me, HistBit.FIN, LETTER_F) && seqAfterPayload !== X.histLastFin[r]) this.addHistory(slot, me, LETTER_F);
        X.histLastFin[r] = seqAfterPayload;
      }
      if (flags & RST) {
        // R: again only for a RST at a new sequence number.
        const r = this.ends.rareOf(iE);
        const X = this.ends.rare.c;
        if (this.checkHistory(slot, me, HistBit.RST, LETTER_R) && relSeq !== X.histLastRst[r]) this.addHistory(slot, me, LETTER_R);
        X.histLastRst[r] = relSeq;
      }
    } else if (len > 0) {
      this.checkHistory(slot, me, HistBit.DATA, LETTER_D);
    } else if (flags & ACK) {
      this.checkHistory(slot, me, HistBit.ACK, LETTER_A);
    }
  }

  /** update_window: a zero window counts unless it comes with a RST, after the peer's FIN, or after our RST. */
  private updateWindow(slot: number, me: number, window: number, flags: number): void {
    const E = this.ends.c;
    const iE = 2 * slot + me;
    if (window === 0 && !(flags & RST) && this.ends.c.state[2 * slot + (1 - me)] !== EndpointState.CLOSED && E.state[iE] !== EndpointState.RESET) {
      const r = this.ends.rareOf(iE);
      const X = this.ends.rare.c;
      if (bumpScaled(X.zeroWindows, X.zeroWindowsNext, r)) this.addHistory(slot, me, LETTER_W);
    }
  }

  // ---------------------------------------------------------------- sequence bookkeeping

  /** init_endpoint: the first packet from a side sets its initial sequence numbers. */
  private initEndpoint(E: EndpointColumns, iE: number, flags: number, firstSegSeq: number, lastSeq: number): void {
    switch (E.state[iE]) {
      case EndpointState.INACTIVE:
        if (flags & SYN) restartSequence(E, iE, firstSegSeq, firstSegSeq, lastSeq);
        // Mid-stream: number as though a SYN preceded, and do not call the first packet a retransmission.
        else restartSequence(E, iE, firstSegSeq - 1, firstSegSeq - 1, firstSegSeq);
        break;
      case EndpointState.SYN_SENT:
      case EndpointState.SYN_ACK_SENT:
        if (flags & SYN && firstSegSeq !== E.startSeq[iE]) restartSequence(E, iE, firstSegSeq, firstSegSeq, lastSeq); // SYN_seq_jump
        break;
      case EndpointState.ESTABLISHED:
      case EndpointState.PARTIAL:
        if (flags & SYN) restartSequence(E, iE, firstSegSeq, firstSegSeq, lastSeq); // guess: this SYN really sets it up
        break;
      case EndpointState.RESET:
        // The numbers came from a RST that may have been injected: trust the SYN.
        if (flags & SYN && E.prevState[iE] === EndpointState.INACTIVE) restartSequence(E, iE, firstSegSeq, firstSegSeq, lastSeq);
        break;
      default:
        break;
    }
  }

  /**
   * get_relative_seq: a 32-bit number in a side's relative 64-bit space; `relUnderflow` says
   * whether it lies before the side's start (per packet: no object for the pair).
   */
  private relativeSeq(E: EndpointColumns, iE: number, cur: number, last: number, wraps: number): number {
    const delta = seqDelta(cur, last);
    if (delta < 0) {
      if (wraps && cur > last) wraps--; // part of a previous 32-bit space
    } else if (delta > 0) {
      if (cur < last) wraps++; // the space wrapped
    }
    if (wraps === 0) {
      const rel = seqDelta(cur, E.startSeq[iE]);
      this.relUnderflow = rel < 0;
      return rel;
    }
    this.relUnderflow = false;
    return toFullSeqSpace(cur, wraps) - E.startSeq[iE];
  }

  /** update_ack_seq: acknowledgements only move forward (an ACK of 0 far ahead is broken). */
  private updateAckSeq(P: EndpointColumns, iP: number, ackSeq: number): void {
    const deltaAck = seqDelta(ackSeq, P.ackSeq[iP]);
    if (ackSeq === 0 && deltaAck > TOO_LARGE_SEQ_DELTA) return;
    if (deltaAck > 0) advanceAckSeq(this.ends, iP, ackSeq);
  }

  /** update_last_seq: advance the highest sequence sent; payload at or below it is a retransmission (T/t). */
  private updateLastSeq(slot: number, me: number, lastSeq: number, flags: number, len: number): void {
    const E = this.ends.c;
    const iE = 2 * slot + me;
    const deltaLast = seqDelta(lastSeq, E.lastSeq[iE]);
    if (flags & (SYN | RST) && (deltaLast > TOO_LARGE_SEQ_DELTA || deltaLast < -TOO_LARGE_SEQ_DELTA)) {
      // an implausible jump: ignore this sequence number
    } else if (flags & FIN && E.lastSeq[iE] === seq32(E.startSeq[iE] + 1)) {
      advanceLastSeq(this.ends, iE, lastSeq); // only SYN and FIN seen (transfers > 2 GB)
    } else if (E.state[iE] === EndpointState.RESET) {
      // sequence numbers after our RST are not trusted
    } else if (deltaLast > 0) {
      advanceLastSeq(this.ends, iE, lastSeq);
    } else if (len > 0) {
      const r = this.ends.rareOf(iE);
      const X = this.ends.rare.c;
      if (bumpScaled(X.retransmissions, X.retransmissionsNext, r)) this.addHistory(slot, me, LETTER_T);
    }
  }

  // ---------------------------------------------------------------- TCPSessionAdapter::Process

  private setPartialStatus(slot: number, flags: number, isOrig: boolean): void {
    const s = this.cols.c;
    if (isOrig) {
      if (!(s.firstPacketSeen[slot] & ORIG_SEEN)) s.partial[slot] = !(flags & SYN) || (flags & ACK) !== 0 ? 1 : 0;
    } else if (!(s.firstPacketSeen[slot] & RESP_SEEN) && !s.partial[slot]) {
      s.partial[slot] = !(flags & SYN) ? 1 : 0;
    }
  }

  /** `isOrig`: the sender's role when the packet came (a flip during processing does not change it). */
  private process(slot: number, me: number, isOrig: boolean, seg: ZeekSegment): void {
    const { flags, tsUs: t, len } = seg;
    const baseSeq = seg.seq;
    const ackSeq = seg.ack;
    const peer = 1 - me;
    const E = this.ends.c;
    const iE = 2 * slot + me;
    const P = this.ends.c;
    const iP = 2 * slot + peer;
    const s = this.cols.c;

    this.setPartialStatus(slot, flags, !this.isResp(slot, me));

    const segLen = len + (flags & SYN ? 1 : 0) + (flags & FIN ? 1 : 0) - (flags & RST ? len : 0);
    const seqOnePastSegment = seq32(baseSeq + segLen);
    this.initEndpoint(E, iE, flags, baseSeq, seqOnePastSegment);

    const relSeq = this.relativeSeq(E, iE, baseSeq, E.lastSeq[iE], this.ends.seqWraps(iE));
    const seqUnderflow = this.relUnderflow;

    this.updateHistory(slot, flags, me, relSeq, len);
    this.updateWindow(slot, me, seg.window, flags);

    if (!E.didClose[iE] || !P.didClose[iP]) s.lastTime[slot] = t;

    if (flags & FIN) {
      const r = this.ends.rareOf(iE); // before reading the pool's columns: it may grow
      const X = this.ends.rare.c;
      X.finCount[r]++;
      X.finSeq[r] = relSeq + segLen;
    }

    let relAck = 0;
    if (flags & ACK) {
      if (P.state[iP] === EndpointState.INACTIVE) {
        relAck = 1;
        // init_peer: an ACK for a side we never heard from numbers that side as if it had sent a SYN.
        restartSequence(P, iP, ackSeq - 1, ackSeq - 1, ackSeq - 1);
      } else {
        const rel = this.relativeSeq(P, iP, ackSeq, P.ackSeq[iP], this.ends.ackWraps(iP));
        if (this.relUnderflow) relAck = 0;
        else {
          relAck = rel;
          if (!(flags & RST)) this.updateAckSeq(P, iP, ackSeq); // ACKs in RSTs are not trusted
        }
      }
    }

    this.updateLastSeq(slot, me, seqOnePastSegment, flags, len);

    this.updateStateMachine(slot, t, me, baseSeq, len, isOrig, flags);
    const doClose = this.doClose;
    const genEvent = this.genEvent;

    // After the state machine, so a gap revealed by a FIN or RST can be judged against the new states.
    if (flags & ACK) this.reassembler.ackReceived(slot, peer, relAck);

    s.firstPacketSeen[slot] |= isOrig ? ORIG_SEEN : RESP_SEEN; // CheckPIA_FirstPacket

    const relDataSeq = flags & SYN ? relSeq + 1 : relSeq;
    if (len > 0 && !(flags & RST) && !seqUnderflow && seg.payloadCaptured) this.reassembler.dataSent(slot, me, relDataSeq, len);

    this.reassembler.checkEof(slot, me);

    // After the data, so data carried by a FIN is processed first.
    if (doClose) this.connectionClosed(slot, me, genEvent);
  }

  // ---------------------------------------------------------------- the endpoint state machine

  /** TCP_Endpoint::SetState; leaving the handshake switches to the TCP inactivity timeout. */
  private setState(slot: number, end: number, to: number): void {
    const E = this.ends.c;
    const iE = 2 * slot + end;
    const from = E.state[iE];
    if (to === from) return;
    if (!isHandshakeState(to) && isHandshakeState(from) && isHandshakeState(this.ends.c.state[2 * slot + (1 - end)])) {
      this.setInactivityTimeout(slot, this.host.tuning.tcpInactivityTimeout);
    }
    E.prevState[iE] = from;
    E.state[iE] = to;
  }

  private stateOf(slot: number, end: number): number {
    return this.ends.c.state[2 * slot + end];
  }

  private updateStateMachine(slot: number, t: number, me: number, baseSeq: number, len: number, isOrig: boolean, flags: number): void {
    this.doClose = false;
    this.genEvent = false;
    switch (this.stateOf(slot, me)) {
      case EndpointState.INACTIVE:
        this.updateInactiveState(slot, t, me, baseSeq, len, isOrig, flags);
        break;
      case EndpointState.SYN_SENT:
      case EndpointState.SYN_ACK_SENT:
        this.updateSynSentState(slot, me, flags);
        break;
      case EndpointState.ESTABLISHED:
      case EndpointState.PARTIAL:
        this.updateEstablishedState(slot, me, flags);
        break;
      case EndpointState.CLOSED:
        this.updateClosedState(slot, me, flags);
        break;
      case EndpointState.RESET:
        break; // SYN_after_reset, FIN_after_reset, data_after_reset: weirds only
    }
  }

  private updateInactiveState(slot: number, t: number, me: number, baseSeq: number, len: number, isOrig: boolean, flags: number): void {
    const peer = 1 - me;
    if (flags & SYN) {
      if (isOrig) this.originatorOpens(slot, t, me, flags);
      else this.responderAnswers(slot, me, baseSeq, flags);
    }

    if (flags & FIN) {
      this.setState(slot, me, EndpointState.CLOSED);
      this.doClose = this.genEvent = true; // spontaneous_FIN unless the peer is mid-stream or SYN is set
    }

    if (flags & RST) {
      this.setState(slot, me, EndpointState.RESET);
      const p = this.stateOf(slot, peer);
      const isReject = isOrig
        ? p === EndpointState.ESTABLISHED // a SYN-ACK seen but no SYN: a reverse scan
        : p === EndpointState.SYN_SENT || p === EndpointState.SYN_ACK_SENT;
      this.doClose = true;
      this.genEvent = !isReject;
    }

    if (this.stateOf(slot, me) === EndpointState.INACTIVE) this.noControlFlags(slot, me, len, isOrig, flags);
  }

  /** The originator's SYN (or SYN-ACK): SYN_SENT (or SYN_ACK_SENT) and the attempt timer. */
  private originatorOpens(slot: number, t: number, me: number, flags: number): void {
    this.setState(slot, me, flags & ACK ? EndpointState.SYN_ACK_SENT : EndpointState.SYN_SENT);
    const delay = this.host.tuning.tcpAttemptDelay;
    if (delay) this.addAnalyzerTimer(slot, t + delay, TimerKind.ATTEMPT);
  }

  /** The responder's SYN or SYN-ACK establishes it, and a SYN_SENT originator with it. */
  private responderAnswers(slot: number, me: number, baseSeq: number, flags: number): void {
    const peer = 1 - me;
    if (!(flags & ACK) && this.stateOf(slot, peer) === EndpointState.SYN_ACK_SENT && baseSeq === this.ends.c.startSeq[2 * slot + me]) {
      // The SYN-ACK was captured before this SYN: flip the roles and establish.
      this.cols.c.partial[slot] = 0;
      this.flipRoles(slot);
      this.setState(slot, peer, EndpointState.ESTABLISHED);
      this.cols.c.firstPacketSeen[slot] |= ORIG_SEEN;
    }
    if (this.stateOf(slot, peer) === EndpointState.SYN_SENT) this.setState(slot, peer, EndpointState.ESTABLISHED);
    // (a silent originator: unsolicited_SYN_response; another pure SYN: simultaneous_open)
    this.setState(slot, me, EndpointState.ESTABLISHED);
    if (this.stateOf(slot, peer) !== EndpointState.PARTIAL) this.connectionEstablished(slot);
  }

  /** Data or ACK from a side that sent no SYN, FIN or RST yet. */
  private noControlFlags(slot: number, me: number, len: number, isOrig: boolean, flags: number): void {
    if (!isOrig && len === 0 && this.stateOf(slot, this.cols.c.origEnd[slot]) === EndpointState.SYN_SENT) {
      // Some stacks ACK a SYN before answering it: not a partial connection.
    } else if (flags & ACK && this.stateOf(slot, 1 - me) === EndpointState.ESTABLISHED) {
      // We missed this side's SYN but saw the peer's SYN-ACK.
      this.setState(slot, me, EndpointState.ESTABLISHED);
      this.cols.c.partial[slot] = 0;
      this.cols.c.firstPacketSeen[slot] |= isOrig ? ORIG_SEEN : RESP_SEEN;
    } else {
      this.setState(slot, me, EndpointState.PARTIAL);
    }
  }

  private updateSynSentState(slot: number, me: number, flags: number): void {
    if (flags & FIN) {
      this.setState(slot, me, EndpointState.CLOSED); // inappropriate_FIN if the peer is silent
      this.doClose = this.genEvent = true;
    }
    if (flags & RST) {
      this.setState(slot, me, EndpointState.RESET);
      this.cols.c.isActive[slot] = 0; // ConnectionReset
      this.doClose = true;
    }
  }

  private updateEstablishedState(slot: number, me: number, flags: number): void {
    const peer = 1 - me;
    const P = this.ends.c;
    const iP = 2 * slot + peer;
    if (flags & SYN && this.stateOf(slot, me) === EndpointState.PARTIAL && P.state[iP] === EndpointState.INACTIVE && !(flags & ACK)) {
      this.setState(slot, me, EndpointState.SYN_SENT); // SYN_after_partial
    }
    if (flags & FIN && !(flags & RST)) {
      this.setState(slot, me, EndpointState.CLOSED);
      // The peer sent FIN then RST: that was a normal close after all.
      if (P.state[iP] === EndpointState.RESET && P.prevState[iP] === EndpointState.CLOSED) this.setState(slot, peer, EndpointState.CLOSED);
      this.doClose = this.genEvent = true;
    }
    if (flags & RST) {
      this.setState(slot, me, EndpointState.RESET);
      this.doClose = true;
      if (P.state[iP] !== EndpointState.RESET || P.prevState[iP] !== EndpointState.ESTABLISHED) this.cols.c.isActive[slot] = 0; // ConnectionReset
    }
  }

  /** After our FIN, a RST counts only if the peer has not closed too. */
  private updateClosedState(slot: number, me: number, flags: number): void {
    if (flags & RST && this.stateOf(slot, 1 - me) !== EndpointState.CLOSED) {
      this.setState(slot, me, EndpointState.RESET);
      if (!this.ends.c.didClose[2 * slot + me]) this.doClose = true; // RST after FIN
    }
  }

  // ---------------------------------------------------------------- closing

  /** TCPSessionAdapter::ConnectionClosed: report a side's close, arm the removal. */
  private connectionClosed(slot: number, me: number, genEvent: boolean): void {
    const s = this.cols.c;
    if (this.reassembler.dataPending(slot, me)) {
      // Wait for the data still to be delivered before reporting the close.
      s.closeDeferred[slot] = 1;
      if (!s.deferredGenEvent[slot]) s.deferredGenEvent[slot] = genEvent ? 1 : 0;
      return;
    }
    s.closeDeferred[slot] = 0;
    const E = this.ends.c;
    const iE = 2 * slot + me;
    const P = this.ends.c;
    const iP = 2 * slot + (1 - me);
    if (E.didClose[iE]) return;
    E.didClose[iE] = 1;

    const tuning = this.host.tuning;
    const closeComplete = E.state[iE] === EndpointState.RESET || P.didClose[iP] || P.state[iP] === EndpointState.INACTIVE;
    if (closeComplete) {
      if (E.prevState[iE] !== EndpointState.INACTIVE || P.state[iP] !== EndpointState.INACTIVE) {
        if (s.deferredGenEvent[slot]) {
          genEvent = true;
          s.deferredGenEvent[slot] = 0;
        }
        if (genEvent) s.isActive[slot] = 0; // ConnectionFinished
      }
      this.cancelAnalyzerTimers(slot);
      this.addAnalyzerTimer(slot, s.lastTime[slot] + tuning.tcpCloseDelay, TimerKind.REMOVE);
    } else if (E.prevState[iE] !== EndpointState.INACTIVE) {
      // A half close: look again later for the other side closing.
      this.addAnalyzerTimer(slot, s.lastTime[slot] + tuning.tcpSessionTimer, TimerKind.EXPIRE);
    }
  }

  /** Seen from the connection_established event: base/protocols/conn/inactivity.zeek. */
  private connectionEstablished(slot: number): void {
    const o = this.cols.c.origEnd[slot];
    const row = this.cols.c.row[slot];
    let servicePort = this.table.port(row, 1 - o);
    const likely = this.host.likelyServerPorts;
    if (this.stateOf(slot, o) === EndpointState.INACTIVE && !likely.has(servicePort) && likely.has(this.table.port(row, o))) servicePort = this.table.port(row, o);
    const timeout = this.host.tuning.portInactivityTimeouts.get(servicePort);
    if (timeout !== undefined) this.setInactivityTimeout(slot, timeout);
  }

  private isClosed(slot: number): boolean {
    return this.ends.c.didClose[2 * slot] !== 0 || this.ends.c.didClose[2 * slot + 1] !== 0;
  }

  // ---------------------------------------------------------------- ReassemblerHost

  isPartial(slot: number): boolean {
    return this.cols.c.partial[slot] !== 0;
  }

  contentGap(slot: number, end: number, _seq: number, len: number): void {
    // Only connections established (or cleanly closing) on both sides get a letter and missed_bytes.
    if (this.isClean(slot, end) && this.isClean(slot, 1 - end)) {
      const E = this.ends.c;
      const iE = 2 * slot + end;
      const r = this.ends.rareOf(iE);
      const X = this.ends.rare.c;
      if (bumpScaled(X.gaps, X.gapsNext, r)) this.addHistory(slot, end, LETTER_G);
      X.missedBytes[r] += len; // (integers: the sum over both ends is the same in any order)
    }
  }

  endpointEof(slot: number, end: number): void {
    const s = this.cols.c;
    if (!s.closeDeferred[slot]) return;
    this.connectionClosed(slot, end, s.deferredGenEvent[slot] !== 0);
    s.closeDeferred[slot] = 0;
  }

  /** Established, or closed straight from established. */
  private isClean(slot: number, end: number): boolean {
    const E = this.ends.c;
    const iE = 2 * slot + end;
    const st = E.state[iE];
    return st === EndpointState.ESTABLISHED || (st === EndpointState.CLOSED && E.prevState[iE] === EndpointState.ESTABLISHED);
  }

  // ---------------------------------------------------------------- timers

  private addAnalyzerTimer(slot: number, due: number, kind: number): void {
    const s = this.cols.c;
    this.timers.push(due, s.row[slot], s.serial[slot], kind, s.timerEpoch[slot]);
    s.analyzerTimers[slot]++;
  }

  /** The analyzer timers set so far no longer stand (they stay in the heap, counted stale). */
  private cancelAnalyzerTimers(slot: number): void {
    const s = this.cols.c;
    this.timers.stale += s.analyzerTimers[slot];
    s.analyzerTimers[slot] = 0;
    s.timerEpoch[slot] = (s.timerEpoch[slot] + 1) >>> 0;
    this.compactTimers();
  }

  private cancelInactivityTimer(slot: number): void {
    const s = this.cols.c;
    if (s.inactivityOrder[slot] < 0) return;
    s.inactivityOrder[slot] = -1;
    this.timers.stale++;
    this.compactTimers();
  }

  /** Memory follows live timers: the heap is rebuilt when canceled entries dominate it. */
  private compactTimers(): void {
    const t = this.timers;
    if (t.stale > 1024 && t.stale * 2 > t.size) t.compact(this.stands);
  }

  /** Session::SetInactivityTimeout: re-arm at last activity + timeout. */
  private setInactivityTimeout(slot: number, timeout: number): void {
    const s = this.cols.c;
    if (timeout === s.inactivityTimeout[slot]) return;
    this.cancelInactivityTimer(slot);
    if (timeout) this.armInactivityTimer(slot, s.lastTime[slot] + timeout);
    s.inactivityTimeout[slot] = timeout;
  }

  private armInactivityTimer(slot: number, due: number): void {
    const s = this.cols.c;
    s.inactivityOrder[slot] = this.timers.push(due, s.row[slot], s.serial[slot], TimerKind.INACTIVITY, 0);
  }

  /** The heap's test for an entry of the row whose Zeek connection is in `slot`. */
  standsAt(slot: number, serial: number, kind: number, epoch: number, order: number): boolean {
    const s = this.cols.c;
    return s.serial[slot] === serial && (kind === TimerKind.INACTIVITY ? s.inactivityOrder[slot] === order : s.timerEpoch[slot] === epoch);
  }

  /** A timer of the connection in `slot` that stands came due: what it does. */
  fire(slot: number, kind: number, now: number): void {
    const s = this.cols.c;
    if (kind === TimerKind.INACTIVITY) {
      s.inactivityOrder[slot] = -1;
      if (s.lastTime[slot] + s.inactivityTimeout[slot] <= now) this.host.remove(slot);
      else this.armInactivityTimer(slot, s.lastTime[slot] + s.inactivityTimeout[slot]);
      return;
    }
    s.analyzerTimers[slot]--;
    if (kind === TimerKind.EXPIRE) this.expireTimer(slot, now);
    else if (kind === TimerKind.ATTEMPT) this.attemptTimer(slot);
    else this.host.remove(slot);
  }

  /** A SYN nobody answered: log the attempt (S0) and forget the connection. */
  private attemptTimer(slot: number): void {
    const s = this.cols.c;
    if (!s.isActive[slot]) return;
    const o = s.origEnd[slot];
    const origState = this.stateOf(slot, o);
    const opened = origState === EndpointState.SYN_SENT || origState === EndpointState.SYN_ACK_SENT;
    if (opened && this.stateOf(slot, 1 - o) === EndpointState.INACTIVE) {
      s.isActive[slot] = 0;
      this.host.remove(slot);
    }
  }

  /** Idle for tcp_connection_linger after a close (or with nothing ever processed): remove; else look again. */
  private expireTimer(slot: number, now: number): void {
    const s = this.cols.c;
    if (!s.isActive[slot]) return;
    const tuning = this.host.tuning;
    if (s.lastTime[slot] + tuning.tcpConnectionLinger < now) {
      const o = s.origEnd[slot];
      const O = this.ends.c;
      const iO = 2 * slot + o;
      const R = this.ends.c;
      const iR = 2 * slot + (1 - o);
      const origState = O.state[iO];
      const respState = R.state[iR];
      if (O.didClose[iO] || R.didClose[iR]) {
        const anyReset = origState === EndpointState.RESET || respState === EndpointState.RESET;
        const anyInactive = origState === EndpointState.INACTIVE || respState === EndpointState.INACTIVE;
        if ((O.didClose[iO] && R.didClose[iR]) || anyReset || anyInactive) {
          s.isActive[slot] = 0;
          this.host.remove(slot);
          return;
        }
      }
      if (respState === EndpointState.INACTIVE && origState === EndpointState.INACTIVE) {
        this.host.remove(slot); // nothing was ever processed (e.g. only a bad checksum)
        return;
      }
    }
    this.addAnalyzerTimer(slot, now + tuning.tcpSessionTimer, TimerKind.EXPIRE);
  }
}
