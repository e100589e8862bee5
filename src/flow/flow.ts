/** A TCP connection as seen in a capture: two endpoints, their states over time, and why it ended. */
import { FlowAnalysis } from './figures.js';
import { TcpState, type TcpStateName } from '../state/tcp-state.js';
import { freezer, type Frozen, type FrozenStore, type NumberReader, type NumberWriter } from '../util/number.js';
import type { TcpConversation } from '../analysis/conversation.js';
import type { ZeekTcpSession } from '../zeek/session.js';

export type Side = 'client' | 'server';

/** How the client and server roles were decided. */
export type RolesBy =
  | 'syn' // the SYN's sender is the client
  | 'syn_ack' // the capture starts at the SYN-ACK: its receiver is the client
  | 'port' // picked up mid-connection: the endpoint on the lower (service) port is the server
  | 'first_packet'; // mid-connection with equal ports: the first packet's sender is the client

/** The RST that an endpoint accepted first, and what surrounded it. */
export interface ResetInfo {
  frame: number;
  ts: number;
  sentBy: Side;
  senderState: TcpStateName;
  receiverState: TcpStateName;
  /** The segment just before it came from the RST's receiver and carried data. */
  afterPeerData: boolean;
  /** The sender had sent data its peer had not acknowledged yet. */
  senderHadDataInFlight: boolean;
  /** The RST's receiver advertised a zero window: the sender was blocked with data to send. */
  receiverWindowZero: boolean;
}

export type EndReason = 'closed' | 'reset' | 'timeout' | 'reuse' | 'end_of_capture';

export interface Transition {
  /** Frame number of the packet that caused it, or null (a timer: TIME_WAIT expiry). */
  packet: number | null;
  ts: number;
  side: Side;
  from: TcpStateName | null;
  to: TcpStateName;
  cause: string;
  /** Not seen but deduced (mid-connection start, a missing SYN, a SYN cookie). */
  inferred: boolean;
}

/** One state change as Flow.forEachInTimeOrder hands it over (a Transition's fields, in order). */
export type TransitionVisitor = (
  packet: number | null,
  ts: number,
  side: Side,
  from: TcpStateName | null,
  to: TcpStateName,
  cause: string,
  inferred: boolean,
) => void;

/**
 * A SYN, SYN-ACK or FIN from the peer, seen at the capture point. Whether and when it reached
 * this endpoint shows in what the endpoint sends next: an ACK covering it, or a
 * segment of its own that does not (the two crossed).
 */
export interface Receipt {
  kind: 'syn' | 'synack' | 'fin';
  frame: number;
  ts: number;
  /** The acknowledgement number that proves it arrived (its sequence number + 1). */
  ackedBy: number;
  /** The FIN segment also acknowledged this endpoint's own FIN. */
  acksOwnFin: boolean;
  /** A FIN that came in behind a hole: processed only once this endpoint's ACK covers it. */
  behindHole: boolean;
}

const RECEIPT_KINDS: ReadonlyArray<Receipt['kind']> = ['syn', 'synack', 'fin'];

/** An endpoint's `pending` when it waits for nothing: frozen, so it is replaced, never changed. */
export const NO_RECEIPTS: Receipt[] = Object.freeze([]) as unknown as Receipt[];

export class Endpoint {
  state: TcpStateName = TcpState.CLOSED;
  /** Packet time at which the current state was entered. */
  since = 0;
  /** Initial sequence number (of its SYN), or -1 when no SYN was seen. */
  isn = -1;
  /** Highest sequence number sent plus the SYN/FIN/data it carried (what the peer expects next). */
  sndNxt = 0;
  hasSent = false;
  finSent = false;
  finSeq = 0;
  /** The peer's FIN has been received. */
  peerFinReceived = false;
  /** This endpoint was opened passively (it answered a SYN): a RST sends it back to LISTEN. */
  passive = false;
  /** It acknowledged new data after sending its FIN: a half-close whose application reads on, not an orphan. */
  readsAfterClose = false;
  /** It retransmitted its FIN after an ACK of it passed: that ACK never arrived (its next one is awaited). */
  finAckLost = false;
  /** Window scale shift from its SYN, and its last advertised window (scaled). */
  windowScale = -1;
  window = 0;
  synFrame = 0;
  synTs = 0;
  /** The peer's SYN and FIN as they passed the capture point, not yet known to have arrived here (usually none: one shared empty list). */
  pending: Receipt[] = NO_RECEIPTS;
  /** Frame and time of this endpoint's last segment. */
  lastSendFrame = 0;
  lastSendTs = 0;
  synAcks = 0;
  lastSynAckTs = 0;
  synsSent = 0;
  /** In SYN_SENT, the acknowledgement number of the last ACK it received that did not acknowledge its SYN (-1: none). */
  badAckInSynSent = -1;
  /** Its last SYN, and the time between its last two (the backoff the next one follows). */
  lastSynTs = 0;
  synGapUs = 0;
  /** Highest acknowledgement number it has sent (how far it acknowledged the peer's data). */
  ackedUpTo = 0;
  hasAcked = false;
  /** When it entered and left CLOSE_WAIT (-1: not yet), and the frame that put it there. */
  closeWaitSince = -1;
  closeWaitUntil = -1;
  closeWaitFrame = 0;
  /** Data sent and not acknowledged since (µs, -1: all acknowledged), and retransmissions since. */
  unackedSince = -1;
  unackedFrame = 0;
  retransmissionsUnacked = 0;
  lastRetransmissionTs = 0;
  /** Time from the previous (re)transmission of its unacknowledged data to the last retransmission. */
  retransmitGapUs = 0;
  packets = 0;
  payloadBytes = 0;
  ipBytes = 0;

  constructor(
    readonly side: Side,
    readonly addr: string,
    readonly port: number,
  ) {}

  /** Append every field but side and address as numbers (see Flow.freeze), the pending receipts last. */
  freezeInto(out: NumberWriter): void {
    const bits = (this.hasSent ? 1 : 0) | (this.finSent ? 2 : 0) | (this.peerFinReceived ? 4 : 0) | (this.passive ? 8 : 0) | (this.hasAcked ? 16 : 0) | (this.readsAfterClose ? 32 : 0) | (this.finAckLost ? 64 : 0);
    out.add(this.port);
    out.add(STATE_NUMBER.get(this.state)!);
    out.add(bits);
    out.add(this.since);
    out.add(this.isn);
    out.add(this.sndNxt);
    out.add(this.finSeq);
    out.add(this.windowScale);
    out.add(this.window);
    out.add(this.synFrame);
    out.add(this.synTs);
    out.add(this.lastSendFrame);
    out.add(this.lastSendTs);
    out.add(this.synAcks);
    out.add(this.lastSynAckTs);
    out.add(this.synsSent);
    out.add(this.badAckInSynSent);
    out.add(this.lastSynTs);
    out.add(this.synGapUs);
    out.add(this.ackedUpTo);
    out.add(this.closeWaitSince);
    out.add(this.closeWaitUntil);
    out.add(this.closeWaitFrame);
    out.add(this.unackedSince);
    out.add(this.unackedFrame);
    out.add(this.retransmissionsUnacked);
    out.add(this.lastRetransmissionTs);
    out.add(this.retransmitGapUs);
    out.add(this.packets);
    out.add(this.payloadBytes);
    out.add(this.ipBytes);
    out.add(this.pending.length);
    for (const rc of this.pending) {
      out.add(RECEIPT_KINDS.indexOf(rc.kind));
      out.add(rc.frame);
      out.add(rc.ts);
      out.add(rc.ackedBy);
      out.add((rc.acksOwnFin ? 1 : 0) | (rc.behindHole ? 2 : 0));
    }
  }

  /** The endpoint freezeInto wrote, read from `r`. */
  static thaw(side: Side, addr: string, r: NumberReader): Endpoint {
    const e = new Endpoint(side, addr, r.next());
    e.state = STATES[r.next()];
    const bits = r.next();
    e.hasSent = (bits & 1) !== 0;
    e.finSent = (bits & 2) !== 0;
    e.peerFinReceived = (bits & 4) !== 0;
    e.passive = (bits & 8) !== 0;
    e.hasAcked = (bits & 16) !== 0;
    e.readsAfterClose = (bits & 32) !== 0;
    e.finAckLost = (bits & 64) !== 0;
    e.since = r.next();
    e.isn = r.next();
    e.sndNxt = r.next();
    e.finSeq = r.next();
    e.windowScale = r.next();
    e.window = r.next();
    e.synFrame = r.next();
    e.synTs = r.next();
    e.lastSendFrame = r.next();
    e.lastSendTs = r.next();
    e.synAcks = r.next();
    e.lastSynAckTs = r.next();
    e.synsSent = r.next();
    e.badAckInSynSent = r.next();
    e.lastSynTs = r.next();
    e.synGapUs = r.next();
    e.ackedUpTo = r.next();
    e.closeWaitSince = r.next();
    e.closeWaitUntil = r.next();
    e.closeWaitFrame = r.next();
    e.unackedSince = r.next();
    e.unackedFrame = r.next();
    e.retransmissionsUnacked = r.next();
    e.lastRetransmissionTs = r.next();
    e.retransmitGapUs = r.next();
    e.packets = r.next();
    e.payloadBytes = r.next();
    e.ipBytes = r.next();
    const pending = r.next();
    if (pending > 0) {
      e.pending = [];
      for (let i = 0; i < pending; i++) {
        const kind = RECEIPT_KINDS[r.next()];
        const frame = r.next();
        const ts = r.next();
        const ackedBy = r.next();
        const bits = r.next();
        e.pending.push({ kind, frame, ts, ackedBy, acksOwnFin: (bits & 1) !== 0, behindHole: (bits & 2) !== 0 });
      }
    }
    return e;
  }
}

/** What a frozen flow's endpoint fields hold (never read: the getters thaw first). */
const FROZEN_ENDPOINT = new Endpoint('client', '', 0);

/** A visitor that appends each change to `out` as a Transition. */
function collect(out: Transition[]): TransitionVisitor {
  return (packet, ts, side, from, to, cause, inferred) => out.push({ packet, ts, side, from, to, cause, inferred });
}

/** States by number (0-10) in the transition log; 11 is "no state" (a flow's first change has none). */
const STATES: readonly TcpStateName[] = Object.values(TcpState);
const STATE_NUMBER = new Map<TcpStateName, number>(STATES.map((s, i) => [s, i]));
const NO_STATE = 11;
/** Causes by number: a handful of fixed phrases (and one per --time-wait value), numbered as first recorded. */
const CAUSES: string[] = [];
const CAUSE_NUMBER = new Map<string, number>();
const CAUSE_BITS = 8;
/** A log entry's second number: packet * CODE_SPAN + code, exact below 2^53 (frames up to 2^35). */
const CODE_SPAN = 2 ** 18;
const MAX_PACKET = 2 ** 53 / CODE_SPAN - 1;

function causeNumber(cause: string): number {
  let n = CAUSE_NUMBER.get(cause);
  if (n === undefined) {
    if (CAUSES.length === 1 << CAUSE_BITS) throw new RangeError(`more than ${1 << CAUSE_BITS} distinct transition causes`);
    n = CAUSES.push(cause) - 1;
    CAUSE_NUMBER.set(cause, n);
  }
  return n;
}

export class Flow {
  /**
   * State changes in the order they were recorded, two numbers each in one array of doubles
   * (stored unboxed, no object per change: a flow in TIME_WAIT keeps a dozen of them):
   * the time, and packet * CODE_SPAN + (cause << 10 | inferred << 9 | side << 8 | from << 4 | to).
   */
  private log: number[] = [];
  /** The log has no spare capacity (copied at its size when the flow was frozen, and not grown since). */
  private logTrimmed = false;
  firstTs = 0;
  lastTs = 0;
  firstPacket = 0;
  lastPacket = 0;
  /** Picked up mid-connection: no handshake seen, states inferred. */
  midstream = false;
  rolesBy: RolesBy = 'syn';
  /** A RST was accepted by an endpoint. */
  reset = false;
  /** Packet time at which both endpoints had no socket left, or -1. */
  goneAt = -1;
  endReason: EndReason | null = null;
  /** Packet time at which the flow ended. */
  endTs = 0;
  resetInfo: ResetInfo | null = null;
  /** Who sent the previous segment, and whether it carried data. */
  lastSender: Side | null = null;
  lastPayload = 0;
  /** The client's address, to tell the direction of a packet without building strings: IPv4 as a number, IPv6 as bytes. */
  clientAddrV4 = 0;
  clientAddrV6: Uint8Array | null = null;

  /** Wireshark-style sequence analysis figures (made on first need: a lone SYN has none). */
  private figures: FlowAnalysis | null = null;
  get analysis(): FlowAnalysis {
    this.thaw();
    return (this.figures ??= new FlowAnalysis());
  }
  get hasAnalysis(): boolean {
    this.thaw();
    return this.figures !== null;
  }
  /** The flow table's key (owned by the table): the two IPv4 endpoints as numbers, or the IPv6 pair's 36 bytes (and its hash in keyLo). */
  keyLo = 0;
  keyHi = 0;
  keyV6: Uint8Array | null = null;
  /** The table's sweep bookkeeping: place in creation order, and in its deadline queue (-1: not queued). */
  tableOrder = 0;
  deadlineIndex = -1;
  /**
   * The Zeek connection and the sequence-analysis conversation this flow's last packet went to
   * (analyze/capture.ts passes them back with the next packet, which then skips those trackers'
   * lookups while they still hold them). Dropped when the flow freezes, so a frozen flow keeps neither alive.
   */
  zeekHint: ZeekTcpSession | null = null;
  conversationHint: TcpConversation | null = null;

  /** The endpoints while live; FROZEN_ENDPOINT while the flow is frozen. */
  private clientEnd: Endpoint;
  private serverEnd: Endpoint;
  /** A flow idle for a while (most are: TIME_WAIT lasts a minute) keeps its endpoints and figures as numbers here, else null. */
  private frozen: Frozen | null = null;
  private store: FrozenStore | null = null;
  /** The endpoints' addresses, kept on the flow while they are frozen. */
  private readonly clientAddr: string;
  private readonly serverAddr: string;

  constructor(
    readonly id: number,
    readonly ipVersion: 4 | 6,
    client: Endpoint,
    server: Endpoint,
  ) {
    this.clientEnd = client;
    this.serverEnd = server;
    this.clientAddr = client.addr;
    this.serverAddr = server.addr;
  }

  get client(): Endpoint {
    this.thaw();
    return this.clientEnd;
  }

  get server(): Endpoint {
    this.thaw();
    return this.serverEnd;
  }

  get isFrozen(): boolean {
    return this.frozen !== null;
  }

  peer(e: Endpoint): Endpoint {
    return e === this.client ? this.server : this.client;
  }

  /**
   * Keep the endpoints and the analysis figures as one record of numbers in `store` (a live
   * flow's are two dozen boxed numbers per endpoint and half a dozen arrays) until the next
   * use of either, which brings them back as they were.
   */
  freeze(store: FrozenStore): void {
    if (this.frozen !== null) return;
    this.clientEnd.freezeInto(freezer);
    this.serverEnd.freezeInto(freezer);
    if (this.figures === null) freezer.add(0);
    else {
      freezer.add(1);
      this.figures.freezeInto(freezer);
    }
    this.frozen = store.put(freezer);
    this.store = store;
    this.clientEnd = FROZEN_ENDPOINT;
    this.serverEnd = FROZEN_ENDPOINT;
    this.figures = null;
    this.zeekHint = null;
    this.conversationHint = null;
    // The log only grows while live: its spare capacity can go.
    if (!this.logTrimmed) {
      this.log = this.log.slice();
      this.logTrimmed = true;
    }
  }

  /** Bring a frozen flow back now (its row goes back to the store); nothing if it is live. */
  thaw(): void {
    if (this.frozen === null) return;
    const f = this.frozen;
    const store = this.store!;
    const r = store.reader(f);
    this.frozen = null;
    this.clientEnd = Endpoint.thaw('client', this.clientAddr, r);
    this.serverEnd = Endpoint.thaw('server', this.serverAddr, r);
    if (r.next() === 1) this.figures = FlowAnalysis.thaw(r);
    store.release(f);
  }

  /** Record a state change (state/machine.ts's `enter` is the one caller). */
  recordTransition(packet: number | null, ts: number, side: Side, from: TcpStateName | null, to: TcpStateName, cause: string, inferred: boolean): void {
    const frame = packet ?? 0; // frames are numbered from 1
    if (!(frame >= 0 && frame <= MAX_PACKET)) throw new RangeError(`frame ${frame} is beyond the transition log's range`);
    const code = (causeNumber(cause) << 10) | (inferred ? 1 << 9 : 0) | (side === 'server' ? 1 << 8 : 0) | ((from === null ? NO_STATE : STATE_NUMBER.get(from)!) << 4) | STATE_NUMBER.get(to)!;
    this.log.push(ts, frame * CODE_SPAN + code);
    this.logTrimmed = false;
  }

  /**
   * Take back `side`'s last change if it went from `from` to `to` (hindsight: later packets
   * proved the segment behind it never arrived). Returns the time of the side's change before
   * it (when it entered `from`), or -1 when the last change is another one (nothing is taken).
   */
  revokeLast(side: Side, from: TcpStateName, to: TcpStateName): number {
    const s = side === 'server' ? 1 << 8 : 0;
    const log = this.log;
    let last = -1;
    let before = -1;
    for (let i = log.length - 2; i >= 0; i -= 2) {
      if ((log[i + 1] % CODE_SPAN & (1 << 8)) !== s) continue;
      if (last < 0) last = i;
      else {
        before = i;
        break;
      }
    }
    if (last < 0) return -1;
    const code = log[last + 1] % CODE_SPAN;
    if (((code >> 4) & 15) !== STATE_NUMBER.get(from) || (code & 15) !== STATE_NUMBER.get(to)) return -1;
    log.splice(last, 2);
    this.logTrimmed = false;
    return before < 0 ? this.firstTs : log[before];
  }

  get transitionCount(): number {
    return this.log.length >> 1;
  }

  /** Every state change in recording order, as objects (made on each call). */
  get transitions(): Transition[] {
    const out: Transition[] = [];
    const push = collect(out);
    for (let i = 0; i < this.transitionCount; i++) this.visit(i, push);
    return out;
  }

  /**
   * The state changes in packet-time order: changes found later may concern earlier frames
   * (a receipt proven by a later ACK). Stable: recording order within one instant.
   */
  transitionsInTimeOrder(): Transition[] {
    const out: Transition[] = [];
    this.forEachInTimeOrder(collect(out));
    return out;
  }

  /** transitionsInTimeOrder's changes, one call each, without an object per change (the sinks write them straight out). */
  forEachInTimeOrder(fn: TransitionVisitor): void {
    const log = this.log;
    const n = log.length >> 1;
    let inOrder = true;
    for (let i = 1; i < n && inOrder; i++) inOrder = log[2 * i] >= log[2 * i - 2];
    if (inOrder) {
      for (let i = 0; i < n; i++) this.visit(i, fn);
      return;
    }
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => log[2 * a] - log[2 * b] || a - b);
    for (const i of order) this.visit(i, fn);
  }

  private visit(i: number, fn: TransitionVisitor): void {
    const v = this.log[2 * i + 1];
    const code = v % CODE_SPAN;
    const packet = (v - code) / CODE_SPAN;
    const from = (code >> 4) & 15;
    fn(
      packet === 0 ? null : packet,
      this.log[2 * i],
      code & (1 << 8) ? 'server' : 'client',
      from === NO_STATE ? null : STATES[from],
      STATES[code & 15],
      CAUSES[code >> 10],
      (code & (1 << 9)) !== 0,
    );
  }

  /** Index of the first recorded change of `side` from `from` to `to`, with a cause starting `causePrefix` (null: any), or -1. */
  findTransition(side: Side, from: TcpStateName | null, to: TcpStateName | null, causePrefix: string | null = null): number {
    const s = side === 'server' ? 1 << 8 : 0;
    const f = from === null ? -1 : STATE_NUMBER.get(from)!;
    const t = to === null ? -1 : STATE_NUMBER.get(to)!;
    for (let i = 0; i < this.log.length; i += 2) {
      const code = this.log[i + 1] % CODE_SPAN;
      if ((code & (1 << 8)) !== s || (f >= 0 && ((code >> 4) & 15) !== f) || (t >= 0 && (code & 15) !== t)) continue;
      if (causePrefix === null || CAUSES[code >> 10].startsWith(causePrefix)) return i >> 1;
    }
    return -1;
  }

  /** The cause of the i-th change (recording order). */
  causeAt(i: number): string {
    return CAUSES[(this.log[2 * i + 1] % CODE_SPAN) >> 10];
  }

  /** The time of the i-th change (recording order). */
  tsAt(i: number): number {
    return this.log[2 * i];
  }
}
