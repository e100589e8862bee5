/**
 * The flow table: TCP connections keyed by their two endpoints, swept by packet
 * time. Every flow ends through `end(flow, reason)` and is handed to `onEnd`, so
 * memory follows the live connections, not the size of the capture.
 */
import { type DecodedPacket, TcpFlag, u32 } from '../decode/packet.js';
import { enter, segment, settle, type Segment, type StackRules } from '../state/machine.js';
import { TcpState, isGone } from '../state/tcp-state.js';
import { formatAddress } from './address.js';
import { seqGt } from './seq.js';
import { Endpoint, Flow, type EndReason } from './flow.js';
import { FrozenStore } from '../util/number.js';

const { SYN, ACK } = TcpFlag;

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
  /** A connection gives up after this many retransmissions of unacknowledged data (Linux tcp_retries2: 15; Infinity: never). */
  retries2: number;
  /** 1: a RST must hit rcv_nxt exactly (RFC 5961, Linux); 0: anywhere in the window (RFC 793). */
  exactReset: number;
  /**
   * A flow with no packet for this long is frozen (Flow.freeze) until its next use: most live
   * flows wait out TIME_WAIT or a timeout. Memory only, never a result (Infinity: never).
   */
  freezeAfterUs: number;
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
  exactReset: 1,
  freezeAfterUs: 5_000_000,
};

const SWEEP_EVERY_US = 1_000_000;

/** Stack profiles (`--stack`): the timers and acceptance rules their hosts run by. */
export const STACK_PROFILES: Record<'linux' | 'rfc793', Partial<FlowTableOptions>> = {
  linux: {},
  // RFC 793: TIME_WAIT for 2 MSL (MSL 2 minutes), no FIN_WAIT_2 or give-up timers, no cookies,
  // and any RST within the window is taken.
  rfc793: { timeWaitUs: 240_000_000, finTimeoutUs: Infinity, synRetries: Infinity, retries2: Infinity, synCookieUs: Infinity, exactReset: 0 },
};

/** Linux's ceiling on a retransmission timeout (TCP_RTO_MAX). */
const RTO_MAX_US = 120_000_000;
/** Linux's first SYN timeout (TCP_TIMEOUT_INIT): with tcp_syn_retries 0, the only one. */
const RTO_INIT_US = 1_000_000;

export class FlowTable {
  private readonly flows = new FlowIndex();
  /** Live flows by the time a sweep should next look at them: a sweep visits those due, not all. */
  private readonly deadlines = new DeadlineQueue();
  private nextOrder = 0;
  private nextId = 1;
  private nextSweep = -1;
  private readonly seg: Segment = { frame: 0, ts: 0, flags: 0, seq: 0, ack: 0, len: 0, window: 0, windowScale: -1, sackRight: -1 };
  private readonly rules: StackRules;
  /** Linux's time budget for SYN_SENT under opts.synRetries (see synBudgetUs). */
  private readonly synBudget: number;
  /** Flows ever created, and the most alive at once. */
  created = 0;
  /** Times a flow was frozen while idle, and where (on the bench mix 99% of records are 79-92 numbers). */
  frozen = 0;
  private readonly frozenStore = new FrozenStore(92);
  peakLive = 0;
  /** Whether the last packet given to `packet` came from the flow's client. */
  lastFromClient = false;

  constructor(
    private readonly onEnd: (flow: Flow) => void,
    private readonly opts: FlowTableOptions = DEFAULT_FLOW_OPTIONS,
  ) {
    this.rules = { exactReset: opts.exactReset !== 0, synCookieUs: opts.synCookieUs };
    this.synBudget = opts.synRetries === Infinity ? Infinity : synBudgetUs(opts.synRetries);
  }

  get live(): number {
    return this.flows.size;
  }

  /** Packet time moves on: sweeps run once per SWEEP_EVERY_US of it. */
  tick(ts: number): void {
    if (this.nextSweep < 0) this.nextSweep = ts + SWEEP_EVERY_US;
    else if (ts >= this.nextSweep) {
      this.sweep(ts);
      this.nextSweep = ts + SWEEP_EVERY_US;
    }
  }

  /** The live flow the packet belongs to, if any. */
  find(p: DecodedPacket): Flow | undefined {
    return this.flows.get(p);
  }

  /** One decoded TCP packet (p must hold a TCP header). */
  packet(frame: number, ts: number, p: DecodedPacket): Flow {
    this.tick(ts);
    return this.process(frame, ts, p);
  }

  /** End one flow now as the end of the capture does (see finish). */
  finishFlow(flow: Flow, endTs: number): void {
    settle(flow);
    this.expireTimers(flow, endTs);
    this.expireSynCookies(flow, endTs);
    this.end(flow, isGone(flow.client.state) && isGone(flow.server.state) ? (flow.reset ? 'reset' : 'closed') : 'end_of_capture', endTs);
  }

  /** End one flow in its handshake as a sweep at `now` does when it has been idle too long. */
  timeOut(flow: Flow, now: number): void {
    settle(flow);
    this.expireSynCookies(flow, now);
    this.end(flow, 'timeout', now);
  }

  private process(frame: number, ts: number, p: DecodedPacket): Flow {
    let flow = this.flows.get(p);
    const f = p.flags;
    if (flow !== undefined && f & SYN && !(f & ACK) && this.isNewConnection(flow, p)) {
      this.end(flow, 'reuse', ts);
      flow = undefined;
    }
    if (flow === undefined) flow = this.create(frame, ts, p);

    const fromClient = isFromClient(flow, p);
    this.lastFromClient = fromClient;
    const s = fromClient ? flow.client : flow.server;
    const r = fromClient ? flow.server : flow.client;
    s.packets++;
    s.payloadBytes += p.payloadLen;
    s.ipBytes += p.ipEnd - p.ipOff;
    flow.lastTs = ts;
    flow.lastPacket = frame;

    const seg = this.seg;
    seg.frame = frame;
    seg.ts = ts;
    seg.flags = f;
    seg.seq = p.seq;
    seg.ack = p.ack;
    seg.len = p.payloadLen;
    seg.window = p.window;
    seg.windowScale = p.windowScale;
    seg.sackRight = highestSackEdge(p);
    this.expireTimers(flow, ts);
    segment(flow, s, r, seg, this.rules);
    this.schedule(flow);
    return flow;
  }

  /** End every flow at the end of the capture, with the states the hosts would show then. */
  finish(endTs: number): void {
    for (const flow of this.flows.values()) this.finishFlow(flow, endTs);
  }

  /** A SYN that starts a new connection on a tuple we already track (port reuse). */
  private isNewConnection(flow: Flow, p: DecodedPacket): boolean {
    const fromClient = isFromClient(flow, p);
    if (!fromClient) return isGone(flow.client.state) || flow.client.state === TcpState.TIME_WAIT;
    // The client's own SYN again: a retransmission keeps its ISN, a new connect() picks another.
    return flow.client.isn !== p.seq || isGone(flow.client.state) || flow.client.state === TcpState.TIME_WAIT;
  }

  /** Counts the live connections towards the peak. */
  notePeak(): void {
    const live = this.flows.size;
    if (live > this.peakLive) this.peakLive = live;
  }

  private create(frame: number, ts: number, p: DecodedPacket): Flow {
    const version = p.ipVersion as 4 | 6;
    const src = formatAddress(p.buf, p.srcOff, version);
    const dst = formatAddress(p.buf, p.dstOff, version);
    const f = p.flags;
    let srcIsClient: boolean;
    let rolesBy: Flow['rolesBy'];
    if (f & SYN) {
      srcIsClient = !(f & ACK);
      rolesBy = srcIsClient ? 'syn' : 'syn_ack';
    } else if (p.srcPort !== p.dstPort) {
      srcIsClient = p.srcPort > p.dstPort;
      rolesBy = 'port';
    } else {
      srcIsClient = true;
      rolesBy = 'first_packet';
    }
    const client = srcIsClient ? new Endpoint('client', src, p.srcPort) : new Endpoint('client', dst, p.dstPort);
    const server = srcIsClient ? new Endpoint('server', dst, p.dstPort) : new Endpoint('server', src, p.srcPort);
    const flow = new Flow(this.nextId++, version, client, server);
    flow.tableOrder = this.nextOrder++;
    const clientOff = srcIsClient ? p.srcOff : p.dstOff;
    if (version === 4) flow.clientAddrV4 = u32(p.buf, clientOff);
    // A copy: p.buf is often a Node Buffer, whose slice() is a view of the reader's reused chunk.
    else flow.clientAddrV6 = new Uint8Array(p.buf.subarray(clientOff, clientOff + 16));
    flow.rolesBy = rolesBy;
    flow.firstTs = ts;
    flow.firstPacket = frame;
    if (!(f & SYN)) {
      // Picked up mid-connection: both ends were already talking.
      flow.midstream = true;
      const at = { frame, ts };
      enter(flow, client, TcpState.ESTABLISHED, at, 'capture starts mid-connection', true);
      enter(flow, server, TcpState.ESTABLISHED, at, 'capture starts mid-connection', true);
    }
    this.flows.add(p, flow);
    this.created++;
    this.notePeak();
    return flow;
  }

  /**
   * What a sweep does to each live flow, in creation order: TIME_WAIT runs out, a closed flow
   * that lingered long enough ends, an idle one times out or is frozen. Only the flows whose deadline (see
   * `deadline`) has come are looked at; those that stay are queued again for their next one.
   */
  private sweep(now: number): void {
    const o = this.opts;
    const q = this.deadlines;
    const due: Flow[] = [];
    while (q.size > 0 && q.peekKey() <= now) due.push(q.pop());
    due.sort((a, b) => a.tableOrder - b.tableOrder);
    for (const flow of due) {
      this.expireTimers(flow, now);
      const idle = now - flow.lastTs;
      if (flow.goneAt >= 0 && now - flow.goneAt > o.lingerUs) {
        this.end(flow, flow.reset ? 'reset' : 'closed', now);
      } else if (idle > (inHandshake(flow) ? o.handshakeTimeoutUs : o.idleTimeoutUs)) {
        this.timeOut(flow, now);
      } else {
        // Idle long enough: frozen until its next use, queued for what can still happen to it
        // (not once both sides are gone: it ends within the linger, thawed to be written).
        const freeze = now - flow.lastTs >= o.freezeAfterUs && flow.goneAt < 0;
        this.schedule(flow, freeze);
        if (freeze) {
          flow.freeze(this.frozenStore);
          this.frozen++;
        }
      }
    }
  }

  /**
   * The earliest packet time at which a sweep could change the flow: its TIME_WAIT runs out,
   * its linger after both sides closed ends, it has been idle too long, or long enough to be
   * frozen (unless it is being frozen or gone; the sweep's own tests decide; this is never
   * later than they would).
   */
  private deadline(flow: Flow, freezing: boolean): number {
    const o = this.opts;
    let d = flow.lastTs + (inHandshake(flow) ? o.handshakeTimeoutUs : o.idleTimeoutUs);
    if (!freezing && flow.goneAt < 0) d = Math.min(d, flow.lastTs + o.freezeAfterUs);
    if (flow.goneAt >= 0) d = Math.min(d, flow.goneAt + o.lingerUs);
    return Math.min(d, this.timerDue(flow.client), this.timerDue(flow.server));
  }

  /**
   * Queue the flow for its deadline. A later deadline than the one queued (a packet came) leaves
   * the earlier one: the sweep then finds nothing due and queues it again, once.
   */
  private schedule(flow: Flow, freezing = false): void {
    const d = this.deadline(flow, freezing);
    if (flow.deadlineIndex < 0) this.deadlines.push(flow, d);
    else this.deadlines.lower(flow, d);
  }

  private expireTimers(flow: Flow, now: number): void {
    this.expireTimersOf(flow, flow.client, now);
    this.expireTimersOf(flow, flow.server, now);
  }

  /**
   * The timers a host runs without sending anything: TIME_WAIT's end, an orphaned FIN_WAIT_2's
   * tcp_fin_timeout, SYN_SENT giving up (tcp_syn_retries) and a connection giving up on
   * unacknowledged data (tcp_retries2). A give-up is taken at the time the next retransmission
   * was due once the count is reached; for SYNs also once the capture has gone on well past that
   * time without it (the retransmissions seen show the host's count). A timer not yet due when
   * the capture ends has not run.
   */
  private expireTimersOf(flow: Flow, e: Endpoint, now: number): void {
    const o = this.opts;
    if (e.state === TcpState.TIME_WAIT) {
      if (now - e.since >= o.timeWaitUs) enter(flow, e, TcpState.CLOSED, { frame: null, ts: e.since + o.timeWaitUs }, `TIME_WAIT expired (${o.timeWaitUs / 1e6} s)`);
    } else if (e.state === TcpState.FIN_WAIT_2) {
      if (!e.readsAfterClose && now - e.since >= o.finTimeoutUs) {
        enter(flow, e, TcpState.CLOSED, { frame: null, ts: e.since + o.finTimeoutUs }, `FIN_WAIT_2 timed out (tcp_fin_timeout ${o.finTimeoutUs / 1e6} s)`, true);
      }
    } else if (e.state === TcpState.SYN_SENT) {
      const due = synGiveUp(e, this.synBudget);
      if (due >= 0 && now >= synGiveUpEvidence(e, due, this.synBudget)) {
        enter(flow, e, TcpState.CLOSED, { frame: null, ts: due }, 'gave up connecting: no answer to its SYN retransmissions (tcp_syn_retries)', true);
      }
    } else if (!isGone(e.state)) {
      const due = dataGiveUp(e, o.retries2);
      if (due >= 0 && now >= due) {
        enter(flow, e, TcpState.CLOSED, { frame: null, ts: due }, 'gave up retransmitting: its data was never acknowledged (tcp_retries2)', true);
      }
    }
  }

  /** The earliest packet time at which one of e's timers could run (Infinity: none). */
  private timerDue(e: Endpoint): number {
    const o = this.opts;
    if (e.state === TcpState.TIME_WAIT) return e.since + o.timeWaitUs;
    if (e.state === TcpState.FIN_WAIT_2) return e.readsAfterClose ? Infinity : e.since + o.finTimeoutUs;
    if (e.state === TcpState.SYN_SENT) {
      const due = synGiveUp(e, this.synBudget);
      return due < 0 ? Infinity : synGiveUpEvidence(e, due, this.synBudget);
    }
    if (isGone(e.state)) return Infinity;
    const due = dataGiveUp(e, o.retries2);
    return due < 0 ? Infinity : due;
  }

  /**
   * A server that sent one SYN-ACK and never retransmitted it, though its
   * retransmission timer (1 s on Linux) ran out long ago, kept no state: the
   * SYN-ACK carried a SYN cookie, and `ss` shows no SYN-RECV socket for it.
   */
  private expireSynCookies(flow: Flow, now: number): void {
    const srv = flow.server;
    if (srv.state === TcpState.SYN_RECEIVED && srv.synAcks === 1 && now - srv.lastSynAckTs >= this.opts.synCookieUs) {
      enter(flow, srv, TcpState.LISTEN, { frame: null, ts: srv.lastSynAckTs }, 'SYN-ACK never retransmitted: a SYN cookie, no socket kept', true);
    }
  }

  private end(flow: Flow, reason: EndReason, now: number): void {
    if (reason === 'reuse') {
      // A new connection replaces the old one on this tuple: TIME_WAIT is cut short.
      for (const e of [flow.client, flow.server]) {
        if (e.state === TcpState.TIME_WAIT) enter(flow, e, TcpState.CLOSED, { frame: null, ts: now }, 'TIME_WAIT ended by a new SYN on the tuple (reuse)');
      }
    }
    flow.thaw(); // an ended flow is handed out live, and its row freed
    flow.endReason = reason;
    flow.endTs = now;
    this.flows.delete(flow);
    this.deadlines.remove(flow);
    this.onEnd(flow);
  }
}

/**
 * When SYN_SENT gave up, or -1: no pattern to go by. Linux gives up at the first retransmission
 * timer at or after the budget of tcp_syn_retries doubling timeouts, (2^(n+1) - 1) x 1 s from its
 * first SYN (127 s for 6), whatever the timeouts were (newer kernels start them linear); the next
 * timer is taken at twice the last gap.
 */
function synGiveUp(e: Endpoint, budget: number): number {
  if (budget === Infinity) return -1;
  const next = e.synsSent >= 2 ? e.lastSynTs + Math.min(2 * e.synGapUs, RTO_MAX_US) : e.lastSynTs + RTO_INIT_US;
  if (next - e.synTs >= budget || e.synsSent >= 2) return next;
  return -1;
}

/** Linux's time budget for tcp_syn_retries n: (2^(n+1) - 1) initial timeouts, each at most TCP_RTO_MAX. */
function synBudgetUs(n: number): number {
  let total = 0;
  for (let i = 0, rto = RTO_INIT_US; i <= n && total < 1e13; i++, rto = Math.min(2 * rto, RTO_MAX_US)) total += rto;
  return total;
}

/**
 * When the retransmission of e's unacknowledged data that would exceed its limit was due, or -1
 * (not that many yet: data can be acknowledged unseen, so a shorter pattern proves nothing).
 */
function dataGiveUp(e: Endpoint, retries: number): number {
  if (retries === Infinity || e.retransmissionsUnacked < retries || e.unackedSince < 0 || e.retransmitGapUs <= 0) return -1;
  return e.lastRetransmissionTs + Math.min(2 * e.retransmitGapUs, RTO_MAX_US);
}

/**
 * When SYN_SENT's give-up at `due` is proven: at once when its budget is spent by then;
 * otherwise once the capture went on well past `due` with no SYN (its retransmissions stopped).
 */
function synGiveUpEvidence(e: Endpoint, due: number, budget: number): number {
  if (due - e.synTs >= budget) return due;
  return due + Math.max(Math.min(4 * e.synGapUs, RTO_MAX_US), RTO_INIT_US);
}

/** The highest right edge of the packet's SACK blocks, or -1. */
function highestSackEdge(p: DecodedPacket): number {
  if (p.sackCount === 0) return -1;
  let hi = p.sack[1];
  for (let i = 1; i < p.sackCount; i++) if (seqGt(p.sack[2 * i + 1], hi)) hi = p.sack[2 * i + 1];
  return hi;
}

function inHandshake(flow: Flow): boolean {
  const c = flow.client.state;
  const s = flow.server.state;
  return c === TcpState.SYN_SENT || c === TcpState.SYN_RECEIVED || s === TcpState.SYN_RECEIVED;
}

/** The packet comes from the flow's client (same port and address). */
function isFromClient(flow: Flow, p: DecodedPacket): boolean {
  if (p.srcPort !== flow.client.port) return false;
  const v6 = flow.clientAddrV6;
  if (v6 === null) return u32(p.buf, p.srcOff) === flow.clientAddrV4;
  const b = p.buf;
  const off = p.srcOff;
  for (let i = 0; i < 16; i++) if (b[off + i] !== v6[i]) return false;
  return true;
}

/**
 * Flows by their two (address, port) endpoints, the same for both directions.
 * IPv4 endpoints are numbers (address * 65536 + port, exact below 2^48); the pair
 * is hashed to one number for a flat map, and the few colliding flows share an
 * array. An IPv6 pair is hashed from its 36 bytes the same way, and a flow keeps
 * them to be told apart. No lookup builds a string or an object.
 */
export class FlowIndex {
  private readonly v4 = new Map<number, Flow | Flow[]>();

  /** `hash` and `hashV6` are replaceable so that tests can force collisions. */
  constructor(
    private readonly hash: (lo: number, hi: number) => number = pairHash,
    private readonly hashV6: (p: DecodedPacket, sourceFirst: boolean) => number = v6PairHash,
  ) {}
  private readonly v6 = new Map<number, Flow | Flow[]>();
  /** Live flows in order of creation. */
  private readonly live = new Set<Flow>();

  get size(): number {
    return this.live.size;
  }

  values(): IterableIterator<Flow> {
    return this.live.values();
  }

  get(p: DecodedPacket): Flow | undefined {
    if (p.ipVersion !== 4) {
      const first = v6SourceFirst(p);
      const hit = this.v6.get(this.hashV6(p, first));
      if (hit === undefined) return undefined;
      if (!Array.isArray(hit)) return v6KeyIs(hit.keyV6!, p, first) ? hit : undefined;
      return hit.find((f) => v6KeyIs(f.keyV6!, p, first));
    }
    const a = v4Endpoint(p.buf, p.srcOff, p.srcPort);
    const z = v4Endpoint(p.buf, p.dstOff, p.dstPort);
    const lo = a < z ? a : z;
    const hi = a < z ? z : a;
    const hit = this.v4.get(this.hash(lo, hi));
    if (hit === undefined) return undefined;
    if (!Array.isArray(hit)) return hit.keyLo === lo && hit.keyHi === hi ? hit : undefined;
    return hit.find((f) => f.keyLo === lo && f.keyHi === hi);
  }

  add(p: DecodedPacket, flow: Flow): void {
    this.live.add(flow);
    if (p.ipVersion !== 4) {
      const first = v6SourceFirst(p);
      flow.keyV6 = v6Key(p, first);
      flow.keyLo = this.hashV6(p, first); // what delete() finds it under
      addTo(this.v6, flow.keyLo, flow);
      return;
    }
    const a = v4Endpoint(p.buf, p.srcOff, p.srcPort);
    const z = v4Endpoint(p.buf, p.dstOff, p.dstPort);
    flow.keyLo = a < z ? a : z;
    flow.keyHi = a < z ? z : a;
    addTo(this.v4, this.hash(flow.keyLo, flow.keyHi), flow);
  }

  delete(flow: Flow): void {
    this.live.delete(flow);
    if (flow.keyV6 !== null) removeFrom(this.v6, flow.keyLo, flow);
    else removeFrom(this.v4, this.hash(flow.keyLo, flow.keyHi), flow);
  }
}

function addTo(map: Map<number, Flow | Flow[]>, h: number, flow: Flow): void {
  const hit = map.get(h);
  if (hit === undefined) map.set(h, flow);
  else if (Array.isArray(hit)) hit.push(flow);
  else map.set(h, [hit, flow]);
}

function removeFrom(map: Map<number, Flow | Flow[]>, h: number, flow: Flow): void {
  const hit = map.get(h);
  if (hit === flow) map.delete(h);
  else if (Array.isArray(hit)) {
    const rest = hit.filter((f) => f !== flow);
    map.set(h, rest.length === 1 ? rest[0] : rest);
  }
}

/** Mix two 48-bit endpoint numbers into one 32-bit key. */
function pairHash(lo: number, hi: number): number {
  const a = Math.imul((lo >>> 0) ^ Math.imul(Math.floor(lo / 4294967296), 0x85ebca6b), 0x9e3779b1);
  const b = Math.imul((hi >>> 0) ^ Math.imul(Math.floor(hi / 4294967296), 0xc2b2ae35), 0x27d4eb2f);
  return (a ^ (b >>> 15) ^ Math.imul(b, 0x165667b1)) >>> 0;
}

function v4Endpoint(b: Uint8Array, off: number, port: number): number {
  return u32(b, off) * 65536 + port;
}

/** The packet's source endpoint sorts before its destination (address bytes, then port): the pair's order for IPv6. */
function v6SourceFirst(p: DecodedPacket): boolean {
  const b = p.buf;
  for (let i = 0; i < 16; i++) {
    const d = b[p.srcOff + i] - b[p.dstOff + i];
    if (d !== 0) return d < 0;
  }
  return p.srcPort <= p.dstPort;
}

/** The IPv6 pair as 36 bytes, lower endpoint first (`first`: the source is): address (16) and port (2) of each. */
function v6Key(p: DecodedPacket, first: boolean): Uint8Array {
  const k = new Uint8Array(36);
  k.set(p.buf.subarray(first ? p.srcOff : p.dstOff, (first ? p.srcOff : p.dstOff) + 16), 0);
  k.set(p.buf.subarray(first ? p.dstOff : p.srcOff, (first ? p.dstOff : p.srcOff) + 16), 18);
  const lo = first ? p.srcPort : p.dstPort;
  const hi = first ? p.dstPort : p.srcPort;
  k[16] = lo >> 8;
  k[17] = lo & 255;
  k[34] = hi >> 8;
  k[35] = hi & 255;
  return k;
}

/** The packet's endpoints are the pair `key` holds, in either direction (`first`: v6SourceFirst(p)). */
function v6KeyIs(key: Uint8Array, p: DecodedPacket, first: boolean): boolean {
  const loOff = first ? p.srcOff : p.dstOff;
  const hiOff = first ? p.dstOff : p.srcOff;
  const lo = first ? p.srcPort : p.dstPort;
  const hi = first ? p.dstPort : p.srcPort;
  if (key[16] !== lo >> 8 || key[17] !== (lo & 255) || key[34] !== hi >> 8 || key[35] !== (hi & 255)) return false;
  const b = p.buf;
  for (let i = 0; i < 16; i++) if (key[i] !== b[loOff + i] || key[18 + i] !== b[hiOff + i]) return false;
  return true;
}

/** Mix an IPv6 pair (both addresses and ports, lower endpoint first; `first`: v6SourceFirst(p)) into one 32-bit key. */
function v6PairHash(p: DecodedPacket, first: boolean): number {
  const b = p.buf;
  const loOff = first ? p.srcOff : p.dstOff;
  const hiOff = first ? p.dstOff : p.srcOff;
  let h = Math.imul((first ? p.srcPort : p.dstPort) ^ 0x9e3779b9, 0x85ebca6b);
  for (let i = 0; i < 16; i += 4) h = Math.imul(h ^ u32(b, loOff + i), 0xcc9e2d51) ^ (h >>> 15);
  h = Math.imul(h ^ (first ? p.dstPort : p.srcPort), 0x1b873593);
  for (let i = 0; i < 16; i += 4) h = Math.imul(h ^ u32(b, hiOff + i), 0xcc9e2d51) ^ (h >>> 15);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Live flows in a binary min-heap by time; each flow knows its place (Flow.deadlineIndex), so it can be moved or taken out. */
class DeadlineQueue {
  private keys = new Float64Array(1024);
  private readonly items: Flow[] = [];

  get size(): number {
    return this.items.length;
  }

  peekKey(): number {
    return this.keys[0];
  }

  push(flow: Flow, key: number): void {
    const i = this.items.length;
    if (i === this.keys.length) {
      const grown = new Float64Array(i * 2);
      grown.set(this.keys);
      this.keys = grown;
    }
    this.items.push(flow);
    this.up(i, flow, key);
  }

  /** Bring the flow's time forward to `key` if that is earlier. */
  lower(flow: Flow, key: number): void {
    if (key < this.keys[flow.deadlineIndex]) this.up(flow.deadlineIndex, flow, key);
  }

  /** The earliest flow, out of the queue. */
  pop(): Flow {
    const top = this.items[0];
    this.takeOut(0);
    return top;
  }

  remove(flow: Flow): void {
    if (flow.deadlineIndex >= 0) this.takeOut(flow.deadlineIndex);
  }

  private takeOut(i: number): void {
    const { keys, items } = this;
    items[i].deadlineIndex = -1;
    const last = items.pop()!;
    if (i === items.length) return;
    const key = keys[items.length];
    if (i > 0 && key < keys[(i - 1) >> 1]) this.up(i, last, key);
    else this.down(i, last, key);
  }

  private up(i: number, flow: Flow, key: number): void {
    const { keys, items } = this;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (keys[parent] <= key) break;
      this.place(parent, i);
      i = parent;
    }
    keys[i] = key;
    items[i] = flow;
    flow.deadlineIndex = i;
  }

  private down(i: number, flow: Flow, key: number): void {
    const { keys, items } = this;
    const n = items.length;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && keys[c + 1] < keys[c]) c++;
      if (keys[c] >= key) break;
      this.place(c, i);
      i = c;
    }
    keys[i] = key;
    items[i] = flow;
    flow.deadlineIndex = i;
  }

  /** Move the entry at `from` to `to`. */
  private place(from: number, to: number): void {
    this.keys[to] = this.keys[from];
    const f = this.items[from];
    this.items[to] = f;
    f.deadlineIndex = to;
  }
}
