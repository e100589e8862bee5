/**
 * Host-level detectors: SYN floods per listener, TIME_WAIT pile-ups per host, and clients
 * close to running out of ephemeral ports towards one destination. Half-open attempts inside
 * a flood are counted in it, not reported one by one. Each judges the whole capture, but
 * settles what packet time has passed (progress(): floods, held findings, TIME_WAIT counts)
 * or what a connection's start tells (port exhaustion), so what is kept is what is recent;
 * the findings are emitted at the end, in the order a judgement at the end gives them.
 */
import { formatEndpoint } from '../util/address.js';
import type { FlowView } from '../tcp/rfc793/flow.js';
import { Cause } from '../tcp/rfc793/causes.js';
import { TcpState } from '../tcp/rfc793/tcp-state.js';
import type { Emit } from './finding.js';
import { Columns, F64, U16, U32, U8 } from '../util/columns.js';
import { ATTEMPT, COMPLETED, COOKIE, HALF_OPEN, REFUSED, SYN_ACKED, SynFloods } from './floods.js';
import { DEFAULT_CONNECTION_THRESHOLDS, halfOpenFinding, type FailedAttempt } from './connection.js';
import type { ConnTable } from '../conn/table.js';
import { PortWindows } from './port-windows.js';

export interface HostThresholds {
  /** Half-open attempts per second at one listener that make a SYN flood. */
  synFloodRate: number;
  /** Sockets in TIME_WAIT at one moment on one host that make a pile-up. */
  timeWaitPileup: number;
  /** How long TIME_WAIT lasts (µs), for the port-exhaustion window. */
  timeWaitUs: number;
  /** Size of the client's ephemeral port range (Linux default 32768-60999). */
  ephemeralPorts: number;
  /** Share of that range used towards one destination within the TIME_WAIT time that is a risk. */
  portExhaustionShare: number;
  /** How close to the end of the capture a half-open attempt is undetermined (µs; see ConnectionThresholds). */
  endGraceUs?: number;
}

export const DEFAULT_HOST_THRESHOLDS: HostThresholds = {
  synFloodRate: 100,
  timeWaitPileup: 200,
  timeWaitUs: 60_000_000,
  ephemeralPorts: 60999 - 32768 + 1,
  portExhaustionShare: 0.5,
};

/** The kinds of the held findings, by the code stored for them. */
const HELD_KINDS = ['syn_unanswered', 'synack_unanswered', 'connection_refused'] as const;
/** First packets this much earlier than the packet time are still put in order (see SynFloods, PortWindows). */
const LATE_US = 60_000_000;

/** Small integers for IPv6 client addresses, and back. */
class Interned {
  private readonly ids = new Map<string, number>();
  readonly names: string[] = [];
  id(name: string): number {
    let id = this.ids.get(name);
    if (id === undefined) this.ids.set(name, (id = this.names.push(name) - 1));
    return id;
  }
}

/** Small integers for listeners (address, port), and back. */
class Listeners {
  private readonly ids = new Map<string, Map<number, number>>();
  /** IPv4 listeners by address * 65536 + port: an ended flow's listener found without making its address's text. */
  private readonly v4 = new Map<number, number>();
  readonly addr: string[] = [];
  readonly port: number[] = [];
  /** The listener of an endpoint, by its IPv4 address as a number (-1 for IPv6: then by text). */
  of(e: { addrV4: number; addr: string; port: number }): number {
    const port = e.port;
    if (e.addrV4 < 0) return this.id(e.addr, port);
    const key = e.addrV4 * 65536 + port;
    let id = this.v4.get(key);
    if (id === undefined) this.v4.set(key, (id = this.id(e.addr, port)));
    return id;
  }
  id(addr: string, port: number): number {
    let ports = this.ids.get(addr);
    if (ports === undefined) this.ids.set(addr, (ports = new Map()));
    let id = ports.get(port);
    if (id === undefined) {
      ports.set(port, (id = this.addr.push(addr) - 1));
      this.port.push(port);
    }
    return id;
  }
  name(id: number): string {
    return formatEndpoint(this.addr[id], this.port[id]);
  }
}

/** A held finding: its flow's listener, client and attempt, and what the finding adds (ts: the kind's). */
const HELD_COLUMNS = { listener: U32, client: F64, port: U16, attemptTs: F64, kind: U8, side: U8, flow: U32, packet: F64, ts: F64, count: U32, spanUs: F64, cutUs: F64 };

/**
 * A host's TIME_WAIT sockets: events not yet folded (2 * time + 1 where one begins, 2 * time where
 * one ends, so that sorted as numbers an end comes before a beginning at the same time; one never
 * left has no end), and the count, peak and its time of those folded.
 */
interface TimeWaitHost {
  /** The host's address as text. */
  host: string;
  events: Float64Array;
  n: number;
  sockets: number;
  asServer: number;
  asClient: number;
  reused: number;
  open: number;
  peak: number;
  peakTs: number;
}

export class HostDetectors {
  /** Listeners and IPv6 client addresses as small integers. */
  private readonly listeners = new Listeners();
  private readonly v6Clients = new Interned();
  /** SYN floods, settled as packet time passes them. */
  private readonly floods: SynFloods;
  /**
   * Failed attempts' findings, held until no flood to come can cover them (half-open) and then
   * kept, in the order their connections ended, for the end of the capture, when their listener's
   * record is known: `held` from `heldFrom` on wait, `kept` are decided.
   */
  private readonly held = new Columns(HELD_COLUMNS);
  private heldFrom = 0;
  private readonly kept = new Columns(HELD_COLUMNS);
  /** The failed attempt of the flow about to end (defer() comes just before its flowEnded()). */
  private deferred: FailedAttempt | null = null;
  /** Per listener id: connections it accepted (handshake completed, or open when the capture began), and SYNs it answered with a SYN-ACK. */
  private readonly accepted: number[] = [];
  private readonly answered: number[] = [];
  /** Per host, its TIME_WAIT sockets: the events of the last minute or so, and the count and peak of those before. */
  private readonly timeWait = new Map<number | string, TimeWaitHost>();
  /** TIME_WAIT events before this (µs) are all known and folded into each host's count and peak. */
  private timeWaitSettled = -Infinity;
  /** TIME_WAIT events that came from before that time (a clock that went back further than LATE_US): folded as they come. */
  timeWaitLate = 0;

  /** Port exhaustion, judged as connections start (see PortWindows). */
  private readonly ports: PortWindows;

  constructor(
    private readonly emit: Emit,
    private readonly t: HostThresholds = DEFAULT_HOST_THRESHOLDS,
  ) {
    this.ports = new PortWindows(t.timeWaitUs, t.ephemeralPorts * t.portExhaustionShare, LATE_US);
    this.floods = new SynFloods(t.synFloodRate, LATE_US);
  }

  /** Packet time is `now` and no connection still live that could end in SYN_SENT began before `synSentSince`: settle floods and held findings. */
  progress(synSentSince: number, timeWaitSince: number, now: number): void {
    this.floods.settle(synSentSince, now);
    this.decideHeld();
    const w = Math.min(timeWaitSince, now - LATE_US);
    if (w > this.timeWaitSettled) this.foldTimeWait(w);
  }

  /**
   * Fold each host's TIME_WAIT events before `w` into its running count and peak, in time order
   * (an end before a beginning at the same time): no event still to come is earlier.
   */
  private foldTimeWait(w: number): void {
    this.timeWaitSettled = w;
    for (const h of this.timeWait.values()) {
      if (h.n === 0) continue;
      const ev = h.events.subarray(0, h.n).sort();
      let i = 0;
      for (; i < ev.length && ev[i] < 2 * w; i++) {
        h.open += Math.abs(ev[i] % 2) === 1 ? 1 : -1;
        if (h.open > h.peak) {
          h.peak = h.open;
          h.peakTs = (ev[i] - 1) / 2;
        }
      }
      if (i === 0) continue;
      h.n -= i;
      h.events = h.events.length > 64 && 4 * h.n < h.events.length ? h.events.slice(i, i + Math.max(8, 2 * h.n)) : h.events.copyWithin(0, i, i + h.n);
    }
  }

  /** Bytes the host detectors hold now (approximately): attempts and findings waiting, port windows, TIME_WAIT events. */
  get retainedBytes(): number {
    let tw = 0;
    for (const h of this.timeWait.values()) tw += 64 + h.events.byteLength;
    return this.floods.retainedBytes + this.held.bytes + this.kept.bytes + this.ports.retainedBytes + tw;
  }

  /** Held findings in order, from the first, while each can be decided: covered by a flood (let go) or kept. */
  private decideHeld(): void {
    const h = this.held.columns();
    let i = this.heldFrom;
    for (; i < this.held.length; i++) {
      const listener = h.listener(i);
      const attemptTs = h.attemptTs(i);
      const kind = h.kind(i);
      if (HELD_KINDS[kind] !== 'connection_refused') {
        if (!this.floods.isSettled(listener, attemptTs)) break;
        if (this.floods.episodes(listener).some((e) => attemptTs >= e.firstTs && attemptTs <= e.lastTs)) continue;
      }
      this.kept.pushFrom(this.held, i);
    }
    this.heldFrom = i;
    this.held.dropFront(i);
  }

  /** A connection starts (its first packet): what port exhaustion needs of it is known now. */
  flowStarted(conn: ConnTable, row: number, clientEnd: number, ts: number): void {
    this.ports.start(conn, row, clientEnd, ts);
  }

  /** What the port-exhaustion windows hold now, in bytes (approximately). */
  get retainedPortBytes(): number {
    return this.ports.retainedBytes;
  }

  /** The flow's client address as a number: the IPv4 address itself, or 2^32 + an index for IPv6. */
  private clientId(flow: FlowView): number {
    return flow.ipVersion === 4 ? flow.clientAddrV4 : 2 ** 32 + this.v6Clients.id(flow.client.addr);
  }

  private clientName(id: number): string {
    return id < 2 ** 32 ? `${id >>> 24}.${(id >>> 16) & 255}.${(id >>> 8) & 255}.${id & 255}` : this.v6Clients.names[id - 2 ** 32];
  }

  /** Record what the host-level detectors need of an ended flow. */
  flowEnded(flow: FlowView): void {
    const c = flow.client;
    const s = flow.server;
    let flags = 0;
    if (c.synsSent > 0) {
      flags |= ATTEMPT;
      const completed = flow.findTransition('server', TcpState.SYN_RECEIVED, TcpState.ESTABLISHED) >= 0;
      const reset = flow.resetInfo;
      const refused = reset !== null && reset.receiverState === TcpState.SYN_SENT;
      if (completed) flags |= COMPLETED;
      if (refused) flags |= REFUSED;
      if (!completed && !refused && c.state === TcpState.SYN_SENT) flags |= HALF_OPEN;
      if (s.synAcks > 0) flags |= SYN_ACKED;
      if (flow.findTransition('server', null, null, Cause.SYN_COOKIE) >= 0) flags |= COOKIE;
    }
    for (let k = 0; k < 2; k++) {
      const e = k === 0 ? c : s;
      const tw = flow.findTransition(e.side, null, TcpState.TIME_WAIT);
      if (tw < 0) continue;
      const left = flow.findTransition(e.side, TcpState.TIME_WAIT, null);
      // Keyed by the IPv4 address as a number (its text made once, for the host's first socket), IPv6 by text.
      const v4 = e.addrV4;
      const key = v4 >= 0 ? v4 : e.addr;
      let h = this.timeWait.get(key);
      if (h === undefined) this.timeWait.set(key, (h = { host: e.addr, events: new Float64Array(8), n: 0, sockets: 0, asServer: 0, asClient: 0, reused: 0, open: 0, peak: 0, peakTs: 0 }));
      if (h.n + 2 > h.events.length) {
        const grown = new Float64Array(2 * h.events.length);
        grown.set(h.events);
        h.events = grown;
      }
      h.sockets++;
      h.events[h.n++] = 2 * flow.tsAt(tw) + 1;
      if (left >= 0) h.events[h.n++] = 2 * flow.tsAt(left);
      if (flow.tsAt(tw) < this.timeWaitSettled) this.timeWaitLate++;
      if (e.side === 'server') h.asServer++;
      else h.asClient++;
      // A new connection on the same ports cut this TIME_WAIT short (tshark flags its SYN reused_ports).
      if (left >= 0 && flow.causeAt(left) === Cause.TIME_WAIT_REUSED) h.reused++;
    }
    const listener = this.listeners.of(s);
    if (listener === this.accepted.length) this.accepted.push(0), this.answered.push(0);
    if (flags & COMPLETED || flow.midstream) this.accepted[listener]++;
    if (flags & SYN_ACKED) this.answered[listener]++;
    const client = this.clientId(flow);
    const attemptTs = c.synTs || flow.firstTs;
    if (flags & ATTEMPT) this.floods.attempt(listener, attemptTs, client, flags);
    const d = this.deferred;
    if (d === null) return;
    this.deferred = null;
    const held = this.held;
    const r = held.add();
    const h = held.at(r);
    const j = held.index(r);
    h.listener[j] = listener;
    h.client[j] = client;
    h.port[j] = c.port;
    h.attemptTs[j] = attemptTs;
    h.kind[j] = HELD_KINDS.indexOf(d.kind);
    h.side[j] = d.side === 'client' ? 0 : 1;
    h.flow[j] = d.flow;
    h.packet[j] = d.packet;
    h.ts[j] = d.ts;
    h.count[j] = d.count;
    h.spanUs[j] = d.spanUs;
    h.cutUs[j] = d.cutUs;
  }

  /**
   * A per-flow failed attempt, held until we know whether a flood covers it (half-open) or
   * whether its listener took other connections (refused). Called for a flow just before its flowEnded().
   */
  defer(h: FailedAttempt): void {
    this.deferred = h;
  }

  finish(): void {
    this.floods.finish();
    this.decideHeld();
    // Floods by listener (numbered as their connections ended), each listener's episodes in time order.
    for (let id = 0; id < this.accepted.length; id++) {
      const listener = this.listeners.name(id);
      for (const [i, e] of this.floods.episodes(id).entries()) {
        const pct = (n: number) => `${Math.round((100 * n) / Math.max(1, e.halfOpen))}%`;
        this.emit({
          kind: 'syn_flood',
          severity: 'error',
          flow: null,
          packet: null,
          ts: e.firstTs,
          side: 'server',
          message:
            `SYN flood on ${listener}: ${e.halfOpen} half-open attempts from ${e.sources} source${e.sources === 1 ? '' : 's'} over ${((e.lastTs - e.firstTs) / 1e6).toFixed(2)} s, peak ${e.peak}/s; ` +
            `${pct(e.synAcked)} answered by SYN-ACK, ${pct(e.refused)} refused by RST` +
            (e.cookies > 0 ? `, ${e.cookies} SYN cookies seen (the listen queue was full)` : '') +
            (e.completed > 0 ? `; ${e.completed} legitimate connection${e.completed === 1 ? '' : 's'} completed meanwhile` : ''),
          details: {
            listener,
            start_ts: e.firstTs,
            end_ts: e.lastTs,
            half_open: e.halfOpen,
            peak_per_second: e.peak,
            sources: e.sources,
            answered_synack: e.synAcked,
            answered_rst: e.refused,
            syn_cookies: e.cookies,
            completed: e.completed,
            episode: i + 1,
          },
        });
      }
    }
    const h = this.kept.columns();
    for (let i = 0; i < this.kept.length; i++) {
      const listener = h.listener(i);
      this.emit(
        halfOpenFinding(
          {
            kind: HELD_KINDS[h.kind(i)],
            attemptTs: h.attemptTs(i),
            flow: h.flow(i),
            packet: h.packet(i),
            ts: h.ts(i),
            count: h.count(i),
            spanUs: h.spanUs(i),
            cutUs: h.cutUs(i),
            side: h.side(i) === 0 ? 'client' : 'server',
            clientAddr: this.clientName(h.client(i)),
            clientPort: h.port(i),
            serverAddr: this.listeners.addr[listener],
            serverPort: this.listeners.port[listener],
          },
          // The other connections of its listener: a refusal counts itself in neither.
          { accepted: this.accepted[listener], answered: this.answered[listener] },
          this.t.endGraceUs ?? DEFAULT_CONNECTION_THRESHOLDS.endGraceUs,
        ),
      );
    }
    this.timeWaitPileups();
    this.portExhaustion();
  }

  private timeWaitPileups(): void {
    this.foldTimeWait(Infinity);
    for (const h of this.timeWait.values()) {
      const { host, peak, peakTs } = h;
      if (h.sockets < this.t.timeWaitPileup || peak < this.t.timeWaitPileup) continue;
      const closer = h.asServer >= h.asClient ? 'server' : 'client';
      this.emit({
        kind: 'time_wait_pileup',
        severity: 'warning',
        flow: null,
        packet: null,
        ts: peakTs,
        side: closer,
        message:
          `${host} had ${peak} connections in TIME_WAIT at once; it closed first as the ${closer} in ${Math.max(h.asServer, h.asClient)} of ${h.asServer + h.asClient}` +
          (closer === 'server' ? ' (a server that closes first keeps the TIME_WAIT: let clients close, or use keep-alive)' : '') +
          (h.reused > 0 ? `; ${h.reused} TIME_WAIT socket${h.reused === 1 ? ' was' : 's were'} reused by a new connection on the same ports (see reused_ports)` : ''),
        details: { host, peak, peak_ts: peakTs, as_server: h.asServer, as_client: h.asClient, reused_ports: h.reused, threshold: this.t.timeWaitPileup },
      });
    }
  }

  private portExhaustion(): void {
    // In the order of (client, destination) as numbered when their connections ended.
    const found = this.ports.finish().map((p) => ({
      p,
      order: (p.clientV6 === null ? p.clientV4 : 2 ** 32 + this.v6Clients.id(p.clientV6)) * 2 ** 20 + this.listeners.id(p.serverAddr, p.serverPort),
    }));
    found.sort((a, b) => a.order - b.order);
    for (const { p } of found) {
      const client = p.clientV6 ?? this.clientName(p.clientV4);
      const dest = formatEndpoint(p.serverAddr, p.serverPort);
      this.emit({
        kind: 'port_exhaustion_risk',
        severity: 'warning',
        flow: null,
        packet: null,
        ts: p.peakTs,
        side: 'client',
        message: `${client} used ${p.peak} source ports towards ${dest} within ${this.t.timeWaitUs / 1e6} s: ${Math.round((100 * p.peak) / this.t.ephemeralPorts)}% of its ephemeral range; new connections will fail with EADDRNOTAVAIL`,
        details: { client, destination: dest, ports: p.peak, share: p.peak / this.t.ephemeralPorts, window_seconds: this.t.timeWaitUs / 1e6 },
      });
    }
  }
}
