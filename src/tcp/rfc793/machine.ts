/**
 * The per-endpoint RFC 793 state machine, driven by what each side sends and
 * receives. Every change goes through `enter`, which records it.
 *
 * The capture is taken at one point on the path. What a side sends is known when
 * it passes that point. When a SYN or FIN reached the other side is known only
 * from what that side sends next: an ACK covering it proves it arrived; a segment
 * that does not cover it was sent before it arrived (a simultaneous open or close).
 * So received SYNs and FINs wait as receipts and are applied at their own frame,
 * or after the receiver's crossing segment, once that evidence comes (or at the end
 * of the capture). ACKs and RSTs are applied as they pass.
 */
import { TcpFlag } from '../../decode/packet.js';
import { ACKS_OWN_FIN, BEHIND_HOLE, Receipt, UNANSWERED, type FlowStore } from './flow.js';
import { NONE } from '../../conn/pool.js';
import { seqAdd, seqDiff, seqGe, seqLt } from './seq.js';
import { Cause, icmpCause, isIcmpCause, type CauseCode } from './causes.js';
import { St, goneState } from './tcp-state.js';

const { SYN, ACK, FIN, RST } = TcpFlag;

export interface Segment {
  frame: number;
  ts: number;
  flags: number;
  seq: number;
  ack: number;
  len: number;
  /** Advertised window, unscaled. */
  window: number;
  /** Window scale option on a SYN, or -1. */
  windowScale: number;
  /** The highest right edge of its SACK blocks, or -1 (none; undefined: not known). */
  sackRight?: number;
}

/**
 * How the hosts' stacks judge what they receive (the `--stack` profile):
 * Linux follows RFC 5961 (a RST must hit rcv_nxt exactly; one elsewhere in the window
 * draws a challenge ACK) and answers SYNs with cookies; RFC 793 accepts a RST anywhere
 * in the receive window.
 */
export interface StackRules {
  /** A RST changes a synchronized connection only at rcv_nxt (RFC 5961 section 3). */
  exactReset: boolean;
  /** A SYN-ACK never retransmitted for this long carried a SYN cookie: no socket was kept (Infinity: no cookies). */
  synCookieUs: number;
}

export const LINUX_RULES: StackRules = { exactReset: true, synCookieUs: 1_500_000 };

/*
 * Endpoints are numbers: 2 * row + side (0 the client, 1 the server) in the store's endpoint
 * columns; `e ^ 1` is the peer, `e >> 1` the flow's row. A frame of 0 means a timer.
 */

/** The one function through which every state change passes. */
export function enter(st: FlowStore, e: number, to: number, frame: number, ts: number, cause: CauseCode, inferred = false): void {
  const x = st.e.c;
  const from = x.state[e];
  if (from === to) return;
  x.state[e] = to;
  x.since[e] = ts;
  if (to === St.CLOSE_WAIT) {
    x.closeWaitSince[e] = ts;
    x.closeWaitFrame[e] = frame;
  } else if (from === St.CLOSE_WAIT && x.closeWaitUntil[e] < 0) x.closeWaitUntil[e] = ts;
  const row = e >> 1;
  st.record(row, frame, ts, e & 1, from, to, cause, inferred);
  const f = st.f.c;
  if (goneState(x.state[2 * row]) && goneState(x.state[2 * row + 1])) {
    if (f.goneAt[row] < 0) f.goneAt[row] = ts;
  } else f.goneAt[row] = -1;
}

/**
 * An ICMP error of kind `icmp` (decode/icmp.ts) quoting a segment of endpoint `r` with sequence
 * number `seq` reaches r. As Linux's tcp_v4_err/tcp_v6_err take it: a connect in SYN_SENT (the
 * quoted number between snd_una and snd_nxt), or an end in SYN_RECEIVED by a simultaneous open,
 * fails at once; a request socket (a passive SYN_RECEIVED) is dropped only by the kinds that abort
 * it (`abortsRequest`) and only when the quote is its SYN-ACK; in any other state the error is
 * soft (reported to the application, no state changes). Returns whether r's state changed.
 */
export function icmpError(st: FlowStore, r: number, frame: number, ts: number, icmp: number, seq: number, abortsRequest: boolean): boolean {
  const x = st.e.c;
  const state = x.state[r];
  const cause = icmpCause(icmp);
  if (state === St.SYN_SENT) {
    // A SYN-ACK it holds as received (its receipt pending) made it ESTABLISHED before the error came.
    if (x.pending[r] !== NONE) return false;
    if (x.isn[r] >= 0 && (seqDiff(seq, x.isn[r]) < 0 || seqDiff(seq, x.sndNxt[r]) > 0)) return false;
    enter(st, r, St.CLOSED, frame, ts, cause);
    return true;
  }
  if (state === St.SYN_RECEIVED && !x.passive[r]) {
    if (x.isn[r] >= 0 && (seqDiff(seq, x.isn[r]) < 0 || seqDiff(seq, x.sndNxt[r]) > 0)) return false;
    enter(st, r, St.CLOSED, frame, ts, cause);
    return true;
  }
  if (state === St.SYN_RECEIVED && abortsRequest && x.isn[r] >= 0 && seq === x.isn[r]) {
    enter(st, r, St.LISTEN, frame, ts, Cause.RECEIVED_ICMP_REQUEST_DROPPED);
    // The request is gone: the client's next SYN makes a new one, with a SYN-ACK of a new ISN.
    // (Its SYN-ACK count goes on: the findings count every SYN-ACK of the connection.)
    x.isn[r] = -1;
    x.hasSent[r] = 0;
    return true;
  }
  return false;
}

/**
 * `s`, whose connect an ICMP error ended (icmpError), sends its SYN again with the same initial
 * sequence number: the error never reached it (lost after the capture point, or out of its
 * window). Hindsight takes back its change to CLOSED.
 */
export function icmpNeverArrived(st: FlowStore, s: number, icmp: number): boolean {
  return reopen(st, s, St.SYN_SENT, icmpCause(icmp));
}

/**
 * Hindsight: take back s's last change, from `back` to CLOSED (for `cause`, when >= 0): its state
 * is `back` again, and the flow no longer gone. An ICMP error's finding goes with its change.
 * Returns false when s's last change is another one.
 */
function reopen(st: FlowStore, s: number, back: number, cause: number): boolean {
  const x = st.e.c;
  const row = s >> 1;
  const since = st.revokeLast(row, s & 1, back, St.CLOSED, cause);
  if (since < 0) return false;
  x.state[s] = back;
  x.since[s] = since;
  const c = st.f.c;
  c.goneAt[row] = -1;
  if (isIcmpCause(cause) && c.icmpTo[row] === 1 + (s & 1)) {
    c.icmpTo[row] = 0;
    c.icmpCount[row] = 0;
  }
  return true;
}

/** One segment from endpoint `s` to endpoint `r`. */
export function segment(st: FlowStore, s: number, r: number, seg: Segment, rules: StackRules = LINUX_RULES): void {
  const x = st.e.c;
  const senderState = x.state[s];
  let reset = 0;
  if (seg.flags & RST) {
    // A RST answering a SYN on a closed port is no evidence of a listener.
    if (x.state[s] === St.CLOSED) dropReceipts(st, s, Receipt.SYN);
    // A RST/ACK acknowledges what its sender had received (Linux puts rcv_nxt in it).
    if (seg.flags & ACK) confirmReceipts(st, s, seg.ack, seg, false);
    reset = judgeReset(st, r, s, seg, rules);
  } else if (seg.flags & ACK) {
    confirmReceipts(st, s, seg.ack, seg, true);
    noteHole(st, s, seg);
  }
  if (!(seg.flags & (RST | SYN)) && x.state[s] === St.CLOSED) {
    resetNeverArrived(st, s, seg);
    cameBack(st, s, seg);
  }
  sent(st, s, r, seg, reset);
  x.lastSendFrame[s] = seg.frame;
  x.lastSendTs[s] = seg.ts;
  // Segments from s arrive in order: whatever s sent earlier reached r first.
  applyReceipts(st, r);
  received(st, r, s, seg, senderState, reset, rules);
  if (reset === Reset.ACCEPTED && !rules.exactReset && st.f.c.resetFrame[r >> 1] === seg.frame && judgeReset(st, r, s, seg, { ...rules, exactReset: true }) !== Reset.ACCEPTED) {
    // Taken only by the profile's window rule (not at rcv_nxt): a later segment of r's does not undo it.
    st.f.c.resetBits[r >> 1] |= IN_WINDOW_ONLY;
  }
  if (seg.flags & ACK && !(seg.flags & RST)) {
    // Any ACK answers r's zero-window probes (Linux's tcp_ack zeroes icsk_probes_out); an open
    // window or newly acknowledged data (a fresh RTT sample) ends the probes' backoff.
    x.probesUnanswered[r] = 0;
    if (x.window[s] !== 0 || (x.hasAcked[s] && seqDiff(seg.ack, x.ackedUpTo[s]) > 0)) x.probesSinceZeroWindow[r] = 0;
  }
  if (seg.flags & ACK && !(seg.flags & RST) && (!x.hasAcked[s] || seqGe(seg.ack, x.ackedUpTo[s]))) {
    // r's data is acknowledged further: it is making progress again.
    if (x.hasAcked[s] && seqDiff(seg.ack, x.ackedUpTo[s]) > 0) {
      x.retransmissionsUnacked[r] = 0;
      x.unackedSince[r] = seqDiff(x.sndNxt[r], seg.ack) > 0 ? seg.ts : -1;
      // A closing endpoint that still acknowledges new data is reading it: not an orphan.
      if (x.finSent[s] && !(x.finSent[r] && seg.ack === seqAdd(x.finSeq[r], 1))) x.readsAfterClose[s] = 1;
    } else if (seqGe(seg.ack, x.sndNxt[r])) x.unackedSince[r] = -1;
    x.ackedUpTo[s] = seg.ack;
    x.hasAcked[s] = 1;
  }
  const row = s >> 1;
  st.f.c.lastSender[row] = s & 1;
  st.f.c.lastPayload[row] = seg.len;
  if (seg.len > 0) st.f.c.lastDataSender[row] = s & 1;
}

/**
 * The capture has ended (or the flow is swept): a FIN seen on the wire is taken to
 * have arrived, and so is a crossing SYN; a SYN to a silent host proves nothing, nor
 * does a FIN its sender had to send again with no answer (UNANSWERED: it stays pending).
 */
export function settle(st: FlowStore, row: number): void {
  for (let e = 2 * row; e < 2 * row + 2; e++) {
    if (st.e.c.state[e] === St.CLOSED) dropReceipts(st, e, Receipt.SYN);
    applyReceipts(st, e);
  }
}

/** Take receipt `i` (after `prev`, NONE: the head) out of e's list; the record is still readable until the next alloc. */
function unlink(st: FlowStore, e: number, i: number, prev: number): void {
  const next = st.receipts.next[i];
  if (prev === NONE) st.e.c.pending[e] = next;
  else st.receipts.next[prev] = next;
  st.receipts.release(i);
}

function dropReceipts(st: FlowStore, e: number, kind: number): void {
  const kinds = st.receipts.c.kind;
  let prev = NONE;
  for (let i = st.e.c.pending[e]; i !== NONE; ) {
    const next = st.receipts.next[i];
    if (kinds[i] === kind) unlink(st, e, i, prev);
    else prev = i;
    i = next;
  }
}

/**
 * e sends an ACK up to `ack`: every receipt it covers has arrived. A RST/ACK proves the
 * SYN-ACK and FIN it acknowledges, never a SYN (a closed port answers a SYN with one).
 */
function confirmReceipts(st: FlowStore, e: number, ack: number, seg: Segment, syns: boolean): void {
  const rc = st.receipts.c;
  let prev = NONE;
  for (let i = st.e.c.pending[e]; i !== NONE; ) {
    // Covered, and not by a number from another sequence space (a stale or forged ACK's lies anywhere).
    const d = seqDiff(ack, rc.ackedBy[i]);
    if (d < 0 || d >= MAX_IN_FLIGHT) break;
    const next = st.receipts.next[i];
    if (!syns && rc.kind[i] === Receipt.SYN) {
      prev = i;
      i = next;
      continue;
    }
    unlink(st, e, i, prev);
    // A FIN that waited behind a hole is processed once the hole is filled: when e's ACK covers it.
    // A FIN its sender had to send again (UNANSWERED) takes effect at its own frame, as any other:
    // e's ACK was lost before the capture point as likely as the FIN after it.
    applyReceipt(st, e, rc.kind[i], rc.frame[i], rc.ts[i], rc.bits[i], true, rc.bits[i] & BEHIND_HOLE ? seg : null);
    i = next;
  }
}

/**
 * e acknowledges below a FIN it has been sent, with a SACK block beyond it or as a
 * duplicate ACK: the FIN came in behind a hole, and waits there (RFC 793 processes a
 * FIN in sequence).
 */
function noteHole(st: FlowStore, e: number, seg: Segment): void {
  const rc = st.receipts.c;
  const x = st.e.c;
  for (let i = x.pending[e]; i !== NONE; i = st.receipts.next[i]) {
    if (rc.kind[i] !== Receipt.FIN || rc.bits[i] & BEHIND_HOLE || !seqLt(seg.ack, seqAdd(rc.ackedBy[i], -1))) continue;
    const sacked = seg.sackRight !== undefined && seg.sackRight >= 0 && seqGe(seg.sackRight, rc.ackedBy[i]);
    const duplicate = seg.len === 0 && x.hasAcked[e] !== 0 && seg.ack === x.ackedUpTo[e] && seg.frame > rc.frame[i];
    if (sacked || duplicate) rc.bits[i] |= BEHIND_HOLE;
  }
}

/**
 * Apply what has surely arrived. A SYN to a host that has not answered, or a SYN-ACK
 * to a client that never acknowledged it (a spoofed or vanished source), stays unproven.
 */
function applyReceipts(st: FlowStore, e: number): void {
  const rc = st.receipts.c;
  const x = st.e.c;
  let prev = NONE;
  for (let i = x.pending[e]; i !== NONE; ) {
    const next = st.receipts.next[i];
    const kind = rc.kind[i];
    if (kind === Receipt.SYNACK || rc.bits[i] & (BEHIND_HOLE | UNANSWERED) || (kind === Receipt.SYN && (x.state[e] === St.CLOSED || x.state[e] === St.LISTEN))) prev = i;
    else {
      unlink(st, e, i, prev);
      applyReceipt(st, e, kind, rc.frame[i], rc.ts[i], rc.bits[i], false);
    }
    i = next;
  }
}

/**
 * A receipt takes effect at its own frame, or after e's last segment if that one crossed it,
 * or (a FIN behind a hole) at the segment `filled` that shows the hole filled.
 */
function applyReceipt(st: FlowStore, e: number, kind: number, rcFrame: number, rcTs: number, bits: number, answered: boolean, filled: Segment | null = null): void {
  const x = st.e.c;
  let frame: number;
  let ts: number;
  if (filled !== null) {
    frame = filled.frame;
    ts = filled.ts;
  } else if (rcFrame >= x.lastSendFrame[e]) {
    frame = rcFrame;
    ts = rcTs;
  } else {
    frame = x.lastSendFrame[e];
    ts = x.lastSendTs[e];
  }
  if (kind === Receipt.SYN) receivedSyn(st, e, rcTs, frame, ts, answered);
  else if (kind === Receipt.SYNACK) receivedSynAck(st, e, frame, ts);
  else receivedFin(st, e, bits, frame, ts);
}

function receivedSynAck(st: FlowStore, e: number, frame: number, ts: number): void {
  const state = st.e.c.state[e];
  if (state === St.SYN_SENT) enter(st, e, St.ESTABLISHED, frame, ts, Cause.RECEIVED_SYN_ACK);
  else if (state === St.SYN_RECEIVED) enter(st, e, St.ESTABLISHED, frame, ts, Cause.RECEIVED_SYN_ACK_SIMULTANEOUS);
}

function receivedSyn(st: FlowStore, e: number, rcTs: number, frame: number, ts: number, answered: boolean): void {
  const x = st.e.c;
  if (x.state[e] === St.SYN_SENT) {
    enter(st, e, St.SYN_RECEIVED, frame, ts, Cause.RECEIVED_SYN_SIMULTANEOUS);
  } else if (answered && (x.state[e] === St.CLOSED || x.state[e] === St.LISTEN)) {
    // It answered: it was listening, and the SYN made it SYN_RECEIVED (a passive open).
    x.passive[e] = 1;
    if (x.state[e] === St.CLOSED) enter(st, e, St.LISTEN, 0, rcTs, Cause.LISTENING_ANSWERED_THE_SYN, true);
    enter(st, e, St.SYN_RECEIVED, frame, ts, Cause.RECEIVED_SYN_PASSIVE);
  }
}

function receivedFin(st: FlowStore, e: number, bits: number, frame: number, ts: number): void {
  switch (st.e.c.state[e]) {
    case St.ESTABLISHED:
    case St.SYN_RECEIVED:
      enter(st, e, St.CLOSE_WAIT, frame, ts, bits & BEHIND_HOLE ? Cause.RECEIVED_FIN_AFTER_HOLE : Cause.RECEIVED_FIN);
      break;
    case St.FIN_WAIT_1:
      if (bits & ACKS_OWN_FIN) enter(st, e, St.TIME_WAIT, frame, ts, Cause.RECEIVED_FIN_WITH_ACK_OF_FIN);
      else enter(st, e, St.CLOSING, frame, ts, Cause.RECEIVED_FIN_SIMULTANEOUS);
      break;
    case St.FIN_WAIT_2:
      enter(st, e, St.TIME_WAIT, frame, ts, Cause.RECEIVED_FIN);
      break;
    default:
      break;
  }
}

/** Linux's TCP_RTO_MIN (200 ms): no retransmission timeout fires sooner. */
const RTO_MIN_US = 200_000;
/** A timeout's wait may come out a little shorter than the one before it (timer slack, a capture point off the sender). */
const BACKOFF_SLACK = 0.9;

function sent(st: FlowStore, s: number, r: number, seg: Segment, reset: number): void {
  const x = st.e.c;
  const f = seg.flags;
  if (resendsBeforeFin(st, s, seg)) finUnanswered(st, s, r, seg);
  if (x.state[s] === St.SYN_RECEIVED && x.ackOfSynDropped[s] && !(f & (SYN | RST)) && f & ACK && x.isn[s] >= 0 && seqGe(seg.seq, seqAdd(x.isn[s], 1))) {
    // It had dropped an ACK of its SYN (it sent the SYN-ACK again after one passed) and answered
    // the same ACK since with nothing: now it sends a segment of the connection (data, an ACK, a
    // FIN) after its SYN, which a request in SYN_RECEIVED never does: an ACK of its SYN was taken.
    enter(st, s, St.ESTABLISHED, seg.frame, seg.ts, Cause.SENT_AFTER_ACK_OF_SYN_DROPPED, true);
  }
  if (!(f & (SYN | RST | FIN)) && seg.len <= 1 && x.hasAcked[r] && x.window[r] === 0 && seg.seq === seqAdd(x.ackedUpTo[r], -1)) zeroWindowProbe(st, s, r, seg);
  if (seg.len > 0 && !(f & (SYN | RST))) {
    if (x.unackedSince[s] < 0) {
      x.unackedSince[s] = seg.ts;
      x.unackedFrame[s] = seg.frame;
    }
    if (x.hasSent[s] && seqDiff(seg.seq, x.sndNxt[s]) < 0) {
      // tcp_retries2 counts retransmission timeouts: the oldest unacknowledged segment sent again
      // after at least TCP_RTO_MIN, each wait no shorter than the last (backoff). Fast
      // retransmissions and SACK recovery resend other segments within an RTT: not counted.
      const gap = seg.ts - (x.retransmissionsUnacked[s] > 0 ? x.lastRetransmissionTs[s] : x.unackedSince[s]);
      const head = !x.hasAcked[r] || seg.seq === x.ackedUpTo[r];
      if (head && gap >= RTO_MIN_US && (x.retransmissionsUnacked[s] === 0 || gap >= x.retransmitGapUs[s] * BACKOFF_SLACK)) {
        x.retransmitGapUs[s] = gap;
        if (x.retransmissionsUnacked[s] === 0) x.firstRetransmissionTs[s] = seg.ts;
        x.retransmissionsUnacked[s]++;
        x.lastRetransmissionTs[s] = seg.ts;
      }
    }
  }
  // What the peer will expect next from s (a RST's number is judged against it, never moves it).
  if (!(f & RST)) {
    const end = seqAdd(seg.seq, seg.len + (f & SYN ? 1 : 0) + (f & FIN ? 1 : 0));
    if (!x.hasSent[s] || seqDiff(end, x.sndNxt[s]) > 0) x.sndNxt[s] = end;
    x.hasSent[s] = 1;
  }
  if (f & SYN && seg.windowScale >= 0) x.windowScale[s] = seg.windowScale;
  x.window[s] = (f & SYN ? seg.window : seg.window * 2 ** Math.max(0, x.windowScale[s])) | 0;

  if (f & RST) {
    // A RST ends its sender's socket when its receiver takes it (or has nothing left to take it with).
    // SYN_SENT answers an ACK that does not acknowledge its SYN with a RST (its sequence number is
    // that ACK's) and stays (RFC 793 p.66); any other RST from it is an abort.
    if (reset === Reset.IGNORED || goneState(x.state[s])) return;
    if (x.state[s] === St.SYN_SENT && x.badAckInSynSent[s] >= 0 && seg.seq === x.badAckInSynSent[s]) return;
    enter(st, s, St.CLOSED, seg.frame, seg.ts, Cause.SENT_RST);
    return;
  }
  if (f & SYN && !(f & ACK)) {
    x.synsSent[s]++;
    // A SYN sent again within TCP_RTO_MIN of the last is no step of the backoff (the first RTO is 1 s):
    // Linux's resend at TCP_TIMEOUT_MIN after a RST answering an ACK of nothing it sent. Its timer
    // goes on from the SYN before.
    if (x.synsSent[s] === 1 || seg.ts - x.lastSynTs[s] >= RTO_MIN_US) {
      x.synGapUs[s] = x.synsSent[s] > 1 ? seg.ts - x.lastSynTs[s] : 0;
      x.lastSynTs[s] = seg.ts;
    }
    if (x.state[s] === St.CLOSED) {
      x.isn[s] = seg.seq;
      x.synFrame[s] = seg.frame;
      x.synTs[s] = seg.ts;
      enter(st, s, St.SYN_SENT, seg.frame, seg.ts, Cause.SENT_SYN);
    }
  } else if (f & SYN) {
    if (x.state[s] === St.ESTABLISHED && x.passive[s] && seg.seq === x.isn[s] && !x.finSent[s] && seg.ts - x.since[s] >= crossingUs(st, s >> 1)) ackOfSynDropped(st, s);
    x.synAcks[s]++;
    x.lastSynAckTs[s] = seg.ts;
    if (x.isn[s] < 0) x.isn[s] = seg.seq;
    if (x.state[s] === St.CLOSED || x.state[s] === St.LISTEN) {
      // A SYN-ACK whose SYN was not captured.
      x.passive[s] = 1;
      if (x.state[s] === St.CLOSED) enter(st, s, St.LISTEN, 0, seg.ts, Cause.LISTENING_ANSWERED_A_SYN, true);
      enter(st, s, St.SYN_RECEIVED, seg.frame, seg.ts, Cause.SENT_SYN_ACK_SYN_UNSEEN, true);
      if (x.state[r] === St.CLOSED && !x.hasSent[r]) {
        x.isn[r] = seqAdd(seg.ack, -1);
        enter(st, r, St.SYN_SENT, seg.frame, seg.ts, Cause.SENT_SYN_UNSEEN, true);
      }
    }
  }
  if (f & FIN && x.finSent[s] && seqAdd(seg.seq, seg.len + (f & SYN ? 1 : 0)) === x.finSeq[s]) ackNeverArrived(st, s);
  if (f & FIN && !x.finSent[s]) {
    x.finSent[s] = 1;
    x.finSeq[s] = seqAdd(seg.seq, seg.len + (f & SYN ? 1 : 0));
    if (x.state[s] === St.ESTABLISHED || x.state[s] === St.SYN_RECEIVED) enter(st, s, St.FIN_WAIT_1, seg.frame, seg.ts, Cause.SENT_FIN_ACTIVE);
    else if (x.state[s] === St.CLOSE_WAIT) enter(st, s, St.LAST_ACK, seg.frame, seg.ts, Cause.SENT_FIN_PASSIVE);
  }
}

/**
 * s sends its FIN again after an ACK of it passed the capture point: that ACK never reached
 * it (lost after the capture point). Hindsight takes back the change the ACK made; s's next
 * ACK of its FIN makes it, with that evidence as its cause.
 */
function ackNeverArrived(st: FlowStore, s: number): void {
  const x = st.e.c;
  const state = x.state[s];
  const back = state === St.FIN_WAIT_2 ? St.FIN_WAIT_1 : state === St.CLOSED ? St.LAST_ACK : state === St.TIME_WAIT ? St.CLOSING : -1;
  if (back < 0) return;
  const since = st.revokeLast(s >> 1, s & 1, back, state);
  if (since < 0) return;
  x.state[s] = back;
  x.since[s] = since;
  x.finAckLost[s] = 1;
  st.f.c.goneAt[s >> 1] = -1;
}

/**
 * s probes r's zero window: a segment at r's acknowledged point minus one with 0 or 1 byte while
 * r's last window is 0 (Linux's persist timer, tcp_probe_timer: tshark calls it a keep-alive).
 * Linux counts each probe in icsk_probes_out until an ACK from r (see segment) and gives up at the
 * timer after tcp_retries2 of them (see FlowTable.probeGiveUp). The wire proves a persist timer's
 * probe as it proves a retransmission timeout: it comes at least TCP_RTO_MIN after the one before
 * (or after r's zero window), each wait no shorter than the last (backoff, within BACKOFF_SLACK);
 * a copy sooner is not the timer's and is not counted (it still counts toward the backoff).
 */
function zeroWindowProbe(st: FlowStore, s: number, r: number, seg: Segment): void {
  const x = st.e.c;
  const gap = seg.ts - (x.probesSinceZeroWindow[s] > 0 ? x.lastProbeTs[s] : x.lastSendTs[r]);
  x.probesSinceZeroWindow[s]++;
  if (gap < RTO_MIN_US || (x.probesUnanswered[s] > 0 && gap < x.probeGapUs[s] * BACKOFF_SLACK)) return;
  x.probesUnanswered[s]++;
  x.probeGapUs[s] = gap;
  x.lastProbeTs[s] = seg.ts;
}

/**
 * The longest a segment sent before a packet from the peer arrived can pass the capture point
 * after that packet (they crossed): twice the handshake's RTT seen there, at least TCP_RTO_MIN;
 * 1 s (Linux's initial RTO) when the RTT is not known.
 */
function crossingUs(st: FlowStore, row: number): number {
  const rtt = st.f.c.initialRttUs[row];
  return rtt >= 0 ? Math.max(2 * rtt, RTO_MIN_US) : 1_000_000;
}

/**
 * A passive endpoint sends its SYN-ACK again (same ISN), too long after the ACK of it passed for
 * the two to have crossed: it never took that ACK (Linux drops it when the accept queue is full,
 * tcp_abort_on_overflow=0, and keeps the request in SYN_RECEIVED, retransmitting). Hindsight takes
 * back ESTABLISHED; the peer's next ACKs, the same one again, prove nothing either (the queue may
 * still be full): only s's own next segment of the connection establishes it (see sent).
 */
function ackOfSynDropped(st: FlowStore, s: number): void {
  const x = st.e.c;
  const since = st.revokeLast(s >> 1, s & 1, St.SYN_RECEIVED, St.ESTABLISHED);
  if (since < 0) return;
  x.state[s] = St.SYN_RECEIVED;
  x.since[s] = since;
  x.ackOfSynDropped[s] = 1;
}

/**
 * s sends its FIN again, or data before it, at least a retransmission timeout after the FIN passed
 * (a copy sooner is a duplicate or a tail loss probe: it says nothing of r), while r has sent
 * nothing since: s got no ACK of it, and r, which would have acknowledged a FIN it took (and every
 * copy of it), said nothing. Its arrival is unproven: the FIN waits for r's ACK of it, even at the
 * end of the capture. If an earlier segment of s already applied it (ESTABLISHED -> CLOSE_WAIT),
 * hindsight takes that back and the FIN waits again.
 */
function finUnanswered(st: FlowStore, s: number, r: number, seg: Segment): void {
  const rc = st.receipts.c;
  const x = st.e.c;
  const by = seqAdd(x.finSeq[s], 1);
  const wait = crossingUs(st, s >> 1);
  for (let i = x.pending[r]; i !== NONE; i = st.receipts.next[i]) {
    if (rc.kind[i] === Receipt.FIN && rc.ackedBy[i] === by && x.lastSendFrame[r] < rc.frame[i] && seg.ts - rc.ts[i] >= wait) {
      rc.bits[i] |= UNANSWERED;
      return;
    }
  }
  if (x.state[r] !== St.CLOSE_WAIT || !x.peerFinReceived[r] || x.lastSendFrame[r] >= x.closeWaitFrame[r] || seg.ts - x.closeWaitSince[r] < wait) return;
  const frame = x.closeWaitFrame[r];
  const ts = x.closeWaitSince[r];
  const since = st.revokeLast(r >> 1, r & 1, St.ESTABLISHED, St.CLOSE_WAIT);
  if (since < 0) return;
  x.state[r] = St.ESTABLISHED;
  x.since[r] = since;
  x.closeWaitSince[r] = -1;
  x.closeWaitUntil[r] = -1;
  x.closeWaitFrame[r] = 0;
  queue(st, r, Receipt.FIN, frame, ts, by, UNANSWERED);
}

/** s, which has sent its FIN, sends it again or data before it (no SYN, no RST). */
function resendsBeforeFin(st: FlowStore, s: number, seg: Segment): boolean {
  const x = st.e.c;
  return x.finSent[s] !== 0 && !(seg.flags & (SYN | RST)) && (seg.len > 0 || (seg.flags & FIN) !== 0) && seqDiff(seg.seq, x.sndNxt[s]) < 0;
}

/**
 * s, taken as reset by a RST from its peer, sends a segment of that connection (no SYN, no RST, at
 * or below what it sent next), too long after the RST passed for the two to have crossed: a reset
 * socket is gone and answers only with RSTs, so that RST never reached s (dropped after the
 * capture point). Hindsight takes back s's change to CLOSED; the flow is not reset (yet). Not for
 * a RST taken only because a lenient profile (rfc793) takes any in the window: that is its premise.
 */
function resetNeverArrived(st: FlowStore, s: number, seg: Segment): void {
  const x = st.e.c;
  const row = s >> 1;
  const c = st.f.c;
  if (c.reset[row] === 0 || c.resetSentBy[row] === (s & 1) || !x.hasSent[s] || c.resetBits[row] & IN_WINDOW_ONLY) return;
  const d = seqDiff(seg.seq, x.sndNxt[s]);
  if (d > 0 || d < -MAX_IN_FLIGHT || seg.ts - c.resetTs[row] < crossingUs(st, row)) return;
  const back = c.resetReceiverState[row];
  if (goneState(back) || back === St.TIME_WAIT || back === St.SYN_SENT) return;
  if (reopen(st, s, back, -1)) c.reset[row] = 0;
}

/**
 * s, taken as gone, sends a segment of that connection again (no SYN, no RST, in its own sequence
 * space): a socket that sent a RST, gave up retransmitting or took an ICMP error is gone and sends
 * nothing more, so it never was. Hindsight takes back its change to CLOSED: a RST in its name
 * that was not its own (forged, or a middlebox's; what it did to its receiver stands), a silent
 * give-up that was a gap in the capture, an ICMP error that never reached it (a handshake that
 * went on: it is ESTABLISHED at this segment when it acknowledges its peer's SYN).
 */
function cameBack(st: FlowStore, s: number, seg: Segment): void {
  const x = st.e.c;
  const row = s >> 1;
  if (!x.hasSent[s]) return;
  const d = seqDiff(seg.seq, x.sndNxt[s]);
  if (d > 0 || d < -MAX_IN_FLIGHT) return;
  const code = st.lastCode(row, s & 1);
  if (code < 0 || (code & 15) !== St.CLOSED) return;
  const back = (code >> 4) & 15;
  const cause = code >>> 10;
  if (goneState(back)) return;
  if (cause === Cause.SENT_RST) {
    // After its own RST, a segment that may have crossed it, or a duplicate of one before it, shows
    // nothing; nor does a RST a lenient profile (rfc793) took only for being in the window (its premise).
    if (back === St.SYN_SENT || st.f.c.resetBits[row] & IN_WINDOW_ONLY || seg.ts - x.since[s] < crossingUs(st, row)) return;
  } else if (cause !== Cause.SILENT_GAVE_UP && !isIcmpCause(cause)) return;
  if (!reopen(st, s, back, cause)) return;
  const p = s ^ 1;
  if (back === St.SYN_SENT && seg.flags & ACK && x.isn[p] >= 0 && seg.ack === seqAdd(x.isn[p], 1)) enter(st, s, St.ESTABLISHED, seg.frame, seg.ts, Cause.RECEIVED_SYN_ACK, true);
}

function received(st: FlowStore, r: number, s: number, seg: Segment, senderState: number, reset: number, rules: StackRules): void {
  const x = st.e.c;
  const f = seg.flags;
  if (f & RST) {
    if (reset === Reset.ACCEPTED) {
      const row = r >> 1;
      const c = st.f.c;
      if (c.reset[row] === 0) {
        c.resetFrame[row] = seg.frame;
        c.resetTs[row] = seg.ts;
        c.resetSentBy[row] = s & 1;
        c.resetSenderState[row] = senderState;
        c.resetReceiverState[row] = x.state[r];
        c.resetBits[row] =
          // After the peer's data: straight after it, or after its own bare ACK of it (its application
          // closed without reading it, or aborted: nothing from outside answers that way). An application's
          // abort is a RST/ACK; a RST without ACK answers a segment: of a socket closed (data after its FIN),
          // or, from an end that never closed, of a host with no socket for it (crashed, restarted, lost).
          ((seg.flags & ACK || x.finSent[s]) && ((c.lastSender[row] === (r & 1) && c.lastPayload[row] > 0) || (c.lastSender[row] === (s & 1) && c.lastPayload[row] === 0 && c.lastDataSender[row] === (r & 1))) ? 1 : 0) |
          (x.hasAcked[r] && seqDiff(x.sndNxt[s], x.ackedUpTo[r]) > 0 ? 2 : 0) |
          (x.hasSent[r] && x.window[r] === 0 ? 4 : 0) |
          // A RST without ACK answering its peer's segment, from an end that never closed: RFC 793's
          // answer of a host with no socket for the connection.
          (!(seg.flags & ACK) && !x.finSent[s] && c.lastSender[row] === (r & 1) ? NO_SOCKET : 0);
      }
      c.reset[row] = 1;
      if (x.state[r] === St.SYN_RECEIVED && x.passive[r]) enter(st, r, St.LISTEN, seg.frame, seg.ts, Cause.RECEIVED_RST_BACK_TO_LISTEN);
      else if (x.state[r] === St.TIME_WAIT) enter(st, r, St.CLOSED, seg.frame, seg.ts, Cause.RECEIVED_RST_IN_TIME_WAIT);
      else if (!goneState(x.state[r])) enter(st, r, St.CLOSED, seg.frame, seg.ts, x.state[r] === St.SYN_SENT ? Cause.RECEIVED_RST_REFUSED : Cause.RECEIVED_RST);
    }
    return;
  }
  if (x.state[r] === St.SYN_SENT) x.badAckInSynSent[r] = f & ACK && x.isn[r] >= 0 && !acksSyn(st, r, seg.ack) ? seg.ack : -1;
  const acksOwnFin = (f & ACK) !== 0 && x.finSent[r] !== 0 && seqGe(seg.ack, seqAdd(x.finSeq[r], 1));
  if (f & SYN) {
    if (!(f & ACK)) {
      queue(st, r, Receipt.SYN, seg.frame, seg.ts, seqAdd(seg.seq, 1), 0);
    } else if ((x.state[r] === St.SYN_SENT && (x.isn[r] < 0 || acksSyn(st, r, seg.ack))) || (x.state[r] === St.SYN_RECEIVED && seg.ack === seqAdd(x.isn[r], 1))) {
      // Established once r acknowledges it (a client that never does may not exist: a spoofed source).
      queue(st, r, Receipt.SYNACK, seg.frame, seg.ts, seqAdd(seg.seq, 1), 0);
    }
  }
  if (f & FIN && !x.peerFinReceived[r]) {
    x.peerFinReceived[r] = 1;
    // The ACK in a FIN segment is applied with the FIN: FIN_WAIT_1 may go straight to TIME_WAIT.
    queue(st, r, Receipt.FIN, seg.frame, seg.ts, seqAdd(seg.seq, seg.len + (f & SYN ? 2 : 1)), acksOwnFin ? ACKS_OWN_FIN : 0);
    return;
  }
  if (f & ACK) {
    switch (x.state[r]) {
      case St.SYN_RECEIVED:
        // After a dropped ACK of its SYN, an ACK proves nothing until r's own segment (see sent).
        if (x.isn[r] >= 0 && seqGe(seg.ack, seqAdd(x.isn[r], 1)) && !x.ackOfSynDropped[r]) {
          if (x.passive[r] && x.synAcks[r] === 1 && seg.ts - x.lastSynAckTs[r] >= rules.synCookieUs) {
            // Its one SYN-ACK was never retransmitted: it carried a cookie and no socket waited for the answer.
            enter(st, r, St.LISTEN, 0, x.lastSynAckTs[r], Cause.SYN_COOKIE, true);
            enter(st, r, St.ESTABLISHED, seg.frame, seg.ts, Cause.RECEIVED_ACK_SYN_COOKIE);
          } else enter(st, r, St.ESTABLISHED, seg.frame, seg.ts, Cause.RECEIVED_ACK_OF_SYN);
        }
        break;
      case St.FIN_WAIT_1:
        if (acksOwnFin) enter(st, r, St.FIN_WAIT_2, seg.frame, seg.ts, ackOfFin(st, r), x.finAckLost[r] !== 0);
        break;
      case St.CLOSING:
        if (acksOwnFin) enter(st, r, St.TIME_WAIT, seg.frame, seg.ts, ackOfFin(st, r), x.finAckLost[r] !== 0);
        break;
      case St.LAST_ACK:
        if (acksOwnFin) enter(st, r, St.CLOSED, seg.frame, seg.ts, ackOfFin(st, r), x.finAckLost[r] !== 0);
        break;
      default:
        break;
    }
  }
}

/**
 * `ack` acknowledges r's SYN as a host in SYN_SENT takes it: above its ISN and no further than what
 * it sent (tcp_rcv_synsent_state_process: in (snd_una, snd_nxt]); a Fast Open SYN's data counts.
 */
function acksSyn(st: FlowStore, r: number, ack: number): boolean {
  const x = st.e.c;
  const next = x.hasSent[r] ? x.sndNxt[r] : seqAdd(x.isn[r], 1);
  return seqDiff(ack, x.isn[r]) >= 1 && seqDiff(ack, next) <= 0;
}

function ackOfFin(st: FlowStore, r: number): CauseCode {
  return st.e.c.finAckLost[r] ? Cause.RECEIVED_ACK_OF_FIN_RETRANSMITTED : Cause.RECEIVED_ACK_OF_FIN;
}

/**
 * Wait for evidence of a SYN, SYN-ACK or FIN. A SYN sent again waits at its latest copy: the
 * host answers the one that reached it (an earlier one lost after the capture point never did).
 */
function queue(st: FlowStore, e: number, kind: number, frame: number, ts: number, ackedBy: number, bits: number): void {
  const pool = st.receipts;
  const rc = pool.c;
  let last = NONE;
  for (let i = st.e.c.pending[e]; i !== NONE; i = pool.next[i]) {
    if (rc.kind[i] === kind && rc.ackedBy[i] === ackedBy) {
      if (kind === Receipt.SYN) {
        rc.frame[i] = frame;
        rc.ts[i] = ts;
      }
      return;
    }
    last = i;
  }
  const n = pool.take();
  const c = pool.c; // the pool may have grown
  c.kind[n] = kind;
  c.frame[n] = frame;
  c.ts[n] = ts;
  c.ackedBy[n] = ackedBy;
  c.bits[n] = bits;
  if (last === NONE) st.e.c.pending[e] = n;
  else pool.next[last] = n;
}

/** What a RST's receiver does with it. */
export const Reset = {
  /** It takes it: the connection is reset. */
  ACCEPTED: 0,
  /** Out of its window, or in it but not at rcv_nxt (RFC 5961: a challenge ACK): nothing changes. */
  IGNORED: 1,
  /** Nobody there to judge it (its receiver has no socket for the tuple): its sender's own socket ends. */
  NO_RECEIVER: 2,
} as const;

/**
 * Would r's stack accept this RST from s? In SYN_SENT only if it acknowledges r's SYN
 * (RFC 793 p.66). In a synchronized state only within r's receive window (p.69), and on
 * Linux only exactly at rcv_nxt (RFC 5961 section 3; also rcv_nxt - 1 after a FIN was
 * received, and the right edge of the highest SACK block r sent). What r expects next
 * lies between the last ACK r sent and the end of what s sent (all of it, if nothing
 * was lost): either bound, or anywhere between while data is in flight, is "exact".
 * TIME_WAIT takes only an exact one (Linux tcp_timewait_state_process).
 */
export function judgeReset(st: FlowStore, r: number, s: number, seg: Segment, rules: StackRules = LINUX_RULES): number {
  const x = st.e.c;
  if (x.state[r] === St.SYN_SENT) return (seg.flags & ACK) !== 0 && (x.isn[r] < 0 || acksSyn(st, r, seg.ack)) ? Reset.ACCEPTED : Reset.IGNORED;
  if (goneState(x.state[r])) return Reset.NO_RECEIVER;
  if (!x.hasSent[s]) return Reset.ACCEPTED;
  const hi = x.sndNxt[s];
  const lo = x.hasAcked[r] && seqLt(x.ackedUpTo[r], hi) && seqDiff(hi, x.ackedUpTo[r]) <= MAX_IN_FLIGHT ? x.ackedUpTo[r] : hi;
  const seq = seg.seq;
  const atNext = seqGe(seq, lo) && seqGe(hi, seq);
  if (atNext) return Reset.ACCEPTED;
  if (x.peerFinReceived[r] && seq === seqAdd(lo, -1)) return Reset.ACCEPTED;
  if (x.state[r] === St.TIME_WAIT) return Reset.IGNORED;
  const window = Math.max(x.window[r], 1024);
  const inWindow = seqGe(seq, lo) && seqDiff(seq, hi) < window;
  if (!inWindow) return Reset.IGNORED;
  return rules.exactReset ? Reset.IGNORED : Reset.ACCEPTED;
}

/** resetBits: the RST was taken by the window rule alone (--stack rfc793), not at rcv_nxt. */
const IN_WINDOW_ONLY = 8;
/** resetBits: the RST came from a host without a socket for the connection (see `received`). */
const NO_SOCKET = 16;

/** More than this between r's last ACK and s's highest sequence is not data in flight but a lost view. */
const MAX_IN_FLIGHT = 1 << 30;
