/**
 * A TCP connection as seen in a capture: two endpoints, their states over time, and why it
 * ended, kept as columns in a slot bound to its connection-table row (conn/table.ts). No object
 * per connection: the flow's numbers are in `FlowStore.f` (by slot), each endpoint's in
 * `FlowStore.e` (2 * slot for the client, 2 * slot + 1 for the server), and what varies in length
 * (the peer's SYN and FIN awaiting proof, the transition log, RTT samples) in pools.
 *
 * At the edges (sinks, end-of-connection detectors, reports) a flow is read through one
 * `FlowView` per table, positioned on a slot for the length of a callback; `snapshot()` copies
 * one out for whoever keeps it (tests, tools).
 */
import { ColumnSet } from '../../conn/columns.js';
import { NONE, Pool } from '../../conn/pool.js';
import type { ConnTable } from '../../conn/table.js';
import { STATE_NAMES, St, type TcpStateName } from './tcp-state.js';
import type { CauseCode } from './causes.js';

export type Side = 'client' | 'server';
/** Sides by number: 0 the client, 1 the server (an endpoint's index is 2 * row + side). */
export const SIDES: readonly Side[] = ['client', 'server'];

/** How the client and server roles were decided. */
export type RolesBy =
  | 'syn' // the SYN's sender is the client
  | 'syn_ack' // the capture starts at the SYN-ACK: its receiver is the client
  | 'port' // picked up mid-connection: the endpoint on the lower (service) port is the server
  | 'first_packet'; // mid-connection with equal ports: the first packet's sender is the client
export const ROLES_BY: readonly RolesBy[] = ['syn', 'syn_ack', 'port', 'first_packet'];

/** `evicted`: no longer followed, to stay within the memory budget (`maxConnections`), before it ended. */
export type EndReason = 'closed' | 'reset' | 'timeout' | 'reuse' | 'end_of_capture' | 'evicted';
/** End reasons by number; 0 is "not ended". */
export const END_REASONS: ReadonlyArray<EndReason | null> = [null, 'closed', 'reset', 'timeout', 'reuse', 'end_of_capture', 'evicted'];
export const End = { CLOSED: 1, RESET: 2, TIMEOUT: 3, REUSE: 4, END_OF_CAPTURE: 5, EVICTED: 6 } as const;

/** The RST that an endpoint accepted first, and what surrounded it. */
export interface ResetInfo {
  frame: number;
  ts: number;
  sentBy: Side;
  senderState: TcpStateName;
  receiverState: TcpStateName;
  /** It followed data from the RST's receiver: at once, or after its sender's own bare ACK of that data. */
  afterPeerData: boolean;
  /** The sender had sent data its peer had not acknowledged yet. */
  senderHadDataInFlight: boolean;
  /** The RST's receiver advertised a zero window: the sender was blocked with data to send. */
  receiverWindowZero: boolean;
  /** A RST without ACK answering the peer's segment, from an end that never closed: its host had no socket for the connection. */
  senderHadNoSocket: boolean;
}

/** An ICMP error that ended one end's handshake (a failed connect, or a dropped request). */
export interface IcmpInfo {
  frame: number;
  ts: number;
  /** The end that got it (the sender of the segment it quotes). */
  side: Side;
  /** Its Icmp kind (decode/icmp.ts). */
  kind: number;
  /** It came from the other end's address, not from a router on the way. */
  fromPeer: boolean;
  /** Handshakes of that end it ended (a server's requests: each SYN sent again made a new one). */
  count: number;
}

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

/** One state change as forEachInTimeOrder hands it over (a Transition's fields, in order). */
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
 * The same by numbers, for the database's writer: the side (0 client, 1 server), the states as
 * St numbers (`from` -1: none), the cause as its text.
 */
export type StepVisitor = (packet: number | null, ts: number, side: number, from: number, to: number, cause: string, inferred: boolean) => void;

/**
 * A SYN, SYN-ACK or FIN from the peer, seen at the capture point. Whether and when it reached
 * an endpoint shows in what the endpoint sends next: an ACK covering it, or a segment of its
 * own that does not (the two crossed). Kinds of a receipt record.
 */
export const Receipt = { SYN: 0, SYNACK: 1, FIN: 2 } as const;
/**
 * Bits of a receipt record: the FIN segment also acknowledged the endpoint's own FIN; a FIN behind a
 * hole; a FIN its sender sent again (or data before it) while the endpoint had sent nothing since it
 * passed (never acknowledged: no proof it arrived, only the endpoint's ACK of it is).
 */
export const ACKS_OWN_FIN = 1;
export const BEHIND_HOLE = 2;
export const UNANSWERED = 4;

/** How many tcp.analysis fields there are (TSHARK_FIELDS in src/tcp/wireshark/flags.ts). */
export const ANALYSIS_FIELDS = 15;
/** RTT samples kept per direction before every other one is dropped. */
const RTT_SAMPLES_MAX = 4096;

/** No state (a transition's `from` before the first one). */
const NO_STATE = 11;

const FLOW_COLUMNS = {
  id: Uint32Array,
  /** A flow is on this row (of the store that holds flows on rows). */
  live: Uint8Array,
  /** The connection-table row of the flow's endpoint pair (its own row, or the row it was set aside from). */
  keyRow: Int32Array,
  /** Set aside beside the row's new flow (see FlowTable.park): its slot + 1, 0 for none. */
  parked: Int32Array,
  /** Of a flow set aside: the time of the new connection's latest SYN, which its TIME_WAIT peer may answer. */
  parkedSynTs: Float64Array,
  firstTs: Float64Array,
  lastTs: Float64Array,
  firstPacket: Uint32Array,
  lastPacket: Uint32Array,
  /** Picked up mid-connection: no handshake seen, states inferred. */
  midstream: Uint8Array,
  /** ROLES_BY index. */
  rolesBy: Uint8Array,
  /** Which end of the row's pair (0: lower, 1: higher) is the client. */
  clientEnd: Uint8Array,
  /** Both ends are one address and port: every packet is the client's. */
  sameEnds: Uint8Array,
  /** The client's IPv4 address (0 for IPv6). */
  clientV4: Uint32Array,
  /** A RST was accepted by an endpoint; then the reset* columns say which one first. */
  reset: Uint8Array,
  resetFrame: Uint32Array,
  resetTs: Float64Array,
  resetSentBy: Uint8Array,
  resetSenderState: Uint8Array,
  resetReceiverState: Uint8Array,
  /** 1: after peer data, 2: sender had data in flight, 4: receiver's window zero, 8: taken only in the window (rfc793), 16: from a host with no socket. */
  resetBits: Uint8Array,
  /**
   * An ICMP error ended an end's attempt (machine.ts icmpError): 1 + that end's side (0: none), the
   * error's frame, time, Icmp kind (decode/icmp.ts), and 1 when it came from the peer's own address.
   */
  icmpTo: Uint8Array,
  icmpFrame: Uint32Array,
  icmpTs: Float64Array,
  icmpKind: Uint8Array,
  icmpFromPeer: Uint8Array,
  /** How many times an ICMP error ended that end's handshake (a server's new request each time). */
  icmpCount: Uint16Array,
  /** A SYN of a new ISN held as challenged (FlowTable.synChallenged): its record in FlowTable.challenges + 1, or 0. */
  challenge: Int32Array,
  /** Packet time at which both endpoints had no socket left, or -1. */
  goneAt: Float64Array,
  /** END_REASONS index, and the packet time at which the flow ended. */
  endReason: Uint8Array,
  endTs: Float64Array,
  /** Who sent the previous segment (-1: nobody yet), and its payload; who sent the last one with data. */
  lastSender: Int8Array,
  lastPayload: Float64Array,
  lastDataSender: Int8Array,
  /** The transition log: head and tail records in FlowStore.log, and how many. */
  logHead: Int32Array,
  logTail: Int32Array,
  logCount: Int32Array,
  /** The deadline queued for the flow in the table's timer heap, or -1. */
  due: Float64Array,
  /** Sequence-analysis figures: any at all, the handshake RTT (µs, -1 unknown), RTT samples per direction. */
  hasAnalysis: Uint8Array,
  initialRttUs: Float64Array,
  rttHead0: Int32Array,
  rttTail0: Int32Array,
  rttCount0: Int32Array,
  rttHead1: Int32Array,
  rttTail1: Int32Array,
  rttCount1: Int32Array,
  /**
   * Zeek's connection holding the flow's first packet (its serial, 0: none), and once Zeek has
   * logged it, its conn_state and history (indexes + 1 into FlowStore.zeekTexts; 0: not yet).
   */
  zeekSerial: Uint32Array,
  zeekState: Int32Array,
  zeekHistory: Int32Array,
  /** The conn.log row (its place, from 1) the database stores against this flow, 0: none; and the flow's last packet when Zeek logged it. */
  zeekRow: Int32Array,
  zeekSnap: Uint32Array,
};

const ENDPOINT_COLUMNS = {
  /** St number. */
  state: Uint8Array,
  /** Packet time at which the current state was entered. */
  since: Float64Array,
  /** Initial sequence number (of its SYN), or -1 when no SYN was seen. */
  isn: Float64Array,
  /** Highest sequence number sent plus the SYN/FIN/data it carried (what the peer expects next). */
  sndNxt: Uint32Array,
  hasSent: Uint8Array,
  finSent: Uint8Array,
  finSeq: Uint32Array,
  /** The peer's FIN has been received. */
  peerFinReceived: Uint8Array,
  /** Opened passively (it answered a SYN): a RST sends it back to LISTEN. */
  passive: Uint8Array,
  /** It acknowledged new data after sending its FIN: a half-close whose application reads on, not an orphan. */
  readsAfterClose: Uint8Array,
  /** It retransmitted its FIN after an ACK of it passed: that ACK never arrived (its next one is awaited). */
  finAckLost: Uint8Array,
  /** Passive: it sent its SYN-ACK again after an ACK of it passed (a full accept queue dropped that ACK): the same ACK proves nothing until it sends something else. */
  ackOfSynDropped: Uint8Array,
  /** Window scale shift from its SYN (-1: none), and its last advertised window (scaled). */
  windowScale: Int8Array,
  window: Int32Array,
  synFrame: Uint32Array,
  synTs: Float64Array,
  /** The peer's SYN and FIN not yet known to have arrived here: head record in FlowStore.receipts, or NONE. */
  pending: Int32Array,
  /** Frame and time of its last segment. */
  lastSendFrame: Uint32Array,
  lastSendTs: Float64Array,
  synAcks: Uint32Array,
  lastSynAckTs: Float64Array,
  synsSent: Uint32Array,
  /** In SYN_SENT, the acknowledgement number of the last ACK it received that did not acknowledge its SYN (-1: none). */
  badAckInSynSent: Float64Array,
  /** Its last SYN, and the time between its last two (the backoff the next one follows). */
  lastSynTs: Float64Array,
  synGapUs: Float64Array,
  /** Highest acknowledgement number it has sent (how far it acknowledged the peer's data). */
  ackedUpTo: Uint32Array,
  hasAcked: Uint8Array,
  /** When it entered and left CLOSE_WAIT (-1: not yet), and the frame that put it there. */
  closeWaitSince: Float64Array,
  closeWaitUntil: Float64Array,
  closeWaitFrame: Uint32Array,
  /** Data sent and not acknowledged since (µs, -1: all acknowledged), and retransmissions since. */
  unackedSince: Float64Array,
  unackedFrame: Uint32Array,
  retransmissionsUnacked: Uint32Array,
  lastRetransmissionTs: Float64Array,
  /** The first of those retransmissions (Linux's retrans_stamp, from which tcp_orphan_retries' budget runs). */
  firstRetransmissionTs: Float64Array,
  /** Time from the previous (re)transmission of its unacknowledged data to the last retransmission. */
  retransmitGapUs: Float64Array,
  /**
   * Zero-window probes (at the peer's acknowledged point minus one, 0 or 1 byte, while the peer's
   * last window is 0): how many since the peer's last ACK (Linux's icsk_probes_out), how many since
   * the window closed (its icsk_backoff, capped at tcp_retries2), the last one's time, and the time
   * from the one before it (or the peer's zero window) to it.
   */
  probesUnanswered: Uint32Array,
  probesSinceZeroWindow: Uint32Array,
  lastProbeTs: Float64Array,
  probeGapUs: Float64Array,
  packets: Uint32Array,
  payloadBytes: Float64Array,
  ipBytes: Float64Array,
};


/** The per-endpoint numbers a snapshot copies (every endpoint column but `pending`, which it counts). */
const ENDPOINT_FIELDS = Object.keys(ENDPOINT_COLUMNS).filter((k) => k !== 'state' && k !== 'pending') as Array<keyof typeof ENDPOINT_COLUMNS>;
const ENDPOINT_FLAGS = new Set(['hasSent', 'finSent', 'peerFinReceived', 'passive', 'readsAfterClose', 'finAckLost', 'ackOfSynDropped', 'hasAcked']);

/**
 * Every flow of a connection table: its columns, pools, and the text of its transitions' causes.
 * A flow's index is a slot of the store (its `keyRow` names the connection-table row); a second
 * store (made with `sharing`, the same pools) holds flows set aside from their row.
 */
export class FlowStore {
  /** Per flow, by slot. */
  readonly f: ColumnSet<typeof FLOW_COLUMNS>;
  /** Per endpoint, by 2 * slot + side. */
  readonly e = new ColumnSet(ENDPOINT_COLUMNS, 2048);
  /** The peer's SYN, SYN-ACK and FIN awaiting proof of arrival, a list per endpoint. */
  readonly receipts: Pool<{ kind: Uint8ArrayConstructor; frame: Float64ArrayConstructor; ts: Float64ArrayConstructor; ackedBy: Uint32ArrayConstructor; bits: Uint8ArrayConstructor }>;
  /** State changes, a list per flow in recording order: frame (0: a timer), time, and code (see `record`). */
  readonly log: Pool<{ frame: Float64ArrayConstructor; ts: Float64ArrayConstructor; code: Uint32ArrayConstructor }>;
  /** RTT samples (µs) of each direction's data, a list per flow and direction. */
  readonly rtt: Pool<{ us: Float64ArrayConstructor }>;
  /** Counts per tcp.analysis field, ANALYSIS_FIELDS per row. */
  counts = new Uint32Array(ANALYSIS_FIELDS * 1024);
  /** Zeek's conn_state and history texts the flows name (few distinct ones), shared with a sharing store. */
  readonly zeekTexts: string[];
  /** A time-ordered walk over a log (forEachInTimeOrder), and RTT samples being summarized. */
  private order = new Int32Array(64);
  private samples = new Float64Array(64);

  constructor(
    readonly table: ConnTable,
    /** Cause texts by code (state/causes.ts: causeTexts). */
    readonly causes: readonly string[],
    /** The store whose pools this one shares; its flows are then by slots of its own, not rows. */
    sharing: FlowStore | null = null,
  ) {
    this.f = new ColumnSet(FLOW_COLUMNS, 16);
    this.receipts = sharing?.receipts ?? new Pool({ kind: Uint8Array, frame: Float64Array, ts: Float64Array, ackedBy: Uint32Array, bits: Uint8Array }, 256);
    this.log = sharing?.log ?? new Pool({ frame: Float64Array, ts: Float64Array, code: Uint32Array });
    this.rtt = sharing?.rtt ?? new Pool({ us: Float64Array });
    this.zeekTexts = sharing?.zeekTexts ?? [];
    this.fit();
  }

  /** Make room for every row the table has (after a lookup may have grown it), or slot the flow columns have. */
  fit(): void {
    const rows = this.f.capacity;
    if (2 * rows > this.e.capacity) this.e.ensure(2 * rows);
    if (ANALYSIS_FIELDS * rows > this.counts.length) {
      const grown = new Uint32Array(ANALYSIS_FIELDS * this.f.capacity);
      grown.set(this.counts);
      this.counts = grown;
    }
  }

  /**
   * Start flow `id` in slot `row` for connection-table row `keyRow`: the columns that do not start
   * at 0. The others are 0 already: a slot is blanked when its flow leaves it (close, moveTo),
   * while its lines are still in the cache from the flow's end, and a new slot is made zeroed.
   */
  open(row: number, id: number, keyRow: number): void {
    this.f.ensure(row + 1);
    this.fit();
    const c = this.f.c;
    c.id[row] = id;
    c.live[row] = 1;
    c.keyRow[row] = keyRow;
    c.goneAt[row] = -1;
    c.lastSender[row] = -1;
    c.lastDataSender[row] = -1;
    c.logHead[row] = NONE;
    c.logTail[row] = NONE;
    c.due[row] = -1;
    c.initialRttUs[row] = -1;
    c.rttHead0[row] = NONE;
    c.rttTail0[row] = NONE;
    c.rttHead1[row] = NONE;
    c.rttTail1[row] = NONE;
    const x = this.e.c;
    for (let e = 2 * row; e < 2 * row + 2; e++) {
      x.state[e] = St.CLOSED;
      x.isn[e] = -1;
      x.windowScale[e] = -1;
      x.pending[e] = NONE;
      x.badAckInSynSent[e] = -1;
      x.closeWaitSince[e] = -1;
      x.closeWaitUntil[e] = -1;
      x.unackedSince[e] = -1;
    }
  }

  /** Every column of the slot to 0 but `parked` (what was set aside beside the slot's flow stays), for the next flow. */
  private blank(row: number): void {
    const f = this.f;
    const parked = f.c.parked[row];
    f.clear(row);
    f.c.parked[row] = parked;
    this.e.clear(2 * row);
    this.e.clear(2 * row + 1);
    // A loop, not fill(): for 15 numbers the call into the runtime costs more than the stores.
    for (let k = ANALYSIS_FIELDS * row, end = k + ANALYSIS_FIELDS; k < end; k++) this.counts[k] = 0;
  }

  /**
   * Move the flow at `from` into slot `to` of `into` (a store sharing these pools): every column,
   * and its lists; `from` is left blank (its `parked` column, the caller's, stays).
   */
  moveTo(into: FlowStore, to: number, from: number): void {
    into.fit();
    this.f.copyRow(into.f, to, from);
    this.e.copyRow(into.e, 2 * to, 2 * from);
    this.e.copyRow(into.e, 2 * to + 1, 2 * from + 1);
    into.counts.set(this.counts.subarray(ANALYSIS_FIELDS * from, ANALYSIS_FIELDS * from + ANALYSIS_FIELDS), ANALYSIS_FIELDS * to);
    this.blank(from);
  }

  /** The flow on `row` is done: its lists go back to the pools, and the slot is left blank. */
  close(row: number): void {
    const c = this.f.c;
    c.logHead[row] = this.log.releaseList(c.logHead[row]);
    c.logTail[row] = NONE;
    c.logCount[row] = 0;
    c.rttHead0[row] = this.rtt.releaseList(c.rttHead0[row]);
    c.rttHead1[row] = this.rtt.releaseList(c.rttHead1[row]);
    const x = this.e.c;
    x.pending[2 * row] = this.receipts.releaseList(x.pending[2 * row]);
    x.pending[2 * row + 1] = this.receipts.releaseList(x.pending[2 * row + 1]);
    this.blank(row);
  }

  /**
   * Record a state change (state/machine.ts's `enter` is the one caller): frame 0 for a timer;
   * `from` NO_STATE (11) for none. Code: to | from << 4 | side << 8 | inferred << 9 | cause << 10.
   */
  record(row: number, frame: number, ts: number, side: number, from: number, to: number, cause: CauseCode, inferred: boolean): void {
    const log = this.log;
    const r = log.take();
    log.c.frame[r] = frame;
    log.c.ts[r] = ts;
    log.c.code[r] = to | (from << 4) | (side << 8) | (inferred ? 1 << 9 : 0) | (cause << 10);
    const c = this.f.c;
    if (c.logTail[row] === NONE) c.logHead[row] = r;
    else log.next[c.logTail[row]] = r;
    c.logTail[row] = r;
    c.logCount[row]++;
  }

  /** The code of `side`'s last change (see `record`), or -1 when it has none. */
  lastCode(row: number, side: number): number {
    const code = this.log.c.code;
    let last = -1;
    for (let i = this.f.c.logHead[row]; i !== NONE; i = this.log.next[i]) if (((code[i] >> 8) & 1) === side) last = code[i];
    return last;
  }

  /**
   * Take back `side`'s last change if it went from `from` to `to` (hindsight: later packets
   * proved the segment behind it never arrived). Returns the time of the side's change before
   * it (when it entered `from`), or -1 when the last change is another one (nothing is taken).
   * With `cause` (>= 0), only a change for that cause is taken back.
   */
  revokeLast(row: number, side: number, from: number, to: number, cause = -1): number {
    const log = this.log;
    const code = log.c.code;
    const c = this.f.c;
    let prev = NONE;
    let last = NONE;
    let lastPrev = NONE;
    let before = NONE;
    for (let i = c.logHead[row]; i !== NONE; i = log.next[i]) {
      if (((code[i] >> 8) & 1) === side) {
        before = last;
        last = i;
        lastPrev = prev;
      }
      prev = i;
    }
    if (last === NONE || ((code[last] >> 4) & 15) !== from || (code[last] & 15) !== to || (cause >= 0 && code[last] >>> 10 !== cause)) return -1;
    if (lastPrev === NONE) c.logHead[row] = log.next[last];
    else log.next[lastPrev] = log.next[last];
    if (c.logTail[row] === last) c.logTail[row] = lastPrev;
    c.logCount[row]--;
    log.release(last);
    return before === NONE ? c.firstTs[row] : log.c.ts[before];
  }

  /** The flow's state changes in packet-time order (stable: recording order within one instant). */
  forEachInTimeOrder(row: number, fn: TransitionVisitor): void {
    const k = this.timeOrder(row);
    for (let j = 0; j < k; j++) this.visit(this.order[j], fn);
  }

  /** forEachInTimeOrder by numbers. */
  forEachStepInTimeOrder(row: number, fn: StepVisitor): void {
    const k = this.timeOrder(row);
    const log = this.log;
    for (let j = 0; j < k; j++) {
      const i = this.order[j];
      const code = log.c.code[i];
      const frame = log.c.frame[i];
      const from = (code >> 4) & 15;
      fn(frame === 0 ? null : frame, log.c.ts[i], (code >> 8) & 1, from === NO_STATE ? -1 : from, code & 15, this.causes[code >> 10], (code & (1 << 9)) !== 0);
    }
  }

  /** The flow's log records in packet-time order into `order`; returns how many. */
  private timeOrder(row: number): number {
    const log = this.log;
    const ts = log.c.ts;
    const n = this.f.c.logCount[row];
    if (n > this.order.length) this.order = new Int32Array(2 * n);
    const order = this.order;
    // An insertion sort (logs are a dozen changes, nearly always in order already): stable.
    let k = 0;
    for (let i = this.f.c.logHead[row]; i !== NONE; i = log.next[i]) {
      let j = k++;
      while (j > 0 && ts[order[j - 1]] > ts[i]) {
        order[j] = order[j - 1];
        j--;
      }
      order[j] = i;
    }
    return k;
  }

  /** The flow's state changes in recording order. */
  forEach(row: number, fn: TransitionVisitor): void {
    for (let i = this.f.c.logHead[row]; i !== NONE; i = this.log.next[i]) this.visit(i, fn);
  }

  private visit(i: number, fn: TransitionVisitor): void {
    const code = this.log.c.code[i];
    const frame = this.log.c.frame[i];
    const from = (code >> 4) & 15;
    fn(frame === 0 ? null : frame, this.log.c.ts[i], SIDES[(code >> 8) & 1], from === NO_STATE ? null : STATE_NAMES[from], STATE_NAMES[code & 15], this.causes[code >> 10], (code & (1 << 9)) !== 0);
  }

  /**
   * The first recorded change of `side` from `from` to `to` (-1: any state) with cause `cause`
   * (-1: any), as a record of `log` (its time: `log.c.ts[i]`), or NONE.
   */
  findTransition(row: number, side: number, from: number, to: number, cause = -1): number {
    const code = this.log.c.code;
    for (let i = this.f.c.logHead[row]; i !== NONE; i = this.log.next[i]) {
      const k = code[i];
      if (((k >> 8) & 1) !== side || (from >= 0 && ((k >> 4) & 15) !== from) || (to >= 0 && (k & 15) !== to)) continue;
      if (cause < 0 || k >> 10 === cause) return i;
    }
    return NONE;
  }

  /** An RTT sample (µs) of data `side` sent; beyond RTT_SAMPLES_MAX every other one is dropped. */
  sample(row: number, side: number, us: number): void {
    const c = this.f.c;
    const rtt = this.rtt;
    const r = rtt.take();
    rtt.c.us[r] = us;
    const head = side === 0 ? c.rttHead0 : c.rttHead1;
    const tail = side === 0 ? c.rttTail0 : c.rttTail1;
    const count = side === 0 ? c.rttCount0 : c.rttCount1;
    if (head[row] === NONE) head[row] = r;
    else rtt.next[tail[row]] = r;
    tail[row] = r;
    if (++count[row] < RTT_SAMPLES_MAX) return;
    // Keep every other sample (the 1st, 3rd, ...): bounded memory, the median barely moves.
    let kept = NONE;
    let n = 0;
    for (let i = head[row], k = 0; i !== NONE; k++) {
      const next = rtt.next[i];
      if (k % 2 === 1) {
        rtt.next[kept] = next;
        rtt.release(i);
      } else {
        kept = i;
        n++;
      }
      i = next;
    }
    tail[row] = kept;
    count[row] = n;
  }

  /** The RTT samples of data `side` sent, sorted, in a scratch array (valid until the next call); returns how many. */
  sortedSamples(row: number, side: number): Float64Array {
    const c = this.f.c;
    const n = side === 0 ? c.rttCount0[row] : c.rttCount1[row];
    if (n > this.samples.length) this.samples = new Float64Array(2 * n);
    let k = 0;
    for (let i = side === 0 ? c.rttHead0[row] : c.rttHead1[row]; i !== NONE; i = this.rtt.next[i]) this.samples[k++] = this.rtt.c.us[i];
    return this.samples.subarray(0, n).sort();
  }
}

/** One endpoint of the flow a FlowView is on (valid while the view stays on that row). */
export class EndpointView {
  /** 2 * row + side. */
  e = 0;

  constructor(
    private readonly st: FlowStore,
    readonly side: Side,
    private readonly view: FlowView,
  ) {}

  get addr(): string {
    return this.st.table.address(this.st.f.c.keyRow[this.e >> 1], this.end);
  }
  get port(): number {
    return this.st.table.port(this.st.f.c.keyRow[this.e >> 1], this.end);
  }
  /** The IPv4 address as a number, -1 for IPv6 (a key that makes no text). */
  get addrV4(): number {
    const row = this.st.f.c.keyRow[this.e >> 1];
    return this.st.table.family(row) === 4 ? this.st.table.addressV4(row, this.end) : -1;
  }
  get state(): TcpStateName {
    return STATE_NAMES[this.st.e.c.state[this.e]];
  }
  /** Which end of the row's pair this endpoint is. */
  private get end(): number {
    const row = this.e >> 1;
    const f = this.st.f.c;
    return this.side === 'client' || f.sameEnds[row] ? f.clientEnd[row] : 1 - f.clientEnd[row];
  }
  get since(): number {
    return this.st.e.c.since[this.e];
  }
  get isn(): number {
    return this.st.e.c.isn[this.e];
  }
  get synFrame(): number {
    return this.st.e.c.synFrame[this.e];
  }
  get synTs(): number {
    return this.st.e.c.synTs[this.e];
  }
  get synsSent(): number {
    return this.st.e.c.synsSent[this.e];
  }
  get synAcks(): number {
    return this.st.e.c.synAcks[this.e];
  }
  get closeWaitSince(): number {
    return this.st.e.c.closeWaitSince[this.e];
  }
  get closeWaitUntil(): number {
    return this.st.e.c.closeWaitUntil[this.e];
  }
  get closeWaitFrame(): number {
    return this.st.e.c.closeWaitFrame[this.e];
  }
  get unackedSince(): number {
    return this.st.e.c.unackedSince[this.e];
  }
  get unackedFrame(): number {
    return this.st.e.c.unackedFrame[this.e];
  }
  get retransmissionsUnacked(): number {
    return this.st.e.c.retransmissionsUnacked[this.e];
  }
  get lastRetransmissionTs(): number {
    return this.st.e.c.lastRetransmissionTs[this.e];
  }
  get packets(): number {
    return this.st.e.c.packets[this.e];
  }
  get payloadBytes(): number {
    return this.st.e.c.payloadBytes[this.e];
  }
  get ipBytes(): number {
    return this.st.e.c.ipBytes[this.e];
  }
  /** Receipts still awaiting proof. */
  get pendingCount(): number {
    let n = 0;
    for (let i = this.st.e.c.pending[this.e]; i !== NONE; i = this.st.receipts.next[i]) n++;
    return n;
  }

  /** Every endpoint column as a plain object (a snapshot's endpoint). */
  snapshot(): EndpointRecord {
    const out: Record<string, unknown> = { side: this.side, addr: this.addr, port: this.port, state: this.state };
    const c = this.st.e.c as unknown as Record<string, ArrayLike<number>>;
    for (const k of ENDPOINT_FIELDS) out[k] = ENDPOINT_FLAGS.has(k) ? c[k][this.e] !== 0 : c[k][this.e];
    out.pending = this.pendingCount;
    return out as unknown as EndpointRecord;
  }

  /** The other endpoint of the flow. */
  get peer(): EndpointView {
    return this.side === 'client' ? this.view.server : this.view.client;
  }
}

/** An endpoint copied out of the columns (FlowView.snapshot). */
export type EndpointRecord = {
  side: Side;
  addr: string;
  port: number;
  state: TcpStateName;
  pending: number;
} & { [K in Exclude<keyof typeof ENDPOINT_COLUMNS, 'state' | 'pending'>]: K extends 'hasSent' | 'finSent' | 'peerFinReceived' | 'passive' | 'readsAfterClose' | 'finAckLost' | 'ackOfSynDropped' | 'hasAcked' ? boolean : number };

/** The sequence-analysis figures of the flow a FlowView is on. */
export class FiguresView {
  row = 0;
  constructor(private readonly st: FlowStore) {}

  /** Count of the i-th tcp.analysis field (TSHARK_FIELDS order). */
  count(i: number): number {
    return this.st.counts[ANALYSIS_FIELDS * this.row + i];
  }
  get initialRttUs(): number {
    return this.st.f.c.initialRttUs[this.row];
  }
  /** The RTT samples of data `side` sent, sorted (a scratch array, valid until the next call). */
  sortedRtt(side: Side): Float64Array {
    return this.st.sortedSamples(this.row, side === 'client' ? 0 : 1);
  }
}

/** The flow on one row, read through getters: one per table, moved from row to row (`at`). */
export class FlowView {
  row = 0;
  readonly client: EndpointView;
  readonly server: EndpointView;
  private readonly figures: FiguresView;
  private readonly icmpView: IcmpInfo = { frame: 0, ts: 0, side: 'client', kind: 0, fromPeer: false, count: 0 };
  private readonly resetView: ResetInfo = { frame: 0, ts: 0, sentBy: 'client', senderState: 'CLOSED', receiverState: 'CLOSED', afterPeerData: false, senderHadDataInFlight: false, receiverWindowZero: false, senderHadNoSocket: false };

  constructor(readonly st: FlowStore) {
    this.client = new EndpointView(st, 'client', this);
    this.server = new EndpointView(st, 'server', this);
    this.figures = new FiguresView(st);
  }

  /** Put the view on `row` (until the next call). */
  at(row: number): this {
    this.row = row;
    this.client.e = 2 * row;
    this.server.e = 2 * row + 1;
    this.figures.row = row;
    return this;
  }

  get id(): number {
    return this.st.f.c.id[this.row];
  }
  get ipVersion(): 4 | 6 {
    return this.st.table.family(this.st.f.c.keyRow[this.row]) as 4 | 6;
  }
  get firstTs(): number {
    return this.st.f.c.firstTs[this.row];
  }
  get lastTs(): number {
    return this.st.f.c.lastTs[this.row];
  }
  get firstPacket(): number {
    return this.st.f.c.firstPacket[this.row];
  }
  get lastPacket(): number {
    return this.st.f.c.lastPacket[this.row];
  }
  get midstream(): boolean {
    return this.st.f.c.midstream[this.row] !== 0;
  }
  get rolesBy(): RolesBy {
    return ROLES_BY[this.st.f.c.rolesBy[this.row]];
  }
  get reset(): boolean {
    return this.st.f.c.reset[this.row] !== 0;
  }
  /** Packet time at which both endpoints had no socket left, or -1. */
  get goneAt(): number {
    return this.st.f.c.goneAt[this.row];
  }
  get endReason(): EndReason | null {
    return END_REASONS[this.st.f.c.endReason[this.row]];
  }
  get endTs(): number {
    return this.st.f.c.endTs[this.row];
  }
  /** Zeek's conn_state and history of the connection holding the flow's first packet, when Zeek logged it before the flow ended (else null). */
  get zeekConnState(): string | null {
    const k = this.st.f.c.zeekState[this.row];
    return k === 0 ? null : this.st.zeekTexts[k - 1];
  }
  get zeekHistory(): string | null {
    const k = this.st.f.c.zeekHistory[this.row];
    return k === 0 ? null : this.st.zeekTexts[k - 1];
  }
  /** The conn.log row stored against this flow (its place in the capture's conn.log, from 1), or 0. */
  get zeekRow(): number {
    return this.st.f.c.zeekRow[this.row];
  }
  /** A packet came after Zeek logged that row: its differences from this flow must be made again. */
  get zeekRowStale(): boolean {
    const c = this.st.f.c;
    return c.zeekRow[this.row] !== 0 && c.zeekSnap[this.row] !== c.lastPacket[this.row];
  }
  /**
   * Zeek had a connection when this flow started and has not logged it yet: its row may still
   * start at this flow's first packet (the database keeps the flow's values for it).
   */
  get zeekPending(): boolean {
    const c = this.st.f.c;
    return c.zeekRow[this.row] === 0 && c.zeekState[this.row] === 0 && c.zeekSerial[this.row] !== 0;
  }
  /** The client's IPv4 address as a number (0 for IPv6). */
  get clientAddrV4(): number {
    return this.st.f.c.clientV4[this.row];
  }
  /** The first accepted RST (one object per view, refilled: valid during the callback), or null. */
  get resetInfo(): ResetInfo | null {
    const c = this.st.f.c;
    const row = this.row;
    if (c.reset[row] === 0) return null;
    const r = this.resetView;
    r.frame = c.resetFrame[row];
    r.ts = c.resetTs[row];
    r.sentBy = SIDES[c.resetSentBy[row]];
    r.senderState = STATE_NAMES[c.resetSenderState[row]];
    r.receiverState = STATE_NAMES[c.resetReceiverState[row]];
    r.afterPeerData = (c.resetBits[row] & 1) !== 0;
    r.senderHadDataInFlight = (c.resetBits[row] & 2) !== 0;
    r.receiverWindowZero = (c.resetBits[row] & 4) !== 0;
    r.senderHadNoSocket = (c.resetBits[row] & 16) !== 0;
    return r;
  }
  /** The ICMP error that ended an end's handshake, or null (valid until the view moves). */
  get icmpInfo(): IcmpInfo | null {
    const c = this.st.f.c;
    const row = this.row;
    if (c.icmpTo[row] === 0) return null;
    const v = this.icmpView;
    v.frame = c.icmpFrame[row];
    v.ts = c.icmpTs[row];
    v.side = SIDES[c.icmpTo[row] - 1];
    v.kind = c.icmpKind[row];
    v.fromPeer = c.icmpFromPeer[row] !== 0;
    v.count = c.icmpCount[row];
    return v;
  }
  get hasAnalysis(): boolean {
    return this.st.f.c.hasAnalysis[this.row] !== 0;
  }
  get analysis(): FiguresView {
    return this.figures;
  }
  get transitionCount(): number {
    return this.st.f.c.logCount[this.row];
  }
  forEachInTimeOrder(fn: TransitionVisitor): void {
    this.st.forEachInTimeOrder(this.row, fn);
  }
  forEachStepInTimeOrder(fn: StepVisitor): void {
    this.st.forEachStepInTimeOrder(this.row, fn);
  }
  /** `side`'s first change from `from` to `to` (null: any) with cause `cause` (omitted: any), or -1; read it with tsAt and causeAt. */
  findTransition(side: Side, from: TcpStateName | null, to: TcpStateName | null, cause: CauseCode | -1 = -1): number {
    return this.st.findTransition(this.row, side === 'client' ? 0 : 1, from === null ? -1 : St[from], to === null ? -1 : St[to], cause);
  }
  /** The time of a change findTransition gave. */
  tsAt(i: number): number {
    return this.st.log.c.ts[i];
  }
  /** The cause code of a change findTransition gave. */
  causeAt(i: number): CauseCode {
    return (this.st.log.c.code[i] >> 10) as CauseCode;
  }

  /** The flow copied out of the columns: for whoever keeps it past the callback (tests, tools). */
  snapshot(): FlowRecord {
    const transitions: Transition[] = [];
    this.st.forEach(this.row, (packet, ts, side, from, to, cause, inferred) => transitions.push({ packet, ts, side, from, to, cause, inferred }));
    const timeOrdered: Transition[] = [];
    this.st.forEachInTimeOrder(this.row, (packet, ts, side, from, to, cause, inferred) => timeOrdered.push({ packet, ts, side, from, to, cause, inferred }));
    const counts: number[] = [];
    for (let i = 0; i < ANALYSIS_FIELDS; i++) counts.push(this.figures.count(i));
    const r = this.resetInfo;
    return new FlowRecord({
      id: this.id,
      ipVersion: this.ipVersion,
      client: this.client.snapshot(),
      server: this.server.snapshot(),
      firstTs: this.firstTs,
      lastTs: this.lastTs,
      firstPacket: this.firstPacket,
      lastPacket: this.lastPacket,
      midstream: this.midstream,
      rolesBy: this.rolesBy,
      reset: this.reset,
      goneAt: this.goneAt,
      endReason: this.endReason,
      endTs: this.endTs,
      resetInfo: r === null ? null : { ...r },
      analysis: this.hasAnalysis ? { counts, initialRttUs: this.figures.initialRttUs, rttClient: [...this.figures.sortedRtt('client')], rttServer: [...this.figures.sortedRtt('server')] } : null,
      transitions,
      timeOrdered,
    });
  }
}

/** A flow copied out of the columns (FlowView.snapshot): plain data. */
export class FlowRecord {
  readonly id!: number;
  readonly ipVersion!: 4 | 6;
  readonly client!: EndpointRecord;
  readonly server!: EndpointRecord;
  readonly firstTs!: number;
  readonly lastTs!: number;
  readonly firstPacket!: number;
  readonly lastPacket!: number;
  readonly midstream!: boolean;
  readonly rolesBy!: RolesBy;
  readonly reset!: boolean;
  readonly goneAt!: number;
  readonly endReason!: EndReason | null;
  readonly endTs!: number;
  readonly resetInfo!: ResetInfo | null;
  /** The sequence-analysis figures (null: none), RTT samples sorted. */
  readonly analysis!: { counts: number[]; initialRttUs: number; rttClient: number[]; rttServer: number[] } | null;
  /** Every state change in recording order. */
  readonly transitions!: Transition[];
  private readonly timeOrdered!: Transition[];

  constructor(fields: Omit<FlowRecord, 'transitionsInTimeOrder'> & { timeOrdered: Transition[] }) {
    Object.assign(this, fields);
  }

  /** The state changes in packet-time order (changes found later may concern earlier frames). */
  transitionsInTimeOrder(): Transition[] {
    return this.timeOrdered;
  }
}
