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
import { TcpFlag } from '../decode/packet.js';
import { NO_RECEIPTS, type Endpoint, type Flow, type Receipt } from '../flow/flow.js';
import { seqAdd, seqDiff, seqGe, seqLt } from '../flow/seq.js';
import { TcpState, type TcpStateName, isGone } from './tcp-state.js';

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

interface When {
  frame: number | null;
  ts: number;
}

/** The one function through which every state change passes. */
export function enter(flow: Flow, e: Endpoint, to: TcpStateName, at: When, cause: string, inferred = false): void {
  const from = e.state;
  if (from === to) return;
  e.state = to;
  e.since = at.ts;
  if (to === TcpState.CLOSE_WAIT) {
    e.closeWaitSince = at.ts;
    e.closeWaitFrame = at.frame ?? 0;
  } else if (from === TcpState.CLOSE_WAIT && e.closeWaitUntil < 0) e.closeWaitUntil = at.ts;
  flow.recordTransition(at.frame, at.ts, e.side, from, to, cause, inferred);
  if (isGone(flow.client.state) && isGone(flow.server.state)) {
    if (flow.goneAt < 0) flow.goneAt = at.ts;
  } else flow.goneAt = -1;
}

/** One segment from `s` to `r`. */
export function segment(flow: Flow, s: Endpoint, r: Endpoint, seg: Segment, rules: StackRules = LINUX_RULES): void {
  const senderState = s.state;
  let reset = 0;
  if (seg.flags & RST) {
    // A RST answering a SYN on a closed port is no evidence of a listener.
    if (s.state === TcpState.CLOSED) dropReceipts(s, 'syn');
    // A RST/ACK acknowledges what its sender had received (Linux puts rcv_nxt in it).
    if (seg.flags & ACK) confirmReceipts(flow, s, seg.ack, seg, false);
    reset = judgeReset(r, s, seg, rules);
  } else if (seg.flags & ACK) {
    confirmReceipts(flow, s, seg.ack, seg, true);
    noteHole(s, seg);
  }
  sent(flow, s, r, seg, reset);
  s.lastSendFrame = seg.frame;
  s.lastSendTs = seg.ts;
  // Segments from s arrive in order: whatever s sent earlier reached r first.
  applyReceipts(flow, r);
  received(flow, r, s, seg, senderState, reset, rules);
  if (seg.flags & ACK && !(seg.flags & RST) && (!s.hasAcked || seqGe(seg.ack, s.ackedUpTo))) {
    // r's data is acknowledged further: it is making progress again.
    if (s.hasAcked && seqDiff(seg.ack, s.ackedUpTo) > 0) {
      r.retransmissionsUnacked = 0;
      r.unackedSince = seqDiff(r.sndNxt, seg.ack) > 0 ? seg.ts : -1;
      // A closing endpoint that still acknowledges new data is reading it: not an orphan.
      if (s.finSent && !(r.finSent && seg.ack === seqAdd(r.finSeq, 1))) s.readsAfterClose = true;
    } else if (seqGe(seg.ack, r.sndNxt)) r.unackedSince = -1;
    s.ackedUpTo = seg.ack;
    s.hasAcked = true;
  }
  flow.lastSender = s.side;
  flow.lastPayload = seg.len;
}

/**
 * The capture has ended (or the flow is swept): a FIN seen on the wire is taken to
 * have arrived, and so is a crossing SYN; a SYN to a silent host proves nothing.
 */
export function settle(flow: Flow): void {
  for (const e of [flow.client, flow.server]) {
    if (e.state === TcpState.CLOSED) dropReceipts(e, 'syn');
    applyReceipts(flow, e);
  }
}

function dropReceipts(e: Endpoint, kind: Receipt['kind']): void {
  for (let i = e.pending.length - 1; i >= 0; i--) if (e.pending[i].kind === kind) takeReceipt(e, i);
}

/** The i-th pending receipt, out of the list (the shared empty one once none is left). */
function takeReceipt(e: Endpoint, i: number): Receipt {
  const rc = e.pending.splice(i, 1)[0];
  if (e.pending.length === 0) e.pending = NO_RECEIPTS;
  return rc;
}

/**
 * e sends an ACK up to `ack`: every receipt it covers has arrived. A RST/ACK proves the
 * SYN-ACK and FIN it acknowledges, never a SYN (a closed port answers a SYN with one).
 */
function confirmReceipts(flow: Flow, e: Endpoint, ack: number, seg: Segment, syns: boolean): void {
  let i = 0;
  while (i < e.pending.length) {
    const rc = e.pending[i];
    // Covered, and not by a number from another sequence space (a stale or forged ACK's lies anywhere).
    const d = seqDiff(ack, rc.ackedBy);
    if (d < 0 || d >= MAX_IN_FLIGHT) break;
    if (!syns && rc.kind === 'syn') {
      i++;
      continue;
    }
    takeReceipt(e, i);
    // A FIN that waited behind a hole is processed once the hole is filled: when e's ACK covers it.
    applyReceipt(flow, e, rc, true, rc.behindHole ? seg : null);
  }
}

/**
 * e acknowledges below a FIN it has been sent, with a SACK block beyond it or as a
 * duplicate ACK: the FIN came in behind a hole, and waits there (RFC 793 processes a
 * FIN in sequence).
 */
function noteHole(e: Endpoint, seg: Segment): void {
  for (const rc of e.pending) {
    if (rc.kind !== 'fin' || rc.behindHole || !seqLt(seg.ack, seqAdd(rc.ackedBy, -1))) continue;
    const sacked = seg.sackRight !== undefined && seg.sackRight >= 0 && seqGe(seg.sackRight, rc.ackedBy);
    const duplicate = seg.len === 0 && e.hasAcked && seg.ack === e.ackedUpTo && seg.frame > rc.frame;
    if (sacked || duplicate) rc.behindHole = true;
  }
}

/**
 * Apply what has surely arrived. A SYN to a host that has not answered, or a SYN-ACK
 * to a client that never acknowledged it (a spoofed or vanished source), stays unproven.
 */
function applyReceipts(flow: Flow, e: Endpoint): void {
  let i = 0;
  while (i < e.pending.length) {
    const rc = e.pending[i];
    if (rc.kind === 'synack' || rc.behindHole || (rc.kind === 'syn' && (e.state === TcpState.CLOSED || e.state === TcpState.LISTEN))) i++;
    else applyReceipt(flow, e, takeReceipt(e, i), false);
  }
}

/**
 * A receipt takes effect at its own frame, or after e's last segment if that one crossed it,
 * or (a FIN behind a hole) at the segment `filled` that shows the hole filled.
 */
function applyReceipt(flow: Flow, e: Endpoint, rc: Receipt, answered: boolean, filled: Segment | null = null): void {
  const at: When =
    filled !== null ? { frame: filled.frame, ts: filled.ts } : rc.frame >= e.lastSendFrame ? { frame: rc.frame, ts: rc.ts } : { frame: e.lastSendFrame, ts: e.lastSendTs };
  if (rc.kind === 'syn') receivedSyn(flow, e, rc, at, answered);
  else if (rc.kind === 'synack') receivedSynAck(flow, e, at);
  else receivedFin(flow, e, rc, at);
}

function receivedSynAck(flow: Flow, e: Endpoint, at: When): void {
  if (e.state === TcpState.SYN_SENT) enter(flow, e, TcpState.ESTABLISHED, at, 'received SYN-ACK');
  else if (e.state === TcpState.SYN_RECEIVED) enter(flow, e, TcpState.ESTABLISHED, at, 'received SYN-ACK (simultaneous open)');
}

function receivedSyn(flow: Flow, e: Endpoint, rc: Receipt, at: When, answered: boolean): void {
  if (e.state === TcpState.SYN_SENT) {
    enter(flow, e, TcpState.SYN_RECEIVED, at, 'received SYN (simultaneous open)');
  } else if (answered && (e.state === TcpState.CLOSED || e.state === TcpState.LISTEN)) {
    // It answered: it was listening, and the SYN made it SYN_RECEIVED (a passive open).
    e.passive = true;
    if (e.state === TcpState.CLOSED) enter(flow, e, TcpState.LISTEN, { frame: null, ts: rc.ts }, 'listening (it answered the SYN)', true);
    enter(flow, e, TcpState.SYN_RECEIVED, at, 'received SYN (passive open)');
  }
}

function receivedFin(flow: Flow, e: Endpoint, rc: Receipt, at: When): void {
  switch (e.state) {
    case TcpState.ESTABLISHED:
    case TcpState.SYN_RECEIVED:
      enter(flow, e, TcpState.CLOSE_WAIT, at, rc.behindHole ? 'received FIN (in sequence, once the hole before it was filled)' : 'received FIN');
      break;
    case TcpState.FIN_WAIT_1:
      if (rc.acksOwnFin) enter(flow, e, TcpState.TIME_WAIT, at, 'received FIN with the ACK of its FIN');
      else enter(flow, e, TcpState.CLOSING, at, 'received FIN (simultaneous close)');
      break;
    case TcpState.FIN_WAIT_2:
      enter(flow, e, TcpState.TIME_WAIT, at, 'received FIN');
      break;
    default:
      break;
  }
}

function sent(flow: Flow, s: Endpoint, r: Endpoint, seg: Segment, reset: number): void {
  const f = seg.flags;
  if (seg.len > 0 && !(f & (SYN | RST))) {
    if (s.unackedSince < 0) {
      s.unackedSince = seg.ts;
      s.unackedFrame = seg.frame;
    }
    if (s.hasSent && seqDiff(seg.seq, s.sndNxt) < 0) {
      s.retransmitGapUs = seg.ts - (s.retransmissionsUnacked > 0 ? s.lastRetransmissionTs : s.unackedSince);
      s.retransmissionsUnacked++;
      s.lastRetransmissionTs = seg.ts;
    }
  }
  // What the peer will expect next from s (a RST's number is judged against it, never moves it).
  if (!(f & RST)) {
    const end = seqAdd(seg.seq, seg.len + (f & SYN ? 1 : 0) + (f & FIN ? 1 : 0));
    if (!s.hasSent || seqDiff(end, s.sndNxt) > 0) s.sndNxt = end;
    s.hasSent = true;
  }
  if (f & SYN && seg.windowScale >= 0) s.windowScale = seg.windowScale;
  s.window = (f & SYN ? seg.window : seg.window * 2 ** Math.max(0, s.windowScale)) | 0;

  if (f & RST) {
    // A RST ends its sender's socket when its receiver takes it (or has nothing left to take it with).
    // SYN_SENT answers an ACK that does not acknowledge its SYN with a RST (its sequence number is
    // that ACK's) and stays (RFC 793 p.66); any other RST from it is an abort.
    if (reset === Reset.IGNORED || isGone(s.state)) return;
    if (s.state === TcpState.SYN_SENT && s.badAckInSynSent >= 0 && seg.seq === s.badAckInSynSent) return;
    enter(flow, s, TcpState.CLOSED, seg, 'sent RST');
    return;
  }
  if (f & SYN && !(f & ACK)) {
    s.synsSent++;
    s.synGapUs = s.synsSent > 1 ? seg.ts - s.lastSynTs : 0;
    s.lastSynTs = seg.ts;
    if (s.state === TcpState.CLOSED) {
      s.isn = seg.seq;
      s.synFrame = seg.frame;
      s.synTs = seg.ts;
      enter(flow, s, TcpState.SYN_SENT, seg, 'sent SYN (active open)');
    }
  } else if (f & SYN) {
    s.synAcks++;
    s.lastSynAckTs = seg.ts;
    if (s.isn < 0) s.isn = seg.seq;
    if (s.state === TcpState.CLOSED || s.state === TcpState.LISTEN) {
      // A SYN-ACK whose SYN was not captured.
      s.passive = true;
      if (s.state === TcpState.CLOSED) enter(flow, s, TcpState.LISTEN, { frame: null, ts: seg.ts }, 'listening (it answered a SYN)', true);
      enter(flow, s, TcpState.SYN_RECEIVED, seg, 'sent SYN-ACK (its SYN was not captured)', true);
      if (r.state === TcpState.CLOSED && !r.hasSent) {
        r.isn = seqAdd(seg.ack, -1);
        enter(flow, r, TcpState.SYN_SENT, seg, 'sent SYN (not captured)', true);
      }
    }
  }
  if (f & FIN && s.finSent && seqAdd(seg.seq, seg.len + (f & SYN ? 1 : 0)) === s.finSeq) ackNeverArrived(flow, s);
  if (f & FIN && !s.finSent) {
    s.finSent = true;
    s.finSeq = seqAdd(seg.seq, seg.len + (f & SYN ? 1 : 0));
    if (s.state === TcpState.ESTABLISHED || s.state === TcpState.SYN_RECEIVED) enter(flow, s, TcpState.FIN_WAIT_1, seg, 'sent FIN (active close)');
    else if (s.state === TcpState.CLOSE_WAIT) enter(flow, s, TcpState.LAST_ACK, seg, 'sent FIN (passive close)');
  }
}

/**
 * s sends its FIN again after an ACK of it passed the capture point: that ACK never reached
 * it (lost after the capture point). Hindsight takes back the change the ACK made; s's next
 * ACK of its FIN makes it, with that evidence as its cause.
 */
function ackNeverArrived(flow: Flow, s: Endpoint): void {
  const back = s.state === TcpState.FIN_WAIT_2 ? TcpState.FIN_WAIT_1 : s.state === TcpState.CLOSED ? TcpState.LAST_ACK : s.state === TcpState.TIME_WAIT ? TcpState.CLOSING : null;
  if (back === null) return;
  const since = flow.revokeLast(s.side, back, s.state);
  if (since < 0) return;
  s.state = back;
  s.since = since;
  s.finAckLost = true;
  flow.goneAt = -1;
}

function received(flow: Flow, r: Endpoint, s: Endpoint, seg: Segment, senderState: TcpStateName, reset: number, rules: StackRules): void {
  const f = seg.flags;
  if (f & RST) {
    if (reset === Reset.ACCEPTED) {
      flow.reset = true;
      flow.resetInfo ??= {
        frame: seg.frame,
        ts: seg.ts,
        sentBy: s.side,
        senderState,
        receiverState: r.state,
        afterPeerData: flow.lastSender === r.side && flow.lastPayload > 0,
        senderHadDataInFlight: r.hasAcked && seqDiff(s.sndNxt, r.ackedUpTo) > 0,
        receiverWindowZero: r.hasSent && r.window === 0,
      };
      if (r.state === TcpState.SYN_RECEIVED && r.passive) enter(flow, r, TcpState.LISTEN, seg, 'received RST (back to LISTEN)');
      else if (r.state === TcpState.TIME_WAIT) enter(flow, r, TcpState.CLOSED, seg, 'received RST in TIME_WAIT (TIME_WAIT assassination, RFC 1337)');
      else if (!isGone(r.state)) enter(flow, r, TcpState.CLOSED, seg, r.state === TcpState.SYN_SENT ? 'received RST (connection refused)' : 'received RST');
    }
    return;
  }
  if (r.state === TcpState.SYN_SENT) r.badAckInSynSent = f & ACK && r.isn >= 0 && seg.ack !== seqAdd(r.isn, 1) ? seg.ack : -1;
  const acksOwnFin = (f & ACK) !== 0 && r.finSent && seqGe(seg.ack, seqAdd(r.finSeq, 1));
  if (f & SYN) {
    if (!(f & ACK)) {
      queue(r, { kind: 'syn', frame: seg.frame, ts: seg.ts, ackedBy: seqAdd(seg.seq, 1), acksOwnFin: false, behindHole: false });
    } else if ((r.state === TcpState.SYN_SENT && (r.isn < 0 || seg.ack === seqAdd(r.isn, 1))) || (r.state === TcpState.SYN_RECEIVED && seg.ack === seqAdd(r.isn, 1))) {
      // Established once r acknowledges it (a client that never does may not exist: a spoofed source).
      queue(r, { kind: 'synack', frame: seg.frame, ts: seg.ts, ackedBy: seqAdd(seg.seq, 1), acksOwnFin: false, behindHole: false });
    }
  }
  if (f & FIN && !r.peerFinReceived) {
    r.peerFinReceived = true;
    // The ACK in a FIN segment is applied with the FIN: FIN_WAIT_1 may go straight to TIME_WAIT.
    queue(r, { kind: 'fin', frame: seg.frame, ts: seg.ts, ackedBy: seqAdd(seg.seq, seg.len + (f & SYN ? 2 : 1)), acksOwnFin, behindHole: false });
    return;
  }
  if (f & ACK) {
    switch (r.state) {
      case TcpState.SYN_RECEIVED:
        if (r.isn >= 0 && seqGe(seg.ack, seqAdd(r.isn, 1))) {
          if (r.passive && r.synAcks === 1 && seg.ts - r.lastSynAckTs >= rules.synCookieUs) {
            // Its one SYN-ACK was never retransmitted: it carried a cookie and no socket waited for the answer.
            enter(flow, r, TcpState.LISTEN, { frame: null, ts: r.lastSynAckTs }, 'SYN-ACK never retransmitted: a SYN cookie, no socket kept', true);
            enter(flow, r, TcpState.ESTABLISHED, seg, 'received ACK with a valid SYN cookie');
          } else enter(flow, r, TcpState.ESTABLISHED, seg, 'received ACK of its SYN');
        }
        break;
      case TcpState.FIN_WAIT_1:
        if (acksOwnFin) enter(flow, r, TcpState.FIN_WAIT_2, seg, ackOfFin(r), r.finAckLost);
        break;
      case TcpState.CLOSING:
        if (acksOwnFin) enter(flow, r, TcpState.TIME_WAIT, seg, ackOfFin(r), r.finAckLost);
        break;
      case TcpState.LAST_ACK:
        if (acksOwnFin) enter(flow, r, TcpState.CLOSED, seg, ackOfFin(r), r.finAckLost);
        break;
      default:
        break;
    }
  }
}

function ackOfFin(r: Endpoint): string {
  return r.finAckLost ? 'received ACK of its FIN (an earlier ACK never arrived: it retransmitted its FIN)' : 'received ACK of its FIN';
}

/**
 * Wait for evidence of a SYN, SYN-ACK or FIN. A SYN sent again waits at its latest copy: the
 * host answers the one that reached it (an earlier one lost after the capture point never did).
 */
function queue(e: Endpoint, rc: Receipt): void {
  if (e.pending === NO_RECEIPTS) {
    e.pending = [rc];
    return;
  }
  const same = e.pending.find((p) => p.kind === rc.kind && p.ackedBy === rc.ackedBy);
  if (same === undefined) e.pending.push(rc);
  else if (rc.kind === 'syn') {
    same.frame = rc.frame;
    same.ts = rc.ts;
  }
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
export function judgeReset(r: Endpoint, s: Endpoint, seg: Segment, rules: StackRules = LINUX_RULES): number {
  if (r.state === TcpState.SYN_SENT) return (seg.flags & ACK) !== 0 && (r.isn < 0 || seg.ack === seqAdd(r.isn, 1)) ? Reset.ACCEPTED : Reset.IGNORED;
  if (isGone(r.state)) return Reset.NO_RECEIVER;
  if (!s.hasSent) return Reset.ACCEPTED;
  const hi = s.sndNxt;
  const lo = r.hasAcked && seqLt(r.ackedUpTo, hi) && seqDiff(hi, r.ackedUpTo) <= MAX_IN_FLIGHT ? r.ackedUpTo : hi;
  const seq = seg.seq;
  const atNext = seqGe(seq, lo) && seqGe(hi, seq);
  if (atNext) return Reset.ACCEPTED;
  if (r.peerFinReceived && seq === seqAdd(lo, -1)) return Reset.ACCEPTED;
  if (r.state === TcpState.TIME_WAIT) return Reset.IGNORED;
  const window = Math.max(r.window, 1024);
  const inWindow = seqGe(seq, lo) && seqDiff(seq, hi) < window;
  if (!inWindow) return Reset.IGNORED;
  return rules.exactReset ? Reset.IGNORED : Reset.ACCEPTED;
}

/** More than this between r's last ACK and s's highest sequence is not data in flight but a lost view. */
const MAX_IN_FLIGHT = 1 << 30;
