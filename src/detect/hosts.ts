/**
 * Host-level detectors, decided at the end of the capture from compact per-flow
 * records: SYN floods per listener, TIME_WAIT pile-ups per host, and clients close
 * to running out of ephemeral ports towards one destination. Half-open attempts
 * inside a flood are counted in it, not reported one by one.
 */
import { formatEndpoint } from '../flow/address.js';
import type { Flow } from '../flow/flow.js';
import { TcpState } from '../state/tcp-state.js';
import type { Emit, Finding } from './finding.js';

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
}

export const DEFAULT_HOST_THRESHOLDS: HostThresholds = {
  synFloodRate: 100,
  timeWaitPileup: 200,
  timeWaitUs: 60_000_000,
  ephemeralPorts: 60999 - 32768 + 1,
  portExhaustionShare: 0.5,
};

const SLOT_US = 100_000; // flood rates over a sliding second of ten 100 ms slots

interface Attempt {
  ts: number;
  halfOpen: boolean;
  synAcked: boolean;
  refused: boolean;
  cookie: boolean;
  completed: boolean;
  source: string;
}

/** A half-open connection reported on its own unless a flood at its listener covers it. */
interface Deferred {
  listener: string;
  ts: number;
  finding: Finding;
}

export class HostDetectors {
  private readonly attempts = new Map<string, Attempt[]>();
  private readonly deferred: Deferred[] = [];
  private readonly timeWait = new Map<string, { events: number[]; asServer: number; asClient: number }>();
  private readonly portUse = new Map<string, number[]>();

  constructor(
    private readonly emit: Emit,
    private readonly t: HostThresholds = DEFAULT_HOST_THRESHOLDS,
  ) {}

  /** Record what the host-level detectors need of an ended flow. */
  flowEnded(flow: Flow): void {
    const c = flow.client;
    const s = flow.server;
    const listener = formatEndpoint(s.addr, s.port);
    if (c.synsSent > 0) {
      const completed = flow.transitions.some((x) => x.side === 'server' && x.from === TcpState.SYN_RECEIVED && x.to === TcpState.ESTABLISHED);
      const refused = flow.resetInfo !== null && flow.resetInfo.receiverState === TcpState.SYN_SENT;
      const cookie = flow.transitions.some((x) => x.side === 'server' && x.cause.startsWith('SYN-ACK never retransmitted'));
      let list = this.attempts.get(listener);
      if (list === undefined) this.attempts.set(listener, (list = []));
      list.push({ ts: c.synTs || flow.firstTs, halfOpen: !completed && !refused && c.state === TcpState.SYN_SENT, synAcked: s.synAcks > 0, refused, cookie, completed, source: c.addr });
    }
    for (const e of [c, s]) {
      const tw = flow.transitions.find((x) => x.side === e.side && x.to === TcpState.TIME_WAIT);
      if (tw === undefined) continue;
      const left = flow.transitions.find((x) => x.side === e.side && x.from === TcpState.TIME_WAIT);
      let h = this.timeWait.get(e.addr);
      if (h === undefined) this.timeWait.set(e.addr, (h = { events: [], asServer: 0, asClient: 0 }));
      h.events.push(tw.ts, 1, left ? left.ts : Number.MAX_SAFE_INTEGER, -1);
      if (e.side === 'server') h.asServer++;
      else h.asClient++;
    }
    const pair = `${c.addr}>${listener}`;
    let ports = this.portUse.get(pair);
    if (ports === undefined) this.portUse.set(pair, (ports = []));
    ports.push(flow.firstTs, c.port);
  }

  /** A per-flow half-open finding, held until we know whether a flood covers it. */
  defer(listener: string, ts: number, finding: Finding): void {
    this.deferred.push({ listener, ts, finding });
  }

  finish(): void {
    const floods = new Map<string, Array<[number, number]>>();
    for (const [listener, list] of this.attempts) {
      const episodes = this.synFloods(listener, list);
      if (episodes.length > 0) floods.set(listener, episodes);
    }
    for (const d of this.deferred) {
      const eps = floods.get(d.listener);
      if (eps === undefined || !eps.some(([a, b]) => d.ts >= a && d.ts <= b)) this.emit(d.finding);
    }
    this.timeWaitPileups();
    this.portExhaustion();
  }

  private synFloods(listener: string, list: Attempt[]): Array<[number, number]> {
    list.sort((a, b) => a.ts - b.ts);
    const half = list.filter((a) => a.halfOpen);
    if (half.length < this.t.synFloodRate) return [];
    // Half-open attempts per 100 ms slot; a flood is where a sliding second holds at least the rate.
    const slots = new Map<number, number>();
    for (const a of half) {
      const k = Math.floor(a.ts / SLOT_US);
      slots.set(k, (slots.get(k) ?? 0) + 1);
    }
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
      const inside = list.filter((a) => a.ts >= start && a.ts < end);
      const halfIn = inside.filter((a) => a.halfOpen);
      const sources = new Set(halfIn.map((a) => a.source));
      const synAcked = halfIn.filter((a) => a.synAcked).length;
      const refused = inside.filter((a) => a.refused).length;
      const cookies = inside.filter((a) => a.cookie).length;
      const completed = inside.filter((a) => a.completed).length;
      const firstTs = halfIn[0]?.ts ?? start;
      const lastTs = halfIn[halfIn.length - 1]?.ts ?? end;
      episodes.push([firstTs, lastTs]);
      const pct = (n: number) => `${Math.round((100 * n) / Math.max(1, halfIn.length))}%`;
      this.emit({
        kind: 'syn_flood',
        severity: 'error',
        flow: null,
        packet: null,
        ts: firstTs,
        side: 'server',
        message:
          `SYN flood on ${listener}: ${halfIn.length} half-open attempts from ${sources.size} source${sources.size === 1 ? '' : 's'} over ${((lastTs - firstTs) / 1e6).toFixed(2)} s, peak ${peak}/s; ` +
          `${pct(synAcked)} answered by SYN-ACK, ${pct(refused)} refused by RST` +
          (cookies > 0 ? `, ${cookies} SYN cookies seen (the listen queue was full)` : '') +
          (completed > 0 ? `; ${completed} legitimate connection${completed === 1 ? '' : 's'} completed meanwhile` : ''),
        details: {
          listener,
          start_ts: firstTs,
          end_ts: lastTs,
          half_open: halfIn.length,
          peak_per_second: peak,
          sources: sources.size,
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
      if (h.events.length / 4 < this.t.timeWaitPileup) continue;
      const ev: Array<[number, number]> = [];
      for (let i = 0; i < h.events.length; i += 2) ev.push([h.events[i], h.events[i + 1]]);
      ev.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      let n = 0;
      let peak = 0;
      let peakTs = 0;
      for (const [ts, d] of ev) {
        n += d;
        if (n > peak) {
          peak = n;
          peakTs = ts;
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
          (closer === 'server' ? ' (a server that closes first keeps the TIME_WAIT: let clients close, or use keep-alive)' : ''),
        details: { host, peak, peak_ts: peakTs, as_server: h.asServer, as_client: h.asClient, threshold: this.t.timeWaitPileup },
      });
    }
  }

  private portExhaustion(): void {
    const limit = this.t.ephemeralPorts * this.t.portExhaustionShare;
    for (const [pair, v] of this.portUse) {
      if (v.length / 2 < limit) continue;
      // Distinct client ports in any window of one TIME_WAIT length.
      const conns: Array<[number, number]> = [];
      for (let i = 0; i < v.length; i += 2) conns.push([v[i], v[i + 1]]);
      conns.sort((a, b) => a[0] - b[0]);
      const inWindow = new Map<number, number>();
      let peak = 0;
      let peakTs = 0;
      let lo = 0;
      for (let hi = 0; hi < conns.length; hi++) {
        inWindow.set(conns[hi][1], (inWindow.get(conns[hi][1]) ?? 0) + 1);
        while (conns[hi][0] - conns[lo][0] > this.t.timeWaitUs) {
          const p = conns[lo++][1];
          const n = inWindow.get(p)! - 1;
          if (n === 0) inWindow.delete(p);
          else inWindow.set(p, n);
        }
        if (inWindow.size > peak) {
          peak = inWindow.size;
          peakTs = conns[hi][0];
        }
      }
      if (peak < limit) continue;
      const [client, dest] = pair.split('>');
      this.emit({
        kind: 'port_exhaustion_risk',
        severity: 'warning',
        flow: null,
        packet: null,
        ts: peakTs,
        side: 'client',
        message: `${client} used ${peak} source ports towards ${dest} within ${this.t.timeWaitUs / 1e6} s: ${Math.round((100 * peak) / this.t.ephemeralPorts)}% of its ephemeral range; new connections will fail with EADDRNOTAVAIL`,
        details: { client, destination: dest, ports: peak, share: peak / this.t.ephemeralPorts, window_seconds: this.t.timeWaitUs / 1e6 },
      });
    }
  }
}
