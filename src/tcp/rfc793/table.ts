/**
 * The RFC 793 flows of a connection table: on each row (conn/table.ts) at most one flow at a
 * time, held with holder bit 0 from its first packet to its end, and swept by packet time
 * through one timer heap. Every flow ends through `end(slot, reason)` and is handed to `onEnd`
 * (through the table's one FlowView), so memory follows the live connections, not the size of
 * the capture. A new SYN on a closed or TIME_WAIT tuple ends the flow and starts another on
 * the same row.
 *
 * A flow's columns are in a slot of the store bound to its row (conn/slots.ts). A connection
 * that is so far one SYN (a SYN flood's spoofed sources, a port scan, a host that never
 * answers) takes no slot: the few numbers of its SYN wait in the row's own columns, and its
 * flow is made from them, exactly as the SYN would have made it, when the connection's next
 * packet comes, a sweep could change it, or the capture ends (`whole`). Its id is taken at the
 * SYN, so flows keep their creation order.
 */
import { type DecodedPacket, TcpFlag, sameAddressAt, u32 } from '../../decode/packet.js';
import { ICMP_ABORTS_REQUEST } from '../../decode/icmp.js';
import type { ConnTable } from '../../conn/table.js';
import { TimerHeap } from '../../conn/timers.js';
import { Slots } from '../../conn/slots.js';
import { ColumnSet } from '../../conn/columns.js';
import { Pool } from '../../conn/pool.js';
import { enter, icmpError, icmpNeverArrived, segment, settle, type Segment, type StackRules } from './machine.js';
import { Cause, causeTexts } from './causes.js';
import { St, goneState } from './tcp-state.js';
import { seqAdd, seqDiff, seqGt } from './seq.js';
import { End, FlowStore, FlowView } from './flow.js';

const { SYN, ACK, RST, FIN } = TcpFlag;

/** The connection table's holder bit of the RFC 793 flow. */
export const FLOW_HOLDER = 0;
/** Timer tags (RFC 793 owns 0-15): a flow on its row, a flow set aside (FlowTable.park), a lone SYN. */
const SWEEP_TAG = 0;
const PARKED_TAG = 1;
const LONE_TAG = 2;

/** Per connection-table row: a connection that is one SYN so far, its flow not made yet (see `whole`). */
const LONE_COLUMNS = {
  /** The flow id its SYN took (0: no lone SYN on the row). */
  id: Uint32Array,
  ts: Float64Array,
  frame: Uint32Array,
  seq: Uint32Array,
  len: Uint32Array,
  ipBytes: Uint32Array,
  window: Uint16Array,
  flags: Uint16Array,
  windowScale: Int8Array,
  /** The SYN's direction: its sender (the client) is this end of the row's pair. */
  dir: Uint8Array,
  /** As the flow's zeekSerial, zeekState, zeekHistory and zeekRow (flow.ts), until the flow is made. */
  zeekSerial: Uint32Array,
  zeekState: Int32Array,
  zeekHistory: Int32Array,
  zeekRow: Int32Array,
};

/**
 * A row of Zeek's conn.log against the flows (FlowTable.zeekLogged fills it): the database
 * stores the row as its differences from the flow that starts at its first frame, and this is
 * that flow as it stands when Zeek logs (one object, refilled).
 */
export interface ZeekLink {
  /** The row's place in the capture's conn.log, from 1. */
  seq: number;
  /** Its orig_h and resp_h as the database codes them: an IPv4 address as its number, another as text. */
  origAddr: number | string;
  respAddr: number | string;
  /** The live flow starting at the row's first frame: its id, or 0 when there is none. */
  flow: number;
  /**
   * Nothing can ever look this row up again: it is logged after the input is over, against a lone
   * SYN's flow (which can change no more, and no other flow of the pair starts inside the row).
   */
  final: boolean;
  /** Its ends (an IPv4 address as its number, another as text) and what it holds so far. */
  clientAddr: number | string;
  clientPort: number;
  serverAddr: number | string;
  serverPort: number;
  firstTs: number;
  lastTs: number;
  firstPacket: number;
  lastPacket: number;
  clientPackets: number;
  clientBytes: number;
  clientIpBytes: number;
  serverPackets: number;
  serverBytes: number;
  serverIpBytes: number;
}

export const newZeekLink = (): ZeekLink => ({
  seq: 0, origAddr: 0, respAddr: 0, flow: 0, final: false, clientAddr: 0, clientPort: 0, serverAddr: 0, serverPort: 0, firstTs: 0, lastTs: 0, firstPacket: 0, lastPacket: 0,
  clientPackets: 0, clientBytes: 0, clientIpBytes: 0, serverPackets: 0, serverBytes: 0, serverIpBytes: 0,
});

export interface FlowTableOptions {
  /** How long TIME_WAIT lasts before CLOSED (Linux: 60 s; RFC 793's 2MSL: 240 s). */
  timeWaitUs: number;
  /** A connection with no packet for this long is ended (reason timeout). */
  idleTimeoutUs: number;
  /** A connection still in its handshake with no packet for this long is ended (SYN floods). */
  handshakeTimeoutUs: number;
  /** How long a connection whose endpoints are both gone stays to collect late packets. */
  lingerUs: number;
  /** A SYN-ACK never retransmitted for this long means the server kept no state (a SYN cookie; Infinity: no cookies). */
  synCookieUs: number;
  /** An orphaned FIN_WAIT_2 ends after this (Linux tcp_fin_timeout: 60 s; Infinity: never). */
  finTimeoutUs: number;
  /** SYN_SENT gives up after this many retransmissions of its SYN (Linux tcp_syn_retries: 6; Infinity: never). */
  synRetries: number;
  /** A connection gives up after this many retransmissions of unacknowledged data, or unanswered zero-window probes (Linux tcp_retries2: 15; Infinity: never). */
  retries2: number;
  /**
   * An orphan (closed by its application: it sent its FIN and reads nothing after) gives up on
   * unacknowledged data after this many retransmission timeouts' worth of time (Linux
   * tcp_orphan_retries: 0, which means 8; Infinity: never).
   */
  orphanRetries: number;
  /** 1: a RST must hit rcv_nxt exactly (RFC 5961, Linux); 0: anywhere in the window (RFC 793). */
  exactReset: number;
}

export const DEFAULT_FLOW_OPTIONS: FlowTableOptions = {
  timeWaitUs: 60_000_000,
  idleTimeoutUs: 7_200_000_000,
  handshakeTimeoutUs: 180_000_000,
  lingerUs: 5_000_000,
  synCookieUs: 1_500_000,
  finTimeoutUs: 60_000_000,
  synRetries: 6,
  retries2: 15,
  orphanRetries: 0,
  exactReset: 1,
};

const SWEEP_EVERY_US = 1_000_000;

/** Stack profiles (`--stack`): the timers and acceptance rules their hosts run by. */
export const STACK_PROFILES: Record<'linux' | 'rfc793', Partial<FlowTableOptions>> = {
  linux: {},
  // RFC 793: TIME_WAIT for 2 MSL (MSL 2 minutes), no FIN_WAIT_2 or give-up timers, no cookies,
  // and any RST within the window is taken.
  rfc793: { timeWaitUs: 240_000_000, finTimeoutUs: Infinity, synRetries: Infinity, retries2: Infinity, orphanRetries: Infinity, synCookieUs: Infinity, exactReset: 0 },
};

/** Linux's ceiling on a retransmission timeout (TCP_RTO_MAX). */
const RTO_MAX_US = 120_000_000;
/** Linux's floor on a retransmission timeout (TCP_RTO_MIN), the base of tcp_model_timeout. */
const RTO_MIN_US = 200_000;
/** Linux's first SYN timeout (TCP_TIMEOUT_INIT): with tcp_syn_retries 0, the only one. */
const RTO_INIT_US = 1_000_000;
/**
 * Flows due at one sweep are taken in creation order: id * ROW_SPAN + slot, sorted as numbers;
 * PARKED + slot for a flow set aside; at the end, lone SYNs as id * ROW_SPAN + row, apart.
 */
const ROW_SPAN = 2 ** 25;
const PARKED = 2 ** 24;

/**
 * Lone SYNs in the order they came, a ring of (row, flow id): all wait as long, so their waits end
 * in that order while packet time runs forward (one whose SYN is stamped earlier than the last
 * one's waits in the timer heap instead). 8 bytes a SYN where a heap entry takes 17, and a push
 * or a pop moves nothing. An entry whose row no longer holds that lone SYN is stale.
 */
class LoneWaits {
  row = new Int32Array(1024);
  id = new Uint32Array(1024);
  head = 0;
  length = 0;
  /** The SYN time of the last entry pushed. */
  lastTs = -Infinity;

  push(row: number, id: number, ts: number): void {
    const cap = this.row.length;
    if (this.length === cap) {
      // Twice the room, the entries unwrapped to the front in order.
      const rows = new Int32Array(2 * cap);
      const ids = new Uint32Array(2 * cap);
      for (let k = 0; k < cap; k++) {
        rows[k] = this.row[(this.head + k) & (cap - 1)];
        ids[k] = this.id[(this.head + k) & (cap - 1)];
      }
      this.row = rows;
      this.id = ids;
      this.head = 0;
    }
    const at = (this.head + this.length++) & (this.row.length - 1);
    this.row[at] = row;
    this.id[at] = id;
    this.lastTs = ts;
  }

  shift(): void {
    this.head = (this.head + 1) & (this.row.length - 1);
    this.length--;
  }
}

export class FlowTable {
  readonly store: FlowStore;
  /** The one view through which ended flows are handed out (valid during the callback). */
  readonly view: FlowView;
  /**
   * Flows set aside beside their row's new flow (see park), by slot, with their view; free
   * slots in a stack.
   */
  private readonly parked: FlowStore;
  private readonly parkedView: FlowView;
  private parkedFree = new Int32Array(16);
  private parkedFreeTop = 0;
  private parkedTop = 0;
  /** Flow deadlines on packet time, named by slot and flow id (`f.due` holds the one that counts), and lone SYNs' waits by row. */
  private readonly timers = new TimerHeap();
  /** Each row's flow slot in `store`. */
  private readonly slots: Slots<Record<string, never>>;
  /** Lone SYNs, by row. */
  private readonly lone: ColumnSet<typeof LONE_COLUMNS>;
  /** SYNs held as challenged (synChallenged), one at most per flow: rare, so a small pool, not columns of every flow. */
  private readonly challenges = new Pool(
    {
      frame: Float64Array,
      ts: Float64Array,
      seq: Uint32Array,
      len: Uint32Array,
      ipBytes: Uint32Array,
      window: Uint16Array,
      windowScale: Int8Array,
      flags: Uint16Array,
      side: Uint8Array,
      toTimeWait: Uint8Array,
      /** The same SYN sent again while held: how many times, and the latest's frame and time. */
      copies: Uint32Array,
      lastFrame: Float64Array,
      lastTs: Float64Array,
    },
    16,
  );
  /** How long a lone SYN's flow can wait unmade: no sweep could change it sooner. */
  private readonly loneWait: number;
  private readonly loneWaits = new LoneWaits();
  /** Lone SYNs whose wait is over at a sweep (`loneDueCount` of them), or every one at the end, as id * ROW_SPAN + row. */
  private loneDue = new Float64Array(256);
  private loneDueCount = 0;
  private nextId = 1;
  private nextSweep = -1;
  /** The capture has ended (`finish`): no deadline is queued any more, nothing would sweep it. */
  private finished = false;
  /** Flows due at a sweep (or live at the end), as id * ROW_SPAN + slot. */
  private due = new Float64Array(256);
  private readonly seg: Segment = { frame: 0, ts: 0, flags: 0, seq: 0, ack: 0, len: 0, window: 0, windowScale: -1, sackRight: -1 };
  private readonly rules: StackRules;
  /** Linux's time budget for SYN_SENT under opts.synRetries (see synBudgetUs). */
  private readonly synBudget: number;
  /** Flows ended `evicted` (the memory budget). */
  evicted = 0;
  /** The last packet given to `packet` started a flow (or a lone SYN's): Zeek's connection holding it is linked next (linkZeek). */
  started = false;
  /** zeekTexts' indexes by text. */
  private readonly zeekTextIds = new Map<string, number>();
  /** Flows ever created, live now, and the most alive at once. */
  created = 0;
  live = 0;
  peakLive = 0;

  constructor(
    private readonly conn: ConnTable,
    private readonly onEnd: (flow: FlowView) => void,
    private readonly opts: FlowTableOptions = DEFAULT_FLOW_OPTIONS,
    /** A connection's first packet: its row, the end of the pair that is its client, the packet's time. */
    private readonly onStart?: (row: number, clientEnd: number, ts: number) => void,
  ) {
    this.rules = { exactReset: opts.exactReset !== 0, synCookieUs: opts.synCookieUs };
    this.synBudget = opts.synRetries === Infinity ? Infinity : synBudgetUs(opts.synRetries);
    this.store = new FlowStore(conn, causeTexts(opts.timeWaitUs, opts.finTimeoutUs));
    this.slots = new Slots(conn, {});
    this.lone = conn.columns(LONE_COLUMNS);
    // A lone SYN's flow is in SYN_SENT with one SYN sent: only its handshake timeout, and with
    // tcp_syn_retries 0 its give-up one RTO later, could move it (see deadline and timerDue).
    this.loneWait = Math.min(opts.handshakeTimeoutUs, this.synBudget <= RTO_INIT_US ? RTO_INIT_US : Infinity);
    this.view = new FlowView(this.store);
    this.parked = new FlowStore(conn, this.store.causes, this.store);
    this.parkedView = new FlowView(this.parked);
  }

  /**
   * The earliest first-packet or SYN time of the live flows whose client may still end in SYN_SENT
   * (in it now, or having sent nothing yet: a SYN-ACK could put it there), lone SYNs included;
   * Infinity when there is none. Reads the columns (a scan of the live flows), changes nothing.
   * Flows set aside are left out: their ends are TIME_WAIT and gone.
   */
  oldestSynSent(): number {
    let min = Infinity;
    const c = this.store.f.c;
    const x = this.store.e.c;
    for (let i = 0, slots = this.store.f.capacity; i < slots; i++) {
      if (c.live[i] === 0 || (x.state[2 * i] !== St.SYN_SENT && x.hasSent[2 * i] !== 0)) continue;
      if (c.firstTs[i] < min) min = c.firstTs[i];
      if (x.synTs[2 * i] !== 0 && x.synTs[2 * i] < min) min = x.synTs[2 * i];
    }
    const lone = this.lone.c;
    for (let row = 0, rows = this.conn.capacity; row < rows; row++) if (lone.id[row] !== 0 && lone.ts[row] < min) min = lone.ts[row];
    return min;
  }

  /**
   * The earliest time a live flow (flows set aside included) entered TIME_WAIT, by its log, on
   * either side (Infinity: none). A flow whose log has none can enter it only at a packet from now
   * on. Reads the columns, changes nothing.
   */
  oldestTimeWait(): number {
    let min = Infinity;
    for (const [st, slots] of [
      [this.store, this.store.f.capacity],
      [this.parked, this.parkedTop],
    ] as const) {
      const live = st.f.c.live;
      const state = st.e.c.state;
      const ts = st.log.c.ts;
      for (let i = 0; i < slots; i++) {
        if (live[i] === 0) continue;
        for (let side = 0; side < 2; side++) {
          // TIME_WAIT is left only for CLOSED (one taken back leaves no entry).
          const s = state[2 * i + side];
          if (s !== St.TIME_WAIT && s !== St.CLOSED) continue;
          const k = st.findTransition(i, side, -1, St.TIME_WAIT);
          if (k >= 0 && ts[k] < min) min = ts[k];
        }
      }
    }
    return min;
  }

  /**
   * The endpoints of the live flows by state (St number), into `counts` (analyze --follow's census;
   * reads the columns, changes nothing; flows set aside beside a new one are left out).
   */
  census(counts: Int32Array): void {
    counts.fill(0);
    const live = this.store.f.c.live;
    const state = this.store.e.c.state;
    for (let i = 0, slots = this.store.f.capacity; i < slots; i++) {
      if (live[i] === 0) continue;
      counts[state[2 * i]]++;
      counts[state[2 * i + 1]]++;
    }
    // A lone SYN's flow, not made yet, is its client in SYN_SENT and its server CLOSED (as `whole` makes it).
    const lone = this.lone.c.id;
    for (let row = 0, rows = this.conn.capacity; row < rows; row++) {
      if (lone[row] === 0) continue;
      counts[St.SYN_SENT]++;
      counts[St.CLOSED]++;
    }
  }

  /** Packet time moves on: sweeps run once per SWEEP_EVERY_US of it (before the packet's lookup). */
  tick(ts: number): void {
    if (this.nextSweep < 0) this.nextSweep = ts + SWEEP_EVERY_US;
    else if (ts >= this.nextSweep) {
      this.sweep(ts);
      this.nextSweep = ts + SWEEP_EVERY_US;
    }
  }

  /**
   * One decoded TCP packet (p must hold a TCP header) on connection row `row`, `dir` as the
   * table's lookup set it. Returns the sender's side: 0 the flow's client, 1 its server.
   */
  packet(row: number, dir: number, frame: number, ts: number, p: DecodedPacket): number {
    const f = p.flags;
    this.started = false;
    if (this.lone.c.id[row] !== 0) this.whole(row);
    let i = this.slots.slotOf(row);
    if (i < 0) {
      // A new connection: while it is one SYN, its flow waits unmade.
      if ((f & (SYN | ACK | RST | FIN)) === SYN && p.sackCount === 0 && !(p.srcPort === p.dstPort && sameAddress(p))) {
        this.loneSyn(row, dir, frame, ts, p);
        this.started = true;
        return 0;
      }
      i = this.bind(row);
    }
    const st = this.store;
    const c = st.f.c;
    if (c.parked[i] !== 0) this.answered(i, dir, f, ts);
    let live = c.live[i] !== 0;
    // A SYN of a new ISN into a connection synchronized at both ends is held aside (synChallenged);
    // the host that challenged it may answer it after all (a SYN-ACK or RST of its ISN + 1): its old
    // connection was gone unseen, and the SYN started a new one there (answeredChallenge).
    // So is one a TIME_WAIT socket only answers with an ACK (timeWaitAcks), unless it answers it after all.
    const challenged = live && (f & (SYN | ACK)) === SYN && this.synChallenged(i, dir, p.seq);
    if (challenged || (live && (f & (SYN | ACK)) === SYN && this.timeWaitAcks(i, dir, p.seq, p.hasTimestamp))) {
      this.holdSyn(i, dir, frame, ts, p, !challenged);
      return c.sameEnds[i] !== 0 || dir === c.clientEnd[i] ? 0 : 1;
    }
    if (live && c.challenge[i] !== 0 && f & ACK) this.answeredChallenge(i, row, dir, f, p.seq, p.ack);
    else if (live && c.challenge[i] !== 0 && (f & (RST | SYN)) === RST && this.resetFromHeld(i, row, dir, frame, ts, p)) return c.sameEnds[i] !== 0 || dir === c.clientEnd[i] ? 0 : 1;
    // A SYN a server in SYN_RECEIVED only acknowledges and drops changes neither endpoint (its counts apart).
    const dropped = live && (f & (SYN | ACK)) === SYN && this.synRecvDrops(i, dir, p.seq);
    // The client's SYN again after an ICMP error ended its connect: the error never reached it.
    if (live && c.icmpTo[i] === 1 && (f & (SYN | ACK)) === SYN && c.sameEnds[i] === 0 && dir === c.clientEnd[i] && p.seq === this.store.e.c.isn[2 * i]) this.icmpNotTaken(i);
    if (live && !dropped && f & SYN && !(f & ACK) && this.isNewConnection(i, dir, p.seq)) {
      if (!this.park(i, dir, ts)) this.end(i, End.REUSE, ts, true);
      live = false;
    }
    if (!live) {
      this.create(i, row, dir, frame, ts, p);
      this.started = true;
    }
    return this.deliver(i, dir, frame, ts, f, p.seq, p.ack, p.payloadLen, p.ipEnd - p.ipOff, p.window, p.windowScale, highestSackEdge(p), dropped);
  }

  /**
   * An ICMP error (decode/icmp.ts: `icmp` its kind, `bits` ICMP_ABORTS_REQUEST) quoting a segment
   * with sequence number `seq` sent by end `dir` of connection row `row` reaches that end, which may
   * take it as a failed handshake (machine.ts icmpError). `fromPeer`: it came from the other end's
   * address (not from a router on the way).
   */
  icmp(row: number, dir: number, frame: number, ts: number, icmp: number, bits: number, seq: number, fromPeer: boolean): void {
    if (this.lone.c.id[row] !== 0) this.whole(row);
    const i = this.slots.slotOf(row);
    if (i < 0) return;
    const c = this.store.f.c;
    if (c.live[i] === 0) return;
    const side = c.sameEnds[i] !== 0 || dir === c.clientEnd[i] ? 0 : 1;
    this.expireTimers(i, ts);
    if (icmpError(this.store, 2 * i + side, frame, ts, icmp, seq, (bits & ICMP_ABORTS_REQUEST) !== 0)) {
      if (c.icmpTo[i] === 0) {
        c.icmpTo[i] = 1 + side;
        c.icmpFrame[i] = frame;
        c.icmpTs[i] = ts;
        c.icmpKind[i] = icmp;
        c.icmpFromPeer[i] = fromPeer ? 1 : 0;
      }
      if (c.icmpTo[i] === 1 + side && c.icmpCount[i] < 65535) c.icmpCount[i]++;
    }
    this.schedule(i);
  }

  /**
   * After a packet that started a flow (`started`): Zeek's connection on the row once Zeek has
   * seen that packet, by its serial (0: none), is the one that may hold the flow's first packet.
   */
  linkZeek(row: number, serial: number): void {
    if (this.lone.c.id[row] !== 0) {
      this.lone.c.zeekSerial[row] = serial;
      return;
    }
    const i = this.slots.slotOf(row);
    if (i >= 0) this.store.f.c.zeekSerial[i] = serial;
  }

  /**
   * Zeek logged its connection `serial` on the row (its originator end `origEnd` of the pair: `link`
   * gets both ends' addresses), frames `first` to `last`, as row `link.seq` of its conn.log: a flow of the row linked to it whose first packet it holds takes its
   * conn_state and history now, so that the database need not look them up (a flow that ended
   * before is looked up there, as before). The live flow that starts at frame `first`, if any, is
   * the one the database stores Zeek's row against: `link` gets it as it stands, and the flow
   * notes the row (a packet after makes the row's differences stale: FlowView.zeekRowStale).
   */
  zeekLogged(row: number, serial: number, origEnd: number, first: number, last: number, connState: string, history: string, link: ZeekLink): void {
    link.origAddr = this.addressCode(row, origEnd);
    link.respAddr = this.addressCode(row, 1 - origEnd);
    link.flow = 0;
    link.final = false;
    const L = this.lone.c;
    if (L.id[row] !== 0) {
      if (L.zeekSerial[row] === serial && L.frame[row] >= first && L.frame[row] <= last) {
        L.zeekState[row] = this.zeekText(connState);
        L.zeekHistory[row] = this.zeekText(history);
      }
      if (L.frame[row] === first) {
        this.linkLone(row, link);
        link.final = this.conn.inputOver;
      }
    }
    const i = this.slots.slotOf(row);
    if (i < 0) return;
    const c = this.store.f.c;
    if (c.live[i] !== 0 && c.zeekSerial[i] === serial && c.firstPacket[i] >= first && c.firstPacket[i] <= last) {
      c.zeekState[i] = this.zeekText(connState);
      c.zeekHistory[i] = this.zeekText(history);
    }
    if (c.live[i] !== 0 && c.firstPacket[i] === first) this.linkFlow(this.store, i, link);
    const p = c.parked[i] - 1;
    const q = this.parked.f.c;
    if (p >= 0 && q.live[p] !== 0 && q.zeekSerial[p] === serial && q.firstPacket[p] >= first && q.firstPacket[p] <= last) {
      q.zeekState[p] = this.zeekText(connState);
      q.zeekHistory[p] = this.zeekText(history);
    }
    if (p >= 0 && q.live[p] !== 0 && q.firstPacket[p] === first) this.linkFlow(this.parked, p, link);
  }

  /** Zeek's row `link.seq` is stored against the flow in slot i of `st`, as it stands. */
  private linkFlow(st: FlowStore, i: number, link: ZeekLink): void {
    const c = st.f.c;
    const x = st.e.c;
    c.zeekRow[i] = link.seq;
    c.zeekSnap[i] = c.lastPacket[i];
    const row = c.keyRow[i];
    const client = c.clientEnd[i];
    this.linkEnds(row, client, c.sameEnds[i] !== 0 ? client : 1 - client, link);
    link.flow = c.id[i];
    link.final = false;
    link.firstTs = c.firstTs[i];
    link.lastTs = c.lastTs[i];
    link.firstPacket = c.firstPacket[i];
    link.lastPacket = c.lastPacket[i];
    link.clientPackets = x.packets[2 * i];
    link.clientBytes = x.payloadBytes[2 * i];
    link.clientIpBytes = x.ipBytes[2 * i];
    link.serverPackets = x.packets[2 * i + 1];
    link.serverBytes = x.payloadBytes[2 * i + 1];
    link.serverIpBytes = x.ipBytes[2 * i + 1];
  }

  /** Zeek's row `link.seq` is stored against the row's lone SYN: its flow as the SYN makes it (see whole). */
  private linkLone(row: number, link: ZeekLink): void {
    const L = this.lone.c;
    L.zeekRow[row] = link.seq;
    const client = L.dir[row];
    this.linkEnds(row, client, 1 - client, link);
    link.flow = L.id[row];
    link.firstTs = L.ts[row];
    link.lastTs = L.ts[row];
    link.firstPacket = L.frame[row];
    link.lastPacket = L.frame[row];
    link.clientPackets = 1;
    link.clientBytes = L.len[row];
    link.clientIpBytes = L.ipBytes[row];
    link.serverPackets = 0;
    link.serverBytes = 0;
    link.serverIpBytes = 0;
  }

  private linkEnds(row: number, client: number, server: number, link: ZeekLink): void {
    link.clientAddr = this.addressCode(row, client);
    link.clientPort = this.conn.port(row, client);
    link.serverAddr = this.addressCode(row, server);
    link.serverPort = this.conn.port(row, server);
  }

  /** End `end` of the row's pair as the database codes an address: IPv4 as its 32 bits (signed), another as text. */
  private addressCode(row: number, end: number): number | string {
    const t = this.conn;
    return t.family(row) === 4 ? t.addressV4(row, end) | 0 : t.address(row, end);
  }

  /** A text's index + 1 in the stores' zeekTexts. */
  private zeekText(text: string): number {
    let k = this.zeekTextIds.get(text);
    if (k === undefined) {
      k = this.store.zeekTexts.push(text);
      this.zeekTextIds.set(text, k);
    }
    return k;
  }

  /** The store slot of the row's flow (a lone SYN's flow made first), or -1 when the row has none. */
  slotFor(row: number): number {
    if (this.lone.c.id[row] !== 0) this.whole(row);
    return this.slots.slotOf(row);
  }

  /** One segment into the flow in slot i: its counts, timers, then the state machine. Returns the sender's side. */
  private deliver(
    i: number,
    dir: number,
    frame: number,
    ts: number,
    flags: number,
    seq: number,
    ack: number,
    len: number,
    ipBytes: number,
    window: number,
    windowScale: number,
    sackRight: number,
    /** The receiver drops it unseen (synRecvDrops): counted, but no endpoint's state moves. */
    dropped = false,
  ): number {
    const st = this.store;
    const c = st.f.c;
    const s = 2 * i + (c.sameEnds[i] !== 0 || dir === c.clientEnd[i] ? 0 : 1);
    const x = st.e.c;
    x.packets[s]++;
    x.payloadBytes[s] += len;
    x.ipBytes[s] += ipBytes;
    c.lastTs[i] = ts;
    c.lastPacket[i] = frame;

    const seg = this.seg;
    seg.frame = frame;
    seg.ts = ts;
    seg.flags = flags;
    seg.seq = seq;
    seg.ack = ack;
    seg.len = len;
    seg.window = window;
    seg.windowScale = windowScale;
    seg.sackRight = sackRight;
    this.expireTimers(i, ts);
    if (!dropped) segment(st, s, s ^ 1, seg, this.rules);
    this.schedule(i);
    return s & 1;
  }

  /** The ICMP error that ended the client's connect in slot i never reached it (icmpNeverArrived). */
  private icmpNotTaken(i: number): void {
    icmpNeverArrived(this.store, 2 * i, this.store.f.c.icmpKind[i]);
  }

  /** A slot for the row's flows (its own when it has one). */
  private bind(row: number): number {
    const fresh = this.slots.slotOf(row) < 0;
    const i = this.slots.bind(row);
    if (fresh) {
      this.store.f.ensure(i + 1);
      this.store.fit();
      this.store.f.c.parked[i] = 0;
      this.store.f.c.live[i] = 0;
    }
    return i;
  }

  /** The row's flows are over: its slot goes back, and the row is let go. */
  private unbind(row: number): void {
    this.slots.unbind(row);
    this.conn.release(row, FLOW_HOLDER);
  }

  /** A connection's first packet is a SYN: its flow takes an id now and waits unmade (see `whole`). */
  private loneSyn(row: number, dir: number, frame: number, ts: number, p: DecodedPacket): void {
    const L = this.lone.c;
    const id = this.nextId++;
    L.id[row] = id;
    L.ts[row] = ts;
    L.frame[row] = frame;
    L.seq[row] = p.seq;
    L.len[row] = p.payloadLen;
    L.ipBytes[row] = p.ipEnd - p.ipOff;
    L.window[row] = p.window;
    L.flags[row] = p.flags;
    L.windowScale[row] = p.windowScale;
    L.dir[row] = dir;
    L.zeekSerial[row] = 0;
    L.zeekState[row] = 0;
    L.zeekHistory[row] = 0;
    L.zeekRow[row] = 0;
    this.conn.hold(row, FLOW_HOLDER);
    if (this.loneWait === Infinity) {
      // nothing to wait for: made whole when its next packet comes or at the end
    } else if (ts >= this.loneWaits.lastTs) this.loneWaits.push(row, id, ts);
    else this.timers.push(ts + this.loneWait, row, id, LONE_TAG);
    this.created++;
    if (++this.live > this.peakLive) this.peakLive = this.live;
    this.onStart?.(row, dir, ts);
  }

  /** Make a lone SYN's flow, as its SYN would have made it; returns its slot. */
  private whole(row: number): number {
    const L = this.lone.c;
    const id = L.id[row];
    L.id[row] = 0;
    const i = this.bind(row);
    const dir = L.dir[row];
    const ts = L.ts[row];
    const frame = L.frame[row];
    this.start(i, row, id, dir, 0, this.conn.addressV4(row, dir), 0, frame, ts, false);
    const c = this.store.f.c;
    c.zeekSerial[i] = L.zeekSerial[row];
    c.zeekState[i] = L.zeekState[row];
    c.zeekHistory[i] = L.zeekHistory[row];
    c.zeekRow[i] = L.zeekRow[row];
    c.zeekSnap[i] = frame;
    L.zeekSerial[row] = 0;
    L.zeekState[row] = 0;
    L.zeekHistory[row] = 0;
    L.zeekRow[row] = 0;
    // Its acknowledgement number is read by nothing: the SYN has no ACK flag.
    this.deliver(i, dir, frame, ts, L.flags[row], L.seq[row], 0, L.len[row], L.ipBytes[row], L.window[row], L.windowScale[row], -1);
    return i;
  }

  /** End every flow at the end of the capture, in creation order, with the states the hosts would show then. */
  finish(endTs: number): void {
    this.finished = true;
    const n = this.collect(-1);
    // Lone SYNs are made whole one at a time, as their turn comes (the keys of both lists are unique).
    const m = this.collectLone();
    for (let i = 0, j = 0; i < n || j < m; ) {
      if (j === m || (i < n && this.due[i] < this.loneDue[j])) {
        const at = this.due[i++] % ROW_SPAN;
        if (at < PARKED) this.finishFlow(at, endTs);
        else this.endParked(at - PARKED, endTs, endTs);
      } else this.finishFlow(this.whole(this.loneDue[j++] % ROW_SPAN), endTs);
    }
  }

  /** The rows with a lone SYN, in creation order, into `loneDue` as id * ROW_SPAN + row; returns how many. */
  private collectLone(): number {
    const id = this.lone.c.id;
    let m = 0;
    for (let row = 0; row < this.conn.capacity; row++) if (id[row] !== 0) m++;
    // Made to measure: a flood's million lone SYNs at the end would otherwise double it up to there.
    if (m > this.loneDue.length) this.loneDue = new Float64Array(m);
    m = 0;
    for (let row = 0; row < this.conn.capacity; row++) if (id[row] !== 0) m = this.addLone(m, id[row], row);
    this.loneDue.subarray(0, m).sort();
    return m;
  }

  private addLone(m: number, id: number, row: number): number {
    if (m === this.loneDue.length) {
      const grown = new Float64Array(2 * m);
      grown.set(this.loneDue);
      this.loneDue = grown;
    }
    this.loneDue[m] = id * ROW_SPAN + row;
    return m + 1;
  }

  /**
   * A new connection's SYN reached a tuple whose receiver is in TIME_WAIT (its sender has no
   * socket left): the TIME_WAIT socket may take it (ending itself) or not (it answers with an
   * ACK, or the SYN is lost after the capture point), which only its answer shows. The old
   * flow is set aside in a slot, in TIME_WAIT, while the new one starts on the row; the SYN's
   * answer (a SYN-ACK or RST from that host: `answered`), the TIME_WAIT timer or the end of the
   * capture ends it. False when it does not apply (the old flow then ends here, for reuse).
   */
  private park(i: number, dir: number, ts: number): boolean {
    const c = this.store.f.c;
    const x = this.store.e.c;
    if (c.parked[i] !== 0) return false;
    const fromClient = c.sameEnds[i] !== 0 || dir === c.clientEnd[i];
    const sender = 2 * i + (fromClient ? 0 : 1);
    if (x.state[sender ^ 1] !== St.TIME_WAIT || !goneState(x.state[sender])) return false;
    if (c.challenge[i] !== 0) this.settleChallenge(i);
    const slot = this.parkedFreeTop > 0 ? this.parkedFree[--this.parkedFreeTop] : this.parkedTop++;
    this.parked.f.ensure(slot + 1);
    const keyRow = c.keyRow[i];
    this.store.moveTo(this.parked, slot, i);
    const p = this.parked.f.c;
    p.keyRow[slot] = keyRow;
    p.parked[slot] = 0;
    p.parkedSynTs[slot] = ts;
    c.parked[i] = slot + 1;
    c.live[i] = 0;
    this.live--;
    // Its TIME_WAIT runs out by itself if nothing answers.
    p.due[slot] = this.parked.e.c.since[2 * slot + ((sender ^ 1) & 1)] + this.opts.timeWaitUs;
    this.timers.push(p.due[slot], slot, 0, PARKED_TAG);
    return true;
  }

  /**
   * A packet on a row with a flow set aside: a SYN again from the new connection's side moves the
   * SYN the TIME_WAIT host may answer; a SYN-ACK or RST from that host answers it (the TIME_WAIT
   * socket took the SYN and is gone: Linux tcp_timewait_state_process), and the old flow ends.
   */
  private answered(i: number, dir: number, flags: number, ts: number): void {
    const slot = this.store.f.c.parked[i] - 1;
    const p = this.parked.f.c;
    const tw = this.parked.e.c.state[2 * slot] === St.TIME_WAIT ? 0 : 1;
    const twEnd = p.sameEnds[slot] !== 0 || tw === 0 ? p.clientEnd[slot] : 1 - p.clientEnd[slot];
    const fromTw = p.sameEnds[slot] !== 0 || dir === twEnd;
    if (!fromTw && flags & SYN && !(flags & ACK)) p.parkedSynTs[slot] = ts;
    else if (fromTw && (flags & RST || (flags & SYN && flags & ACK))) this.endParked(slot, p.parkedSynTs[slot], -1);
  }

  /**
   * End a flow set aside: at `endTs` after its TIME_WAIT was ended by the new connection's SYN
   * at that time, or at the sweep or capture end `now` (>= 0) by its timer or as it stands
   * (`unfinished`: the reason when its endpoints are not both gone).
   */
  private endParked(slot: number, endTs: number, now: number, unfinished: number = End.END_OF_CAPTURE): void {
    const st = this.parked;
    const p = st.f.c;
    const e = st.e.c.state[2 * slot] === St.TIME_WAIT || st.e.c.state[2 * slot + 1] !== St.TIME_WAIT ? 2 * slot : 2 * slot + 1;
    let reason: number;
    if (now < 0) {
      enter(st, e, St.CLOSED, 0, endTs, Cause.TIME_WAIT_REUSED);
      reason = End.REUSE;
    } else {
      if (st.e.c.state[e] === St.TIME_WAIT && now - st.e.c.since[e] >= this.opts.timeWaitUs) enter(st, e, St.CLOSED, 0, st.e.c.since[e] + this.opts.timeWaitUs, Cause.TIME_WAIT_EXPIRED);
      reason = goneState(st.e.c.state[2 * slot]) && goneState(st.e.c.state[2 * slot + 1]) ? (p.reset[slot] ? End.RESET : End.CLOSED) : unfinished;
    }
    p.endReason[slot] = reason;
    if (reason === End.EVICTED) this.evicted++;
    p.endTs[slot] = now < 0 ? endTs : now;
    p.due[slot] = -1;
    p.live[slot] = 0;
    const row = p.keyRow[slot];
    this.onEnd(this.parkedView.at(slot));
    st.close(slot);
    if (this.parkedFreeTop === this.parkedFree.length) {
      const grown = new Int32Array(2 * this.parkedFree.length);
      grown.set(this.parkedFree);
      this.parkedFree = grown;
    }
    this.parkedFree[this.parkedFreeTop++] = slot;
    const i = this.slots.slotOf(row);
    this.store.f.c.parked[i] = 0;
    if (this.store.f.c.live[i] === 0) this.unbind(row);
  }

  /** End one flow now as the end of the capture does (`unfinished`: the reason when its endpoints are not both gone). */
  private finishFlow(i: number, endTs: number, unfinished: number = End.END_OF_CAPTURE): void {
    const x = this.store.e.c;
    settle(this.store, i);
    this.expireTimers(i, endTs);
    this.expireSynCookies(i, endTs);
    this.end(i, goneState(x.state[2 * i]) && goneState(x.state[2 * i + 1]) ? (this.store.f.c.reset[i] ? End.RESET : End.CLOSED) : unfinished, endTs);
  }

  /**
   * Stop following the row's connection at packet time `now` to make room (the memory budget):
   * its flow (a lone SYN's made first) and a flow set aside beside it end as the end of the
   * capture would end them, `evicted` where their endpoints are not both gone, and the row is
   * let go. A later packet of the pair starts a new flow, picked up mid-connection.
   */
  evict(row: number, now: number): void {
    const i = this.lone.c.id[row] !== 0 ? this.whole(row) : this.slots.slotOf(row);
    if (i < 0) return;
    const c = this.store.f.c;
    const parked = c.parked[i] - 1;
    if (c.live[i] !== 0) this.finishFlow(i, now, End.EVICTED);
    if (parked >= 0) this.endParked(parked, now, now, End.EVICTED);
  }

  /** End one flow in its handshake as a sweep at `now` does when it has been idle too long. */
  private timeOut(i: number, now: number): void {
    settle(this.store, i);
    this.expireSynCookies(i, now);
    this.end(i, End.TIMEOUT, now);
  }

  /**
   * The client's SYN with another ISN than its first, outside the window of a server still in
   * SYN_RECEIVED: Linux answers it with an ACK and drops it (tcp_check_req: a segment out of the
   * request's window), and the handshake goes on; the wire shows the ACK. (A SYN in the window
   * resets the request instead: a new connection, as isNewConnection says.)
   */
  private synRecvDrops(i: number, dir: number, seq: number): boolean {
    const c = this.store.f.c;
    const x = this.store.e.c;
    const cl = 2 * i;
    const srv = cl + 1;
    if (c.sameEnds[i] !== 0 || dir !== c.clientEnd[i] || x.state[srv] !== St.SYN_RECEIVED || !x.passive[srv] || x.synAcks[srv] === 0 || x.isn[cl] < 0) return false;
    if (seq === x.isn[cl] || goneState(x.state[cl]) || x.state[cl] === St.TIME_WAIT) return false;
    const d = seqDiff(seq, seqAdd(x.isn[cl], 1));
    return d < 0 || d >= Math.max(1, x.window[srv]);
  }

  /**
   * A SYN (no ACK) from end `dir` with another ISN than its connection's, both ends synchronized:
   * the receiver answers it with a challenge ACK and keeps its connection (RFC 5961 4.2, Linux
   * tcp_validate_incoming), and whether its sender still has the old one (a forged or stray SYN)
   * or not (a host that lost its socket, a NAT's port given to another) only what follows shows.
   * The SYN is held aside (holdSyn).
   */
  private synChallenged(i: number, dir: number, seq: number): boolean {
    const c = this.store.f.c;
    const x = this.store.e.c;
    if (c.sameEnds[i] !== 0) return false;
    const s = 2 * i + (dir === c.clientEnd[i] ? 0 : 1);
    // Its sender synchronized (a SYN in its name: forged, or a socket it lost unseen) or gone (a
    // FIN_WAIT_2 timed out): the receiver's socket answers the same way.
    return x.isn[s] >= 0 && seq !== x.isn[s] && (synchronized(x.state[s]) || goneState(x.state[s])) && synchronized(x.state[s ^ 1]);
  }

  /**
   * Hold a SYN its receiver answers with an ACK and nothing more (synChallenged, timeWaitAcks): it
   * changes nothing (the latest is held, when it comes again); `answeredChallenge` starts its
   * connection with it when the receiver answers it after all, else the flow's end counts it as one
   * of its sender's packets.
   */
  private holdSyn(i: number, dir: number, frame: number, ts: number, p: DecodedPacket, toTimeWait: boolean): void {
    const c = this.store.f.c;
    const side = c.sameEnds[i] !== 0 || dir === c.clientEnd[i] ? 0 : 1;
    const R = this.challenges.c;
    if (c.challenge[i] !== 0) {
      const held = c.challenge[i] - 1;
      if (R.seq[held] === p.seq && R.side[held] === side) {
        // The same SYN again (its retransmission): the first is kept; the latest is noted too.
        R.copies[held]++;
        R.lastFrame[held] = frame;
        R.lastTs[held] = ts;
        return;
      }
      this.settleChallenge(i);
    }
    const k = this.challenges.take();
    R.frame[k] = frame;
    R.ts[k] = ts;
    R.seq[k] = p.seq;
    R.len[k] = p.payloadLen;
    R.ipBytes[k] = p.ipEnd - p.ipOff;
    R.window[k] = p.window;
    R.windowScale[k] = p.windowScale;
    R.flags[k] = p.flags;
    R.side[k] = side;
    R.toTimeWait[k] = toTimeWait ? 1 : 0;
    R.copies[k] = 0;
    c.challenge[i] = k + 1;
  }

  /**
   * A segment of the connection the held SYN of flow i opened: from the other end acknowledging it
   * (its ISN + 1), or from its sender at ISN + 1. The old connection ends for reuse at the SYN, and a
   * new flow starts with the SYN, as the SYN would have started it (the segment is then delivered to it).
   */
  private answeredChallenge(i: number, row: number, dir: number, flags: number, seq: number, ack: number): void {
    const c = this.store.f.c;
    const k = c.challenge[i] - 1;
    const R = this.challenges.c;
    const synDir = this.heldDir(i, k);
    const next = seqAdd(R.seq[k], 1);
    // From the receiver, anything acknowledging the SYN (a SYN-ACK, a RST/ACK, an ACK after a SYN-ACK
    // the capture lost); from its sender, a segment of the new connection (its ACK of such a SYN-ACK).
    if (dir !== synDir ? ack !== next : flags & (SYN | RST) || seq !== next) return;
    c.challenge[i] = 0;
    this.end(i, End.REUSE, R.ts[k], true);
    this.startHeld(i, row, k);
  }

  /**
   * A RST without ACK from the end that sent the held (challenged) SYN, at the sequence number its
   * old connection's peer expects: the RFC 793 answer of a socket in SYN_SENT to an ACK that does not
   * acknowledge its SYN (the challenge ACK). The SYN's sender is that new socket, its old one gone:
   * the RST resets the old connection (delivered to it, which then ends) and the new flow starts with
   * the held SYN. Returns false when the RST is not that one.
   */
  private resetFromHeld(i: number, row: number, dir: number, frame: number, ts: number, p: DecodedPacket): boolean {
    const c = this.store.f.c;
    const k = c.challenge[i] - 1;
    const side = this.challenges.c.side[k];
    const synDir = this.heldDir(i, k);
    const x = this.store.e.c;
    // To a TIME_WAIT the same RST comes from a host with no socket at all: it shows nothing of the SYN.
    const r = 2 * i + (1 - side);
    // Its sequence number is the challenge ACK's acknowledgment: what the old connection's peer expects.
    if (this.challenges.c.toTimeWait[k] !== 0 || dir !== synDir || p.flags & ACK || (p.seq !== x.sndNxt[2 * i + side] && !(x.hasAcked[r] && p.seq === x.ackedUpTo[r]))) return false;
    c.challenge[i] = 0;
    this.deliver(i, dir, frame, ts, p.flags, p.seq, p.ack, p.payloadLen, p.ipEnd - p.ipOff, p.window, p.windowScale, -1);
    this.end(i, c.reset[i] ? End.RESET : End.CLOSED, ts, true);
    this.startHeld(i, row, k);
    return true;
  }

  /** Flow i's old connection has ended: its held SYN (record k) starts a new flow in slot i, as that SYN would have started it. */
  private startHeld(i: number, row: number, k: number): void {
    const c = this.store.f.c;
    const R = this.challenges.c;
    const synDir = this.heldDir(i, k);
    const ts = R.ts[k];
    const frame = R.frame[k];
    this.start(i, row, this.nextId++, synDir, 0, this.conn.addressV4(row, synDir), 0, frame, ts, false);
    this.created++;
    if (++this.live > this.peakLive) this.peakLive = this.live;
    this.onStart?.(row, synDir, ts);
    this.started = true;
    this.deliver(i, synDir, frame, ts, R.flags[k], R.seq[k], 0, R.len[k], R.ipBytes[k], R.window[k], R.windowScale[k], -1);
    const n = R.copies[k];
    if (n > 0) {
      // Those between the first and the latest count as packets only.
      this.countHeld(i, k, n - 1);
      this.deliver(i, synDir, R.lastFrame[k], R.lastTs[k], R.flags[k], R.seq[k], 0, R.len[k], R.ipBytes[k], R.window[k], R.windowScale[k], -1);
    }
    this.challenges.release(k);
  }

  /** Flow i ends (or moves aside) with a SYN held as challenged: it counts among its sender's packets, changing nothing. */
  private settleChallenge(i: number): void {
    const c = this.store.f.c;
    const k = c.challenge[i] - 1;
    this.countHeld(i, k, 1 + this.challenges.c.copies[k]);
    c.challenge[i] = 0;
    this.challenges.release(k);
  }

  /** `n` copies of flow i's held SYN (record k) counted among its sender's packets and bytes. */
  private countHeld(i: number, k: number, n: number): void {
    const R = this.challenges.c;
    const x = this.store.e.c;
    const e = 2 * i + R.side[k];
    x.packets[e] += n;
    x.payloadBytes[e] += R.len[k] * n;
    x.ipBytes[e] += R.ipBytes[k] * n;
  }

  /** The pair's end (lookup's `dir`) that sent flow i's held SYN (record k). */
  private heldDir(i: number, k: number): number {
    const c = this.store.f.c;
    return this.challenges.c.side[k] === 0 ? c.clientEnd[i] : 1 - c.clientEnd[i];
  }

  /**
   * A SYN (no ACK) from end `dir`, which has no socket left, to its peer in TIME_WAIT, that the
   * TIME_WAIT socket only answers with an ACK and keeps: Linux's tcp_timewait_state_process takes a
   * SYN as a new connection only when its sequence number is after the socket's rcv_nxt or its
   * timestamp newer than the last one (a SYN with timestamps is taken as newer: a Linux client's
   * clock for a four-tuple runs on). Its sender's RST to that ACK may then end the TIME_WAIT; a
   * SYN-ACK to it (another stack's rules) shows a new connection after all (holdSyn).
   */
  private timeWaitAcks(i: number, dir: number, seq: number, hasTimestamp: boolean): boolean {
    const c = this.store.f.c;
    const x = this.store.e.c;
    if (c.sameEnds[i] !== 0 || hasTimestamp) return false;
    const s = 2 * i + (dir === c.clientEnd[i] ? 0 : 1);
    if (x.state[s ^ 1] !== St.TIME_WAIT || !goneState(x.state[s]) || !x.hasSent[s]) return false;
    return seqDiff(seq, x.sndNxt[s]) <= 0;
  }

  /** A SYN that starts a new connection on a tuple we already track (port reuse). */
  private isNewConnection(i: number, dir: number, seq: number): boolean {
    const c = this.store.f.c;
    const x = this.store.e.c;
    const client = x.state[2 * i];
    if (c.sameEnds[i] === 0 && dir !== c.clientEnd[i]) return goneState(client) || client === St.TIME_WAIT;
    // The client's own SYN again: a retransmission keeps its ISN, a new connect() picks another.
    return x.isn[2 * i] !== seq || goneState(client) || client === St.TIME_WAIT;
  }

  /** A flow in slot i of `row` starts with the packet p. */
  private create(i: number, row: number, dir: number, frame: number, ts: number, p: DecodedPacket): void {
    const f = p.flags;
    let srcIsClient: boolean;
    let rolesBy: number;
    if (f & SYN) {
      srcIsClient = !(f & ACK);
      rolesBy = srcIsClient ? 0 : 1; // syn, syn_ack
    } else if (p.srcPort !== p.dstPort) {
      srcIsClient = p.srcPort > p.dstPort;
      rolesBy = 2; // port
    } else {
      srcIsClient = true;
      rolesBy = 3; // first_packet
    }
    const sameEnds = p.srcPort === p.dstPort && sameAddress(p) ? 1 : 0;
    const clientV4 = p.ipVersion === 4 ? u32(p.buf, srcIsClient ? p.srcOff : p.dstOff) : 0;
    this.start(i, row, this.nextId++, srcIsClient ? dir : 1 - dir, sameEnds, clientV4, rolesBy, frame, ts, !(f & SYN));
    this.created++;
    if (++this.live > this.peakLive) this.peakLive = this.live;
    this.onStart?.(row, srcIsClient ? dir : 1 - dir, ts);
  }

  /** Flow `id` starts in slot i of `row`, its client on end `clientEnd` of the pair. */
  private start(i: number, row: number, id: number, clientEnd: number, sameEnds: number, clientV4: number, rolesBy: number, frame: number, ts: number, midstream: boolean): void {
    const st = this.store;
    st.open(i, id, row);
    const c = st.f.c;
    c.clientEnd[i] = clientEnd;
    c.sameEnds[i] = sameEnds;
    c.clientV4[i] = clientV4;
    c.rolesBy[i] = rolesBy;
    c.firstTs[i] = ts;
    c.firstPacket[i] = frame;
    this.conn.hold(row, FLOW_HOLDER);
    if (midstream) {
      // Picked up mid-connection: both ends were already talking.
      c.midstream[i] = 1;
      enter(st, 2 * i, St.ESTABLISHED, frame, ts, Cause.MIDSTREAM, true);
      enter(st, 2 * i + 1, St.ESTABLISHED, frame, ts, Cause.MIDSTREAM, true);
    }
  }

  /**
   * The flows whose deadline has come by `now` (every live flow for now < 0, lone SYNs apart), in
   * creation order, into `this.due` as id * ROW_SPAN + slot; returns how many. Taken flows are no
   * longer queued. The lone SYNs whose wait is over go, in creation order, into `loneDue` as
   * id * ROW_SPAN + row (`loneDueCount`): the sweep makes each whole in its turn.
   */
  private collect(now: number): number {
    const c = this.store.f.c;
    const p = this.parked.f.c;
    if (this.conn.capacity > PARKED || this.parkedTop > PARKED) throw new RangeError(`${this.conn.capacity} rows: beyond the sweep's order key`);
    let n = 0;
    this.loneDueCount = 0;
    if (now < 0) {
      for (let i = 0; i < this.store.f.capacity; i++) if (c.live[i] !== 0) n = this.add(n, c.id[i], i);
      for (let slot = 0; slot < this.parkedTop; slot++) if (p.live[slot] !== 0) n = this.add(n, p.id[slot], PARKED + slot);
    } else {
      const q = this.timers;
      while (q.size > 0 && q.peek() <= now) {
        const due = q.peek();
        const at = q.topRow();
        const id = q.topGen();
        const tag = q.topTag();
        q.pop();
        // Stale entries: the flow ended or was made whole since, or its deadline moved (another entry counts).
        if (tag === PARKED_TAG) {
          if (p.live[at] === 0 || p.due[at] !== due) continue;
          p.due[at] = -1;
          n = this.add(n, p.id[at], PARKED + at);
          continue;
        }
        if (tag === LONE_TAG) {
          if (this.lone.c.id[at] === id) this.loneDueCount = this.addLone(this.loneDueCount, id, at);
          continue;
        }
        if (c.id[at] !== id || c.live[at] === 0 || c.due[at] !== due) continue;
        c.due[at] = -1;
        n = this.add(n, c.id[at], at);
      }
      const w = this.loneWaits;
      const L = this.lone.c;
      while (w.length > 0) {
        const row = w.row[w.head];
        const id = w.id[w.head];
        if (L.id[row] === id) {
          if (L.ts[row] + this.loneWait > now) break;
          this.loneDueCount = this.addLone(this.loneDueCount, id, row);
        }
        w.shift();
      }
    }
    this.due.subarray(0, n).sort();
    this.loneDue.subarray(0, this.loneDueCount).sort();
    return n;
  }

  private add(n: number, id: number, at: number): number {
    if (id >= 2 ** 53 / ROW_SPAN) throw new RangeError(`flow ${id}: beyond the sweep's order key`);
    if (n === this.due.length) {
      const grown = new Float64Array(2 * n);
      grown.set(this.due);
      this.due = grown;
    }
    this.due[n] = id * ROW_SPAN + at;
    return n + 1;
  }

  /**
   * What a sweep does to each flow whose deadline has come, in creation order: TIME_WAIT runs
   * out, a closed flow that lingered long enough ends, an idle one times out. Those that stay
   * are queued again for their next deadline. A lone SYN whose wait is over is made whole in its
   * turn (so a flood's SYNs timing out together take one slot after another, not a slot each).
   */
  private sweep(now: number): void {
    const o = this.opts;
    const c = this.store.f.c;
    const n = this.collect(now);
    const m = this.loneDueCount;
    for (let k = 0, j = 0; k < n || j < m; ) {
      let at: number;
      if (j === m || (k < n && this.due[k] < this.loneDue[j])) at = this.due[k++] % ROW_SPAN;
      else {
        const row = this.loneDue[j++] % ROW_SPAN;
        if (this.lone.c.id[row] === 0) continue; // made whole since (then queued as a flow)
        at = this.whole(row);
        // Its flow, made now, queued its own deadline: taken now when it has come, as one collected.
        if (c.due[at] > now) continue;
        c.due[at] = -1;
      }
      if (at >= PARKED) {
        // A flow set aside whose TIME_WAIT has run out.
        this.endParked(at - PARKED, now, now);
        continue;
      }
      const i = at;
      this.expireTimers(i, now);
      const idle = now - c.lastTs[i];
      if (c.goneAt[i] >= 0 && now - c.goneAt[i] > o.lingerUs) {
        this.end(i, c.reset[i] ? End.RESET : End.CLOSED, now);
      } else if (idle > (this.inHandshake(i) ? o.handshakeTimeoutUs : o.idleTimeoutUs)) {
        this.timeOut(i, now);
      } else this.schedule(i);
    }
  }

  /**
   * The earliest packet time at which a sweep could change the flow: its TIME_WAIT runs out,
   * its linger after both sides closed ends, or it has been idle too long (the sweep's own
   * tests decide; this is never later than they would).
   */
  private deadline(i: number): number {
    const o = this.opts;
    const c = this.store.f.c;
    let d = c.lastTs[i] + (this.inHandshake(i) ? o.handshakeTimeoutUs : o.idleTimeoutUs);
    if (c.goneAt[i] >= 0) d = Math.min(d, c.goneAt[i] + o.lingerUs);
    return Math.min(d, this.timerDue(2 * i), this.timerDue(2 * i + 1));
  }

  /**
   * Queue the flow for its deadline. A later deadline than the one queued (a packet came) leaves
   * the earlier one: the sweep then finds nothing due and queues it again, once.
   */
  private schedule(i: number): void {
    if (this.finished) return;
    const c = this.store.f.c;
    const d = this.deadline(i);
    if (c.due[i] >= 0 && c.due[i] <= d) return;
    c.due[i] = d;
    this.timers.push(d, i, c.id[i], SWEEP_TAG);
  }

  private expireTimers(i: number, now: number): void {
    this.expireTimersOf(2 * i, now);
    this.expireTimersOf(2 * i + 1, now);
  }

  /**
   * The timers a host runs without sending anything: TIME_WAIT's end, an orphaned FIN_WAIT_2's
   * tcp_fin_timeout, SYN_SENT giving up (tcp_syn_retries) and a connection giving up on
   * unacknowledged data (tcp_retries2). A give-up is taken at the time the next retransmission
   * was due once the count is reached; for SYNs also once the capture has gone on well past that
   * time without it (the retransmissions seen show the host's count). A timer not yet due when
   * the capture ends has not run.
   */
  private expireTimersOf(e: number, now: number): void {
    const o = this.opts;
    const st = this.store;
    const x = st.e.c;
    const state = x.state[e];
    if (state === St.TIME_WAIT) {
      if (now - x.since[e] >= o.timeWaitUs) enter(st, e, St.CLOSED, 0, x.since[e] + o.timeWaitUs, Cause.TIME_WAIT_EXPIRED);
    } else if (state === St.FIN_WAIT_2) {
      if (!x.readsAfterClose[e] && now - x.since[e] >= o.finTimeoutUs) enter(st, e, St.CLOSED, 0, x.since[e] + o.finTimeoutUs, Cause.FIN_WAIT_2_TIMED_OUT, true);
    } else if (state === St.SYN_SENT) {
      const due = this.synGiveUp(e);
      if (due >= 0 && now >= this.synGiveUpEvidence(e, due)) enter(st, e, St.CLOSED, 0, due, Cause.SYN_GAVE_UP, true);
    } else if (!goneState(state)) {
      const due = this.dataGiveUp(e);
      const orphan = this.orphanGiveUp(e);
      const probe = this.probeGiveUp(e);
      if (probe >= 0 && (due < 0 || probe < due) && (orphan < 0 || probe < orphan)) {
        if (now >= probe) enter(st, e, St.CLOSED, 0, probe, Cause.PROBE_GAVE_UP, true);
      } else if (orphan >= 0 && (due < 0 || orphan < due)) {
        if (now >= orphan) enter(st, e, St.CLOSED, 0, orphan, Cause.ORPHAN_GAVE_UP, true);
      } else if (due >= 0 && now >= due) enter(st, e, St.CLOSED, 0, due, Cause.DATA_GAVE_UP, true);
      else {
        const silent = this.silentGiveUp(e);
        if (silent >= 0 && (due < 0 || silent < due) && now >= this.silentEvidence(e, silent)) enter(st, e, St.CLOSED, 0, silent, Cause.SILENT_GAVE_UP, true);
      }
    }
  }

  /** The earliest packet time at which one of e's timers could run (Infinity: none). */
  private timerDue(e: number): number {
    const o = this.opts;
    const x = this.store.e.c;
    const state = x.state[e];
    if (state === St.TIME_WAIT) return x.since[e] + o.timeWaitUs;
    if (state === St.FIN_WAIT_2) return x.readsAfterClose[e] ? Infinity : x.since[e] + o.finTimeoutUs;
    if (state === St.SYN_SENT) {
      const due = this.synGiveUp(e);
      return due < 0 ? Infinity : this.synGiveUpEvidence(e, due);
    }
    if (goneState(state)) return Infinity;
    const due = this.dataGiveUp(e);
    const orphan = this.orphanGiveUp(e);
    const probe = this.probeGiveUp(e);
    const silent = this.silentGiveUp(e);
    return Math.min(due < 0 ? Infinity : due, orphan < 0 ? Infinity : orphan, probe < 0 ? Infinity : probe, silent < 0 ? Infinity : this.silentEvidence(e, silent));
  }

  /**
   * When an end retransmitting unacknowledged data with backoff would have sent its next
   * retransmission (its last one's time plus twice the last wait, at most RTO_MAX), when it had sent
   * nothing since its last one; -1 when that does not apply (fewer than two retransmissions: no
   * backoff to read). If none came by `silentEvidence`, it gave up there, before tcp_retries2 would
   * have (TCP_USER_TIMEOUT, or the host's tcp_retries2 smaller than ours): its socket is gone.
   */
  private silentGiveUp(e: number): number {
    const x = this.store.e.c;
    // A profile with no give-up timers (rfc793) infers none.
    if (this.opts.retries2 === Infinity || x.retransmissionsUnacked[e] < 2 || x.unackedSince[e] < 0 || x.retransmitGapUs[e] <= 0 || x.lastSendTs[e] > x.lastRetransmissionTs[e]) return -1;
    return x.lastRetransmissionTs[e] + Math.min(2 * x.retransmitGapUs[e], RTO_MAX_US);
  }
  private silentEvidence(e: number, due: number): number {
    return due + Math.max(Math.min(2 * this.store.e.c.retransmitGapUs[e], RTO_MAX_US), RTO_INIT_US);
  }

  /**
   * A server that sent one SYN-ACK and never retransmitted it, though its
   * retransmission timer (1 s on Linux) ran out long ago, kept no state: the
   * SYN-ACK carried a SYN cookie, and `ss` shows no SYN-RECV socket for it.
   */
  private expireSynCookies(i: number, now: number): void {
    const x = this.store.e.c;
    const srv = 2 * i + 1;
    if (x.state[srv] === St.SYN_RECEIVED && x.synAcks[srv] === 1 && now - x.lastSynAckTs[srv] >= this.opts.synCookieUs) {
      enter(this.store, srv, St.LISTEN, 0, x.lastSynAckTs[srv], Cause.SYN_COOKIE, true);
    }
  }

  /** The one way a flow ends: handed to onEnd, then its row let go (kept for the next flow on a reuse). */
  private end(i: number, reason: number, now: number, reuse = false): void {
    const st = this.store;
    if (st.f.c.challenge[i] !== 0) this.settleChallenge(i);
    if (reuse) {
      // A new connection replaces the old one on this tuple: TIME_WAIT is cut short.
      for (let e = 2 * i; e < 2 * i + 2; e++) {
        if (st.e.c.state[e] === St.TIME_WAIT) enter(st, e, St.CLOSED, 0, now, Cause.TIME_WAIT_REUSED);
      }
    }
    const c = st.f.c;
    c.endReason[i] = reason;
    if (reason === End.EVICTED) this.evicted++;
    c.endTs[i] = now;
    c.due[i] = -1;
    c.live[i] = 0;
    const row = c.keyRow[i];
    this.onEnd(this.view.at(i));
    st.close(i);
    this.live--;
    // The row keeps its slot for the new flow of a reuse, and while a flow set aside from it waits.
    if (!reuse && c.parked[i] === 0) this.unbind(row);
  }

  private inHandshake(i: number): boolean {
    const x = this.store.e.c;
    const client = x.state[2 * i];
    return client === St.SYN_SENT || client === St.SYN_RECEIVED || x.state[2 * i + 1] === St.SYN_RECEIVED;
  }

  /**
   * When SYN_SENT gave up, or -1: no pattern to go by. Linux gives up at the first retransmission
   * timer at or after the budget of tcp_syn_retries doubling timeouts, (2^(n+1) - 1) x 1 s from its
   * first SYN (127 s for 6), whatever the timeouts were (newer kernels start them linear); the next
   * timer is taken at twice the last gap.
   */
  private synGiveUp(e: number): number {
    if (this.synBudget === Infinity) return -1;
    const x = this.store.e.c;
    // A backoff to read once a SYN was sent again on its timer (synGapUs: the last wait).
    const next = x.synGapUs[e] > 0 ? x.lastSynTs[e] + Math.min(2 * x.synGapUs[e], RTO_MAX_US) : x.lastSynTs[e] + RTO_INIT_US;
    if (next - x.synTs[e] >= this.synBudget || x.synGapUs[e] > 0) return next;
    return -1;
  }

  /**
   * When SYN_SENT's give-up at `due` is proven: at once when its budget is spent by then;
   * otherwise once the capture went on well past `due` with no SYN (its retransmissions stopped).
   */
  private synGiveUpEvidence(e: number, due: number): number {
    const x = this.store.e.c;
    if (due - x.synTs[e] >= this.synBudget) return due;
    return due + Math.max(Math.min(4 * x.synGapUs[e], RTO_MAX_US), RTO_INIT_US);
  }

  /**
   * When the retransmission of e's unacknowledged data that would exceed its limit was due, or -1
   * (not that many yet: data can be acknowledged unseen, so a shorter pattern proves nothing).
   */
  private dataGiveUp(e: number): number {
    const x = this.store.e.c;
    const retries = this.opts.retries2;
    if (retries === Infinity || x.retransmissionsUnacked[e] < retries || x.unackedSince[e] < 0 || x.retransmitGapUs[e] <= 0) return -1;
    return x.lastRetransmissionTs[e] + Math.min(2 * x.retransmitGapUs[e], RTO_MAX_US);
  }

  /**
   * When e gave up probing its peer's zero window, or -1. The wire shows the probes (see
   * zeroWindowProbe in machine.ts): max of them since the peer's last ACK, and the peer's window
   * still 0. Linux's tcp_probe_timer gives up, without a packet (ETIMEDOUT), at the persist timer
   * after icsk_probes_out reached tcp_retries2 (an orphan: tcp_orphan_retries, 0 meaning 8). The
   * timer backs off as the probes show (twice the last gap, at most TCP_RTO_MAX), but
   * tcp_send_probe0 stops doubling once icsk_backoff (the probes since the window closed) reaches
   * tcp_retries2: past that, the wait is the last gap again.
   */
  private probeGiveUp(e: number): number {
    const x = this.store.e.c;
    const state = x.state[e];
    const orphan = this.opts.orphanRetries !== Infinity && x.finSent[e] && !x.readsAfterClose[e] && (state === St.FIN_WAIT_1 || state === St.CLOSING || state === St.LAST_ACK);
    const max = orphan ? this.opts.orphanRetries || 8 : this.opts.retries2;
    if (max === Infinity || x.probesUnanswered[e] < max || x.probeGapUs[e] <= 0 || x.window[e ^ 1] !== 0) return -1;
    const last = x.probesSinceZeroWindow[e] > this.opts.retries2 ? x.probeGapUs[e] : 2 * x.probeGapUs[e];
    return x.lastProbeTs[e] + Math.min(last, RTO_MAX_US);
  }

  /**
   * When an orphan gave up on its unacknowledged data, or -1. The wire shows the orphan: it sent
   * its FIN (FIN_WAIT_1, CLOSING, LAST_ACK) and never acknowledged new data after it (a half-close
   * that reads on is not one). Linux (tcp_write_timeout) gives a dead socket tcp_orphan_retries
   * instead of tcp_retries2 (0 means 8 while its RTO is below TCP_RTO_MAX), as a time: at each
   * retransmission timeout it gives up, without a packet, once the time since its first
   * retransmission (retrans_stamp) reaches tcp_model_timeout, else it retransmits. So the give-up
   * is the first timer after the retransmissions seen (twice the last gap) that is past that
   * budget; a timer within it would have retransmitted, which the capture shows or not (then
   * nothing is concluded). Only data retransmissions are counted (a FIN alone is not yet).
   */
  private orphanGiveUp(e: number): number {
    const n = this.opts.orphanRetries;
    const x = this.store.e.c;
    const state = x.state[e];
    if (n === Infinity || !x.finSent[e] || x.readsAfterClose[e] || (state !== St.FIN_WAIT_1 && state !== St.CLOSING && state !== St.LAST_ACK)) return -1;
    if (x.retransmissionsUnacked[e] === 0 || x.unackedSince[e] < 0 || x.retransmitGapUs[e] <= 0) return -1;
    const next = x.lastRetransmissionTs[e] + Math.min(2 * x.retransmitGapUs[e], RTO_MAX_US);
    return next - x.firstRetransmissionTs[e] >= retransmitBudgetUs(n === 0 ? 8 : n) ? next : -1;
  }
}

/** ESTABLISHED to LAST_ACK: both sequence spaces known, a SYN is out of place (TIME_WAIT apart: reuse). */
function synchronized(state: number): boolean {
  return state >= St.ESTABLISHED && state <= St.LAST_ACK;
}

/**
 * Linux's tcp_model_timeout(boundary, TCP_RTO_MIN): how long after the first retransmission
 * `boundary` retransmission timeouts take when they double from TCP_RTO_MIN up to TCP_RTO_MAX.
 */
function retransmitBudgetUs(boundary: number): number {
  let total = 0;
  for (let i = 0, rto = RTO_MIN_US; i <= boundary && total < 1e13; i++, rto = Math.min(2 * rto, RTO_MAX_US)) total += rto;
  return total;
}

/** Linux's time budget for tcp_syn_retries n: (2^(n+1) - 1) initial timeouts, each at most TCP_RTO_MAX. */
function synBudgetUs(n: number): number {
  let total = 0;
  for (let i = 0, rto = RTO_INIT_US; i <= n && total < 1e13; i++, rto = Math.min(2 * rto, RTO_MAX_US)) total += rto;
  return total;
}

/** The highest right edge of the packet's SACK blocks, or -1. */
function highestSackEdge(p: DecodedPacket): number {
  if (p.sackCount === 0) return -1;
  let hi = p.sack[1];
  for (let i = 1; i < p.sackCount; i++) if (seqGt(p.sack[2 * i + 1], hi)) hi = p.sack[2 * i + 1];
  return hi;
}

/** The packet's source and destination addresses are one. */
function sameAddress(p: DecodedPacket): boolean {
  return sameAddressAt(p, p.srcOff, p.dstOff);
}
