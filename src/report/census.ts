/**
 * `tcpstate census`: what `ss -tan` would have printed on each host at one moment,
 * built from each endpoint's state then, with counts per state as `ss -s` gives them.
 */
import type { ChalkInstance } from 'chalk';
import { formatEndpoint } from '../util/address.js';
import { printable } from '../reader/index.js';
import type { CensusFlow } from '../sink/read.js';
import { SS_NAMES, TcpState, isGone, type TcpStateName } from '../tcp/rfc793/tcp-state.js';
import { formatTime } from './summary.js';
import { append, plural, thousands, widest } from './text.js';

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
  /** Its sockets, sorted by state then address (empty when only counts were asked for: `total` says how many). */
  sockets: Socket[];
  total: number;
  counts: Record<string, number>;
}

/**
 * The SYN-SENT "sockets" of a SYN flood's sources: addresses whose only sockets are SYNs to a
 * listener a syn_flood finding names, sent during its episode and never completed. Such sources
 * are usually spoofed: no host holds these sockets, and they are not counted as hosts.
 */
export interface FloodSources {
  listener: string;
  addresses: number;
  sockets: number;
}

export interface Census {
  capture: { name: string; path: string };
  at: number;
  /** Where `at` lies: before the first packet, after the last, or within. */
  position: 'before' | 'within' | 'end' | 'after';
  /** Hosts holding a socket (or an inferred listener), after the filters. */
  hosts: HostCensus[];
  counts: Record<string, number>;
  /** Addresses seen in the connections kept whose sockets are all closed. */
  noSocket: string[];
  floods: FloodSources[];
  /** The filters applied (for the title), and the host asked for when it is not in the capture. */
  filters: string[];
  unknownHost: string | null;
}

export interface CensusFilter {
  /** Only this host's own sockets (its local address). */
  host?: string;
  /** Sockets with this local or peer port (ss's sport or dport). */
  port?: number;
  /** Only these states (RFC names); LISTEN among them keeps the inferred listeners. */
  states?: TcpStateName[];
}

/** A syn_flood finding's listener and episode, as the database holds it. */
export interface FloodEpisode {
  listener: string;
  start_ts: number;
  end_ts: number;
}

const STATE_ORDER = Object.keys(SS_NAMES) as TcpStateName[];
const STATE_RANK = new Map(STATE_ORDER.map((s, i) => [s, i]));

/** Sort key for addresses: IPv4 before IPv6, numerically. */
export function addressKey(addr: string): string {
  if (!addr.includes(':')) return '4' + addr.split('.').map((o) => o.padStart(3, '0')).join('.');
  return '6' + addr;
}

/** Sort key for an endpoint: its address's key, then its port. */
function endpointKey(addr: string, port: number): string {
  return `${addressKey(addr)}|${String(port).padStart(5, '0')}`;
}

/** The hosts' counts summed, in state order. */
function sumCounts(hosts: HostCensus[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const st of STATE_ORDER) {
    const name = SS_NAMES[st];
    let n = 0;
    for (const h of hosts) n += h.counts[name] ?? 0;
    if (n > 0) out[name] = n;
  }
  return out;
}

function countStates(sockets: ReadonlyArray<{ tcpState: TcpStateName }>): Record<string, number> {
  const n = new Map<TcpStateName, number>();
  for (const s of sockets) n.set(s.tcpState, (n.get(s.tcpState) ?? 0) + 1);
  const counts: Record<string, number> = {};
  for (const st of STATE_ORDER) if (n.has(st)) counts[SS_NAMES[st]] = n.get(st)!;
  return counts;
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export function buildCensus(
  capture: { name: string; path: string; first_ts: number | null; last_ts: number | null },
  at: number,
  flows: CensusFlow[],
  listeners: Array<{ addr: string; port: number }>,
  filter: CensusFilter = {},
  floods: FloodEpisode[] = [],
  /** Only counts per host and state (census --count): no socket is formatted or sorted. */
  countsOnly = false,
): Census {
  // One socket per (host, local, peer): on a reused tuple the later connection is the one alive.
  // Strings to show and sort by are made at the end, only for the sockets listed.
  interface Held {
    addr: string;
    port: number;
    peerAddr: string;
    peerPort: number;
    tcpState: TcpStateName;
    flowIndex: number;
    side: 'client' | 'server';
    flood: string | null;
  }
  const byTuple = new Map<string, Held>();
  /** The (local, peer) ports of every socket put in byTuple. */
  const heldPorts = new Set<number>();
  const seen = new Set<string>();
  const states = filter.states !== undefined && filter.states.length > 0 ? new Set(filter.states) : null;
  // A host asked for by name is shown whatever it looks like; otherwise a flood's sources are grouped.
  const episodes = (filter.host === undefined ? floods : []).map((e) => {
    const at = e.listener.lastIndexOf(':');
    return { ...e, addr: e.listener.slice(0, at).replace(/^\[(.*)\]$/, '$1'), port: Number(e.listener.slice(at + 1)) };
  });
  for (const f of flows) {
    for (let i = 0; i < 2; i++) {
      const side = i === 0 ? 'client' : 'server';
      const addr = i === 0 ? f.client_addr : f.server_addr;
      if (filter.host !== undefined && addr !== filter.host) continue;
      const port = i === 0 ? f.client_port : f.server_port;
      const peerPort = i === 0 ? f.server_port : f.client_port;
      if (filter.port !== undefined && port !== filter.port && peerPort !== filter.port) continue;
      const peerAddr = i === 0 ? f.server_addr : f.client_addr;
      const at = i === 0 ? f.client_at : f.server_at;
      // No state yet: this connection has no socket on that host yet (its SYN has not been
      // answered), and an earlier connection's socket on the tuple (a TIME_WAIT) stays.
      if (at === null) {
        seen.add(addr);
        continue;
      }
      const state = at as TcpStateName;
      const ports = port * 65536 + peerPort;
      if (isGone(state) || (states !== null && !states.has(state))) {
        // An earlier connection's socket on the tuple is gone too (its text made only if one may be there).
        if (heldPorts.has(ports)) byTuple.delete(`${addr} ${port} ${peerAddr} ${peerPort}`);
        seen.add(addr); // (a host with a socket is known anyway)
        continue;
      }
      const tuple = `${addr} ${port} ${peerAddr} ${peerPort}`;
      heldPorts.add(ports);
      let flood: string | null = null;
      if (i === 0 && state === TcpState.SYN_SENT && episodes.length > 0 && isGone((f.server_at ?? TcpState.CLOSED) as TcpStateName)) {
        flood = episodes.find((e) => e.port === peerPort && e.addr === peerAddr && f.first_ts >= e.start_ts && f.first_ts <= e.end_ts)?.listener ?? null;
      }
      byTuple.set(tuple, { addr, port, peerAddr, peerPort, tcpState: state, flowIndex: f.flow_index, side, flood });
    }
  }
  // floodOnly: the flood every socket so far belongs to (null: not all of them; undefined: none yet).
  const hosts = new Map<string, { host: string; listeners: string[]; held: Held[]; floodOnly?: string | null }>();
  const host = (addr: string) => {
    let h = hosts.get(addr);
    if (h === undefined) hosts.set(addr, (h = { host: addr, listeners: [], held: [] }));
    return h;
  };
  for (const s of byTuple.values()) {
    const h = host(s.addr);
    h.held.push(s);
    h.floodOnly = h.floodOnly === undefined || h.floodOnly === s.flood ? s.flood : null;
  }
  if (states === null || states.has(TcpState.LISTEN)) {
    for (const l of listeners) {
      if (filter.host !== undefined && l.addr !== filter.host) continue;
      if (filter.port !== undefined && l.port !== filter.port) continue;
      const h = host(l.addr);
      h.listeners.push(formatEndpoint(l.addr, l.port));
      h.floodOnly = null;
    }
  }
  const floodGroups = new Map<string, FloodSources>();
  const list: HostCensus[] = [];
  for (const h of hosts.values()) {
    if (h.floodOnly) {
      let g = floodGroups.get(h.floodOnly);
      if (g === undefined) floodGroups.set(h.floodOnly, (g = { listener: h.floodOnly, addresses: 0, sockets: 0 }));
      g.addresses++;
      g.sockets += h.held.length;
      continue;
    }
    if (countsOnly) {
      list.push({ host: h.host, listeners: h.listeners, sockets: [], total: h.held.length, counts: countStates(h.held) });
      continue;
    }
    const keyed = h.held.map((s) => ({ s, key: `${String(STATE_RANK.get(s.tcpState)!).padStart(2, '0')} ${endpointKey(s.addr, s.port)} ${endpointKey(s.peerAddr, s.peerPort)}` }));
    keyed.sort((a, b) => cmp(a.key, b.key));
    const sockets = keyed.map(({ s }) => ({
      state: SS_NAMES[s.tcpState],
      tcpState: s.tcpState,
      local: formatEndpoint(s.addr, s.port),
      peer: formatEndpoint(s.peerAddr, s.peerPort),
      flowIndex: s.flowIndex,
      side: s.side,
    }));
    list.push({ host: h.host, listeners: h.listeners, sockets, total: sockets.length, counts: countStates(sockets) });
  }
  const keys = new Map(list.map((h) => [h.host, addressKey(h.host)]));
  list.sort((a, b) => cmp(keys.get(a.host)!, keys.get(b.host)!));
  const noSocket = [...seen].filter((a) => !hosts.has(a)).sort((a, b) => cmp(addressKey(a), addressKey(b)));
  const first = capture.first_ts ?? at;
  const last = capture.last_ts ?? at;
  const filters = [
    filter.host !== undefined ? `host ${filter.host}` : null,
    filter.port !== undefined ? `port ${filter.port}` : null,
    states !== null ? `state ${[...states].map((s) => SS_NAMES[s]).join(', ')}` : null,
  ].filter((x): x is string => x !== null);
  return {
    capture: { name: capture.name, path: capture.path },
    at,
    position: at < first ? 'before' : at > last ? 'after' : at === last ? 'end' : 'within',
    hosts: list,
    counts: sumCounts(list),
    noSocket,
    floods: [...floodGroups.values()],
    filters,
    unknownHost: filter.host !== undefined && !seen.has(filter.host) && list.length === 0 ? filter.host : null,
  };
}

const countText = (counts: Record<string, number>) =>
  Object.entries(counts)
    .map(([k, n]) => `${k} ${thousands(n)}`)
    .join(', ');

function table(rows: string[][], c: ChalkInstance): string[] {
  const widths = rows[0].map((_, i) => widest(rows, i));
  return rows.map((r, j) => {
    const line = r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ').trimEnd();
    return j === 0 ? c.dim(line) : line;
  });
}

/** Addresses listed one by one up to this many; past it, counted. */
const NO_SOCKET_LISTED = 20;

/** `countsOnly`: per host its sockets by state, no rows (as `ss -s` sums them up). */
export function renderCensus(census: Census, c: ChalkInstance, countsOnly = false): string {
  const when = { before: ' (before the capture starts)', within: '', end: ' (end of capture)', after: ' (after the capture ends: states as it left them)' };
  const filters = census.filters.length > 0 ? `  ${census.filters.join('; ')}` : '';
  const out = [`${c.bold('Sockets at')} ${formatTime(census.at)}${when[census.position]}  ${c.dim(printable(census.capture.name))}${filters}`, ''];
  if (countsOnly && census.hosts.length > 0) {
    let width = 0;
    for (const h of census.hosts) width = Math.max(width, h.host.length + 1);
    for (const h of census.hosts) {
      const listeners = h.listeners.length > 0 ? `, ${plural(h.listeners.length, 'listener')} inferred` : '';
      const counts = h.total > 0 ? ` (${countText(h.counts)})` : '';
      out.push(`${`${h.host}:`.padEnd(width)}  ${plural(h.total, 'socket')}${counts}${listeners}`);
    }
    out.push('');
  }
  for (const h of countsOnly ? [] : census.hosts) {
    const listeners = h.listeners.length > 0 ? `, ${plural(h.listeners.length, 'listener')} inferred` : '';
    const counts = h.total > 0 ? ` (${countText(h.counts)})` : '';
    out.push(`${c.bold(h.host)}: ${plural(h.total, 'socket')}${counts}${listeners}`);
    const rows = [['State', 'Local Address:Port', 'Peer Address:Port', '']];
    for (const l of h.listeners) rows.push(['LISTEN', l, '*:*', '(inferred: it answered a SYN)']);
    for (const s of h.sockets) rows.push([s.state, s.local, s.peer, '']);
    append(out, table(rows, c).map((line, i) => (i > 0 && i <= h.listeners.length ? c.dim(line) : line)));
    out.push('');
  }
  if (census.unknownHost !== null) out.push(`${c.dim('No socket:')} ${census.unknownHost} (no connection of this capture has it)`, '');
  else if (census.noSocket.length > 0) {
    const why = census.filters.length > 0 ? 'with no socket the filters keep' : 'seen in connections whose sockets are all closed';
    const list = census.noSocket.length <= NO_SOCKET_LISTED ? census.noSocket.join(', ') : `${thousands(census.noSocket.length)} addresses ${why}`;
    out.push(`${c.dim(census.filters.length > 0 ? 'No socket kept:' : 'No socket:')} ${list}`, '');
  }
  for (const f of census.floods) {
    out.push(
      `${c.yellow('SYN flood')} on ${f.listener}: ${plural(f.sockets, 'SYN-SENT attempt')} from ${thousands(f.addresses)} source address${f.addresses === 1 ? '' : 'es'} left out: the sources of a flood are usually spoofed, no host holds these sockets (tcpstate anomalies --kind syn_flood)`,
      '',
    );
  }
  const total = census.hosts.reduce((n, h) => n + h.total, 0);
  out.push(`Total: ${plural(total, 'socket')}${total > 0 ? ` (${countText(census.counts)})` : ''} on ${plural(census.hosts.length, 'host')}`);
  return out.join('\n') + '\n';
}

/** The JSON form (snake_case like the database). */
/** `countsOnly`: hosts with their counts and listeners, no socket list. */
export function censusJson(census: Census, countsOnly = false): Record<string, unknown> {
  return {
    capture: census.capture.name,
    path: census.capture.path,
    at: census.at,
    at_time: formatTime(census.at),
    position: census.position,
    counts: census.counts,
    filters: census.filters,
    flood_sources: census.floods,
    no_socket: census.noSocket.length,
    hosts: census.hosts.map((h) => ({
      host: h.host,
      counts: h.counts,
      listeners: h.listeners.map((l) => ({ local: l, peer: '*:*', inferred: true })),
      ...(countsOnly
        ? { sockets: h.total }
        : { sockets: h.sockets.map((s) => ({ state: s.state, tcp_state: s.tcpState, local: s.local, peer: s.peer, flow_index: s.flowIndex, side: s.side })) }),
    })),
  };
}
