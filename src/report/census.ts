/**
 * `tcpstate census`: what `ss -tan` would have printed on each host at one moment,
 * built from each endpoint's state then, with counts per state as `ss -s` gives them.
 */
import type { ChalkInstance } from 'chalk';
import { formatEndpoint } from '../flow/address.js';
import type { FlowAt } from '../sink/read.js';
import { SS_NAMES, isGone, type TcpStateName } from '../state/tcp-state.js';
import { formatTime } from './summary.js';

export interface Socket {
  /** As ss prints it: ESTAB, SYN-SENT, TIME-WAIT... */
  state: string;
  tcpState: TcpStateName;
  local: string;
  peer: string;
  flowIndex: number;
  side: 'client' | 'server';
}

export interface HostCensus {
  host: string;
  /** Listening sockets inferred from a server that answered a SYN ("addr:port"). */
  listeners: string[];
  sockets: Socket[];
  counts: Record<string, number>;
}

export interface Census {
  capture: { name: string; path: string };
  at: number;
  /** Where `at` lies: before the first packet, after the last, or within. */
  position: 'before' | 'within' | 'end' | 'after';
  hosts: HostCensus[];
  counts: Record<string, number>;
}

const STATE_ORDER = Object.keys(SS_NAMES) as TcpStateName[];

/** Sort key for addresses: IPv4 before IPv6, numerically. */
export function addressKey(addr: string): string {
  if (!addr.includes(':')) return '4' + addr.split('.').map((o) => o.padStart(3, '0')).join('.');
  return '6' + addr;
}

function compareEndpoints(a: string, b: string): number {
  const split = (e: string) => {
    const i = e.lastIndexOf(':');
    return [addressKey(e.slice(0, i).replace(/^\[|\]$/g, '')), Number(e.slice(i + 1))] as const;
  };
  const [ha, pa] = split(a);
  const [hb, pb] = split(b);
  return ha < hb ? -1 : ha > hb ? 1 : pa - pb;
}

function countStates(sockets: Socket[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const st of STATE_ORDER) {
    const n = sockets.filter((s) => s.tcpState === st).length;
    if (n > 0) counts[SS_NAMES[st]] = n;
  }
  return counts;
}

export function buildCensus(
  capture: { name: string; path: string; first_ts: number | null; last_ts: number | null },
  at: number,
  flows: FlowAt[],
  listeners: Array<{ addr: string; port: number }>,
): Census {
  // One socket per (host, local, peer): on a reused tuple the later connection is the one alive.
  const byTuple = new Map<string, Socket>();
  const hosts = new Map<string, HostCensus>();
  const host = (addr: string) => {
    let h = hosts.get(addr);
    if (h === undefined) hosts.set(addr, (h = { host: addr, listeners: [], sockets: [], counts: {} }));
    return h;
  };
  for (const f of flows) {
    for (const side of ['client', 'server'] as const) {
      const peerSide = side === 'client' ? 'server' : 'client';
      const addr = f[`${side}_addr`];
      host(addr);
      // No state yet: this connection has no socket on that host yet (its SYN has not been
      // answered), and an earlier connection's socket on the tuple (a TIME_WAIT) stays.
      if (f[`${side}_at`] === null) continue;
      const state = f[`${side}_at`] as TcpStateName;
      const local = formatEndpoint(addr, f[`${side}_port`]);
      const peer = formatEndpoint(f[`${peerSide}_addr`], f[`${peerSide}_port`]);
      const key = `${addr} ${local} ${peer}`;
      if (isGone(state)) byTuple.delete(key);
      else byTuple.set(key, { state: SS_NAMES[state], tcpState: state, local, peer, flowIndex: f.flow_index, side });
    }
  }
  for (const [key, s] of byTuple) host(key.slice(0, key.indexOf(' '))).sockets.push(s);
  for (const l of listeners) host(l.addr).listeners.push(formatEndpoint(l.addr, l.port));
  const list = [...hosts.values()].sort((a, b) => (addressKey(a.host) < addressKey(b.host) ? -1 : 1));
  for (const h of list) {
    h.sockets.sort(
      (a, b) => STATE_ORDER.indexOf(a.tcpState) - STATE_ORDER.indexOf(b.tcpState) || compareEndpoints(a.local, b.local) || compareEndpoints(a.peer, b.peer),
    );
    h.counts = countStates(h.sockets);
  }
  const first = capture.first_ts ?? at;
  const last = capture.last_ts ?? at;
  return {
    capture: { name: capture.name, path: capture.path },
    at,
    position: at < first ? 'before' : at > last ? 'after' : at === last ? 'end' : 'within',
    hosts: list,
    counts: countStates(list.flatMap((h) => h.sockets)),
  };
}

export function filterHosts(c: Census, hostAddr: string): Census {
  const found = c.hosts.filter((h) => h.host === hostAddr);
  const hosts = found.length > 0 ? found : [{ host: hostAddr, listeners: [], sockets: [], counts: {} }];
  return { ...c, hosts, counts: countStates(hosts.flatMap((h) => h.sockets)) };
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const countText = (counts: Record<string, number>) =>
  Object.entries(counts)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');

function table(rows: string[][], c: ChalkInstance): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r, j) => {
    const line = r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ').trimEnd();
    return j === 0 ? c.dim(line) : line;
  });
}

export function renderCensus(census: Census, c: ChalkInstance): string {
  const when = { before: ' (before the capture starts)', within: '', end: ' (end of capture)', after: ' (after the capture ends: states as it left them)' };
  const out = [`${c.bold('Sockets at')} ${formatTime(census.at)}${when[census.position]}  ${c.dim(census.capture.name)}`, ''];
  const empty: string[] = [];
  for (const h of census.hosts) {
    if (h.sockets.length === 0 && h.listeners.length === 0) {
      empty.push(h.host);
      continue;
    }
    const listeners = h.listeners.length > 0 ? `, ${plural(h.listeners.length, 'listener')} inferred` : '';
    const counts = h.sockets.length > 0 ? ` (${countText(h.counts)})` : '';
    out.push(`${c.bold(h.host)}: ${plural(h.sockets.length, 'socket')}${counts}${listeners}`);
    const rows = [['State', 'Local Address:Port', 'Peer Address:Port', '']];
    for (const l of h.listeners) rows.push(['LISTEN', l, '*:*', '(inferred: it answered a SYN)']);
    for (const s of h.sockets) rows.push([s.state, s.local, s.peer, '']);
    out.push(...table(rows, c).map((line, i) => (i > 0 && i <= h.listeners.length ? c.dim(line) : line)), '');
  }
  if (empty.length > 0) out.push(`${c.dim('No socket:')} ${empty.join(', ')}`, '');
  const total = census.hosts.reduce((n, h) => n + h.sockets.length, 0);
  out.push(`Total: ${plural(total, 'socket')}${total > 0 ? ` (${countText(census.counts)})` : ''} on ${plural(census.hosts.length, 'host')}`);
  return out.join('\n') + '\n';
}

/** The JSON form (snake_case like the database). */
export function censusJson(census: Census): Record<string, unknown> {
  return {
    capture: census.capture.name,
    path: census.capture.path,
    at: census.at,
    at_time: formatTime(census.at),
    position: census.position,
    counts: census.counts,
    hosts: census.hosts.map((h) => ({
      host: h.host,
      counts: h.counts,
      listeners: h.listeners.map((l) => ({ local: l, peer: '*:*', inferred: true })),
      sockets: h.sockets.map((s) => ({ state: s.state, tcp_state: s.tcpState, local: s.local, peer: s.peer, flow_index: s.flowIndex, side: s.side })),
    })),
  };
}
