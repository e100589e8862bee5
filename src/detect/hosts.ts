/**
 * Host-level detectors, decided at the end of the capture from compact per-flow
 * records: SYN floods per listener, TIME_WAIT pile-ups per host, and clients close
 * to running out of ephemeral ports towards one destination. Half-open attempts
 * inside a flood are counted in it, not reported one by one.
 */
import { formatEndpoint } from '../util/address.js';
import type { FlowView } from '../tcp/rfc793/flow.js';
import { Cause } from '../tcp/rfc793/causes.js';
import { TcpState } from '../tcp/rfc793/tcp-state.js';
import type { Emit } from './finding.js';
import { Columns, F64, U16, U32, U8 } from '../util/columns.js';
import { DEFAULT_CONNECTION_THRESHOLDS, halfOpenFinding, type HalfOpen } from './connection.js';
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

const SLOT_US = 100_000;
/** The kinds of the held findings, by the code stored for them. */
const HELD_KINDS = ['syn_unanswered', 'synack_unanswered', 'connection_refused'] as const; // flood rates over a sliding second of ten 100 ms slots

const ATTEMPT = 1;
const HALF_OPEN = 2;
const SYN_ACKED = 4;
const REFUSED = 8;
const COOKIE = 16;
const COMPLETED = 32;

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
  readonly addr: string[] = [];
  readonly port: number[] = [];
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

export class HostDetectors {
  /** Listeners and IPv6 client addresses as small integers. */
  private readonly listeners = new Listeners();
  private readonly v6Clients = new Interned();
  /** One row per ended flow: its listener, client, first packet time, and (with ATTEMPT) how its SYN fared. */
  private readonly flows = new Columns({ listener: U32, client: F64, port: U16, attemptTs: F64, flags: U8 });
  /** Half-open findings held until the floods are known: the flow's row above and what the finding adds (ts: the kind's). */
  private readonly held = new Columns({ row: U32, kind: U8, side: U8, flow: U32, packet: F64, ts: F64, count: U32, spanUs: F64, cutUs: F64 });
  /** Per listener id: connections it accepted (handshake completed, or open when the capture began), and SYNs it answered with a SYN-ACK. */
  private readonly accepted: number[] = [];
  private readonly answered: number[] = [];
  /** The row flowEnded() will give the flow being ended (defer() comes just before it). */
  private get nextRow(): number {
    return this.flows.length;
  }
  /**
   * Per host, its TIME_WAIT sockets as events in one growing typed array: 2 * time + 1 where one
   * begins, 2 * time where one ends (sorted as numbers, an end comes before a beginning at the same
   * time); one never left (at the end of the capture) has no end.
   */
  private readonly timeWait = new Map<string, { events: Float64Array; n: number; sockets: number; asServer: number; asClient: number; reused: number }>();

  /** Port exhaustion, judged as connections start (see PortWindows). */
  private readonly ports: PortWindows;

  constructor(
    private readonly emit: Emit,
    private readonly t: HostThresholds = DEFAULT_HOST_THRESHOLDS,
  ) {
    this.ports = new PortWindows(t.timeWaitUs, t.ephemeralPorts * t.portExhaustionShare);
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
      const addr = e.addr;
      let h = this.timeWait.get(addr);
      if (h === undefined) this.timeWait.set(addr, (h = { events: new Float64Array(8), n: 0, sockets: 0, asServer: 0, asClient: 0, reused: 0 }));
      if (h.n + 2 > h.events.length) {
        const grown = new Float64Array(2 * h.events.length);
        grown.set(h.events);
        h.events = grown;
      }
      h.sockets++;
      h.events[h.n++] = 2 * flow.tsAt(tw) + 1;
      if (left >= 0) h.events[h.n++] = 2 * flow.tsAt(left);
      if (e.side === 'server') h.asServer++;
      else h.asClient++;
      // A new connection on the same ports cut this TIME_WAIT short (tshark flags its SYN reused_ports).
      if (left >= 0 && flow.causeAt(left) === Cause.TIME_WAIT_REUSED) h.reused++;
    }
    const listener = this.listeners.id(s.addr, s.port);
    if (listener === this.accepted.length) this.accepted.push(0), this.answered.push(0);
    if (flags & COMPLETED || flow.midstream) this.accepted[listener]++;
    if (flags & SYN_ACKED) this.answered[listener]++;
    this.flows.push({
      listener,
      client: this.clientId(flow),
      port: c.port,
      attemptTs: c.synTs || flow.firstTs,
      flags,
    });
  }

  /**
   * A per-flow failed attempt, held until we know whether a flood covers it (half-open) or
   * whether its listener took other connections (refused). Called for a flow just before its flowEnded().
   */
  defer(h: HalfOpen): void {
    this.held.push({
      row: this.nextRow,
      kind: HELD_KINDS.indexOf(h.kind),
      side: h.side === 'client' ? 0 : 1,
      flow: h.flow,
      packet: h.packet,
      ts: h.ts,
      count: h.count,
      spanUs: h.spanUs,
      cutUs: h.cutUs,
    });
  }

  finish(): void {
    // Flows by listener, then time.
    const f = this.flows.columns();
    const order = sortedRows(column(this.flows.length, f.listener), column(this.flows.length, f.attemptTs));
    const floods = new Map<number, Array<[number, number]>>();
    for (let i = 0; i < order.length; ) {
      let j = i;
      while (j < order.length && f.listener(order[j]) === f.listener(order[i])) j++;
      const episodes = this.synFloods(f.listener(order[i]), order.subarray(i, j));
      if (episodes.length > 0) floods.set(f.listener(order[i]), episodes);
      i = j;
    }
    const h = this.held.columns();
    for (let i = 0; i < this.held.length; i++) {
      const row = h.row(i);
      const listener = f.listener(row);
      const attemptTs = f.attemptTs(row);
      const kind = HELD_KINDS[h.kind(i)];
      const eps = floods.get(listener);
      if (kind !== 'connection_refused' && eps !== undefined && eps.some(([a, b]) => attemptTs >= a && attemptTs <= b)) continue;
      this.emit(
        halfOpenFinding(
          {
            kind,
            attemptTs,
            flow: h.flow(i),
            packet: h.packet(i),
            ts: h.ts(i),
            count: h.count(i),
            spanUs: h.spanUs(i),
            cutUs: h.cutUs(i),
            side: h.side(i) === 0 ? 'client' : 'server',
            clientAddr: this.clientName(f.client(row)),
            clientPort: f.port(row),
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

  /** `rows`: this listener's flows in time order. */
  private synFloods(listenerId: number, rows: Uint32Array): Array<[number, number]> {
    const f = this.flows.columns();
    const listener = this.listeners.name(listenerId);
    // Half-open attempts per 100 ms slot; a flood is where a sliding second holds at least the rate.
    let halfOpen = 0;
    const slots = new Map<number, number>();
    for (const r of rows) {
      if (!(f.flags(r) & HALF_OPEN)) continue;
      halfOpen++;
      const k = Math.floor(f.attemptTs(r) / SLOT_US);
      slots.set(k, (slots.get(k) ?? 0) + 1);
    }
    if (halfOpen < this.t.synFloodRate) return [];
    const second = (k: number) => {
      let sum = 0;
      for (let i = k - 9; i <= k; i++) sum += slots.get(i) ?? 0;
      return sum;
    };
    // A window's count only rises at a slot with attempts, so those are the ones to look at.
    const hot: Array<{ first: number; last: number; peak: number }> = [];
    for (const k of [...slots.keys()].sort((x, y) => x - y)) {
      const n = second(k);
      if (n < this.t.synFloodRate) continue;
      const cur = hot[hot.length - 1];
      if (cur !== undefined && k - cur.last <= 10) {
        cur.last = k;
        cur.peak = Math.max(cur.peak, n);
      } else hot.push({ first: k, last: k, peak: n });
    }
    const episodes: Array<[number, number]> = [];
    for (const [i, { first, last, peak }] of hot.entries()) {
      const start = (first - 9) * SLOT_US;
      const end = (last + 1) * SLOT_US;
      let halfIn = 0;
      let synAcked = 0;
      let refused = 0;
      let cookies = 0;
      let completed = 0;
      let firstTs = -1;
      let lastTs = -1;
      const sources = new Float64Array(halfOpen);
      for (const r of rows) {
        const ts = f.attemptTs(r);
        if (ts < start || ts >= end || !(f.flags(r) & ATTEMPT)) continue;
        const fl = f.flags(r);
        if (fl & REFUSED) refused++;
        if (fl & COOKIE) cookies++;
        if (fl & COMPLETED) completed++;
        if (!(fl & HALF_OPEN)) continue;
        halfIn++;
        if (fl & SYN_ACKED) synAcked++;
        if (firstTs < 0) firstTs = ts;
        lastTs = ts;
        sources[halfIn - 1] = f.client(r);
      }
      if (firstTs < 0) [firstTs, lastTs] = [start, end];
      const seen = sources.subarray(0, halfIn).sort();
      let distinct = 0;
      for (let k = 0; k < seen.length; k++) if (k === 0 || seen[k - 1] !== seen[k]) distinct++;
      episodes.push([firstTs, lastTs]);
      const pct = (n: number) => `${Math.round((100 * n) / Math.max(1, halfIn))}%`;
      this.emit({
        kind: 'syn_flood',
        severity: 'error',
        flow: null,
        packet: null,
        ts: firstTs,
        side: 'server',
        message:
          `SYN flood on ${listener}: ${halfIn} half-open attempts from ${distinct} source${distinct === 1 ? '' : 's'} over ${((lastTs - firstTs) / 1e6).toFixed(2)} s, peak ${peak}/s; ` +
          `${pct(synAcked)} answered by SYN-ACK, ${pct(refused)} refused by RST` +
          (cookies > 0 ? `, ${cookies} SYN cookies seen (the listen queue was full)` : '') +
          (completed > 0 ? `; ${completed} legitimate connection${completed === 1 ? '' : 's'} completed meanwhile` : ''),
        details: {
          listener,
          start_ts: firstTs,
          end_ts: lastTs,
          half_open: halfIn,
          peak_per_second: peak,
          sources: distinct,
          answered_synack: synAcked,
          answered_rst: refused,
          syn_cookies: cookies,
          completed,
          episode: i + 1,
        },
      });
    }
    return episodes;
  }

  private timeWaitPileups(): void {
    for (const [host, h] of this.timeWait) {
      if (h.sockets < this.t.timeWaitPileup) continue;
      const ev = h.events.subarray(0, h.n).sort();
      let n = 0;
      let peak = 0;
      let peakTs = 0;
      for (let i = 0; i < ev.length; i++) {
        const begins = Math.abs(ev[i] % 2) === 1;
        n += begins ? 1 : -1;
        if (n > peak) {
          peak = n;
          peakTs = (ev[i] - 1) / 2;
        }
      }
      if (peak < this.t.timeWaitPileup) continue;
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

/** A column's values for rows 0..n-1 in one array: the sorts read each a few million times. */
function column(n: number, get: (row: number) => number): Float64Array {
  const out = new Float64Array(n);
  for (let r = 0; r < n; r++) out[r] = get(r);
  return out;
}

/**
 * Row numbers 0..n-1 sorted by (a[row], b[row]), stable: a merge sort on typed arrays, so a
 * flood's million rows cost 8 bytes each here, not a boxed array of them.
 */
function sortedRows(a: Float64Array, b: Float64Array): Uint32Array {
  const n = a.length;
  let rows = new Uint32Array(n);
  for (let i = 0; i < n; i++) rows[i] = i;
  let tmp = new Uint32Array(n);
  for (let width = 1; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(lo + width, n);
      const hi = Math.min(lo + 2 * width, n);
      let i = lo;
      let j = mid;
      let k = lo;
      // Take from the right run only when strictly before: equal keys keep their order.
      while (i < mid && j < hi) {
        const x = rows[j];
        const y = rows[i];
        if (a[x] < a[y] || (a[x] === a[y] && b[x] < b[y])) {
          tmp[k++] = x;
          j++;
        } else {
          tmp[k++] = y;
          i++;
        }
      }
      while (i < mid) tmp[k++] = rows[i++];
      while (j < hi) tmp[k++] = rows[j++];
    }
    [rows, tmp] = [tmp, rows];
  }
  return rows;
}
