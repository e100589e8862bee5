// Turn a readable description of one TCP conversation into captured packets.
//
// A conversation is a list of steps in the order the two hosts act on them:
//   { from: 'client', flags: 'S' }                 SYN with the default SYN options
//   { from: 'server', flags: 'SA' }                SYN-ACK
//   { from: 'client', flags: 'PA', len: 100 }      100 bytes of data
// seq and ack are computed from each side's state: SYN and FIN consume one
// sequence number, data consumes its length, a segment is acknowledged once
// the peer has received it.  Everything can be overridden per step.
//
// Sequence numbers are kept internally relative to each side's ISN (like
// Wireshark's "relative sequence numbers": the SYN is 0, the first data byte 1),
// unbounded, and wrapped mod 2^32 only on the wire.

import {
  ETHERTYPE,
  IPPROTO_TCP,
  TCP_FLAG,
  ipv4,
  ipv6,
  parseFlags,
  parseIPv4,
  parseIPv6,
  patternBytes,
  tcp,
  tcpOptions,
  type TcpOptions,
} from './writer.js';

export type Side = 'client' | 'server';

export type TcpState =
  | 'CLOSED'
  | 'LISTEN'
  | 'SYN_SENT'
  | 'SYN_RECEIVED'
  | 'ESTABLISHED'
  | 'FIN_WAIT_1'
  | 'FIN_WAIT_2'
  | 'CLOSE_WAIT'
  | 'CLOSING'
  | 'LAST_ACK'
  | 'TIME_WAIT';

export interface SynOptions {
  mss?: number;
  ws?: number;
  sackOk?: boolean;
  ts?: boolean;
}

export interface Step {
  /** '+0.010' = seconds after the previous step; '3.5' = seconds after the conversation start.
   *  Default: +rtt when the server answers the client (capture is at the client), +0.0001 when
   *  the client answers the server, +0.00001 for back-to-back segments from one side. */
  t?: string;
  from: Side;
  /** Letters F S R P A U E C, e.g. 'S', 'SA', 'A', 'PA', 'FA', 'R', 'RA'. */
  flags: string;
  /** Payload length (default 0). */
  len?: number;
  /** Wire sequence number (absolute), or relative to the sender's ISN. */
  seq?: number;
  rseq?: number;
  /** Wire acknowledgement number (absolute), or relative to the peer's ISN. */
  ack?: number;
  rack?: number;
  /** Raw 16-bit window field (default 64240 unscaled, 502 with window scale 7, 0 on a RST without ACK). */
  win?: number;
  /** Options of a SYN / SYN-ACK (default: the conversation's synOpts). */
  opts?: SynOptions;
  /** Captured, but never reaches the peer. */
  lost?: boolean;
  /** Reaches the peer (unless lost) but is not in the capture (default true). */
  captured?: boolean;
  /** In flight while the peer sends its next segment: the peer only receives it afterwards. */
  crosses?: boolean;
  /** Capture-time delay after the step's time, e.g. '+0.000120'; the file is ordered by capture time. */
  seen?: string;
}

export interface Conversation {
  /** Fixes the random-looking values (ISNs, port, IP IDs, TS clocks). Twins share a seed. */
  seed: string;
  /** ISO 8601 UTC with up to 9 fractional digits, e.g. '2025-03-14T09:26:53.123456789Z'. */
  start: string;
  family?: 4 | 6;
  /** Round-trip time as seen from the capture point at the client (default '0.020'). */
  rtt?: string;
  /** Override the ISNs (wire values). */
  isn?: { client?: number; server?: number };
  /** The capture starts mid-connection: both sides are already synchronized. */
  midstream?: boolean;
  /** Default SYN/SYN-ACK options (also assumed for a midstream connection). */
  synOpts?: SynOptions;
  steps: Step[];
}

export const ADDRESSES = {
  4: { client: '192.0.2.10', server: '192.0.2.20' },
  6: { client: '2001:db8::10', server: '2001:db8::20' },
} as const;
export const MACS = { client: '02:42:c0:00:02:0a', server: '02:42:c0:00:02:14' } as const;
export const SERVER_PORT = 80;

/** One TCP/IP packet of the conversation, as captured. */
export interface Segment {
  tsNs: bigint;
  from: Side;
  etherType: number;
  ip: Uint8Array;
  seq: number;
  ack: number;
  flags: number;
  len: number;
}

export interface Endpoint {
  ip: string;
  port: number;
}

export interface ConversationResult {
  client: Endpoint;
  server: Endpoint;
  isn: { client: number; server: number };
  segments: Segment[];
}

// ---------------------------------------------------------------- deterministic "randomness"

/** FNV-1a 32-bit of the text. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (const c of new TextEncoder().encode(text)) h = Math.imul(h ^ c, 0x01000193) >>> 0;
  return h;
}

const nonZero = (n: number) => n || 0x5eed;

// ---------------------------------------------------------------- time

/** '2025-03-14T09:26:53.123456789Z' -> nanoseconds since the epoch. */
export function parseStart(iso: string): bigint {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/.exec(iso);
  if (!m) throw new Error(`bad start time ${iso}`);
  return BigInt(Date.parse(m[1] + 'Z')) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

/** '0.020' -> 20_000_000n nanoseconds (up to 9 fractional digits). */
export function parseSeconds(s: string): bigint {
  const m = /^(\d+)(?:\.(\d{1,9}))?$/.exec(s);
  if (!m) throw new Error(`bad seconds ${s}`);
  return BigInt(m[1]) * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

// ---------------------------------------------------------------- per-side state

interface Delivery {
  start: number; // relative to the sender's ISN
  end: number;
  tsVal?: number;
}

interface SideState {
  isn: number;
  nxt: number; // next relative sequence number to send
  finAt?: number; // relative sequence number of our FIN
  syn?: SynOptions; // options we sent in our SYN
  tsBase: number;
  ipId: number;
  // receive side, in the peer's relative sequence space
  rcvKnown: boolean;
  rcvNxt: number;
  ooo: Array<[number, number]>; // out-of-order ranges held, most recent first
  tsRecent: number;
  pending: Delivery[]; // segments that cross our next one
}

const wrap = (n: number) => ((n % 0x100000000) + 0x100000000) % 0x100000000;

function newSide(isn: number, tsBase: number, ipId: number, midstream: boolean): SideState {
  return {
    isn,
    nxt: midstream ? 1 : 0,
    tsBase,
    ipId,
    rcvKnown: midstream,
    rcvNxt: midstream ? 1 : 0,
    ooo: [],
    tsRecent: 0,
    pending: [],
  };
}

function receive(rx: SideState, d: Delivery): void {
  if (d.tsVal !== undefined) rx.tsRecent = d.tsVal;
  if (d.end === d.start) return;
  if (!rx.rcvKnown) {
    if (d.start !== 0) return; // nothing synchronizes before the peer's SYN
    rx.rcvKnown = true;
  }
  if (d.start > rx.rcvNxt) {
    // out of order: hold it (merged with what it touches) as the most recent SACK block
    const touching = rx.ooo.filter(([s, e]) => s <= d.end && e >= d.start);
    const merged: [number, number] = [Math.min(d.start, ...touching.map((r) => r[0])), Math.max(d.end, ...touching.map((r) => r[1]))];
    rx.ooo = [merged, ...rx.ooo.filter((r) => !touching.includes(r))];
    return;
  }
  rx.rcvNxt = Math.max(rx.rcvNxt, d.end);
  for (let r = rx.ooo.find(([s]) => s <= rx.rcvNxt); r; r = rx.ooo.find(([s]) => s <= rx.rcvNxt)) {
    rx.rcvNxt = Math.max(rx.rcvNxt, r[1]);
    rx.ooo = rx.ooo.filter((x) => x !== r);
  }
}

// ---------------------------------------------------------------- the conversation

export function runConversation(conv: Conversation): ConversationResult {
  const family = conv.family ?? 4;
  const seed = conv.seed;
  const midstream = conv.midstream ?? false;
  const startNs = parseStart(conv.start);
  const rtt = parseSeconds(conv.rtt ?? '0.020');
  const defaults: SynOptions = conv.synOpts ?? { mss: family === 4 ? 1460 : 1440, sackOk: true, ts: true, ws: 7 };

  const client: Endpoint = { ip: ADDRESSES[family].client, port: 49152 + (hash32(seed + '/port') % 16000) };
  const server: Endpoint = { ip: ADDRESSES[family].server, port: SERVER_PORT };
  const sides: Record<Side, SideState> = {
    client: newSide(
      conv.isn?.client ?? nonZero(hash32(seed + '/isn/client')),
      hash32(seed + '/ts/client'),
      hash32(seed + '/id/client') & 0xffff,
      midstream,
    ),
    server: newSide(
      conv.isn?.server ?? nonZero(hash32(seed + '/isn/server')),
      hash32(seed + '/ts/server'),
      hash32(seed + '/id/server') & 0xffff,
      midstream,
    ),
  };
  if (midstream) sides.client.syn = sides.server.syn = defaults;
  const ip = (s: Side) => (family === 4 ? parseIPv4(ADDRESSES[4][s]) : parseIPv6(ADDRESSES[6][s]));
  const offered = (o: SynOptions | undefined, k: keyof SynOptions) => o !== undefined && o[k] !== undefined && o[k] !== false;
  const both = (k: keyof SynOptions) => offered(sides.client.syn, k) && offered(sides.server.syn, k);

  const out: Array<Segment & { order: number }> = [];
  let now = startNs;
  let prev: Side | undefined;

  conv.steps.forEach((step, order) => {
    const me = sides[step.from];
    const peerName: Side = step.from === 'client' ? 'server' : 'client';
    const peer = sides[peerName];
    const flags = parseFlags(step.flags);
    const has = (f: number) => (flags & f) !== 0;
    const len = step.len ?? 0;

    // time
    if (step.t === undefined) {
      if (prev === undefined) now = startNs;
      else if (prev === step.from) now += 10_000n;
      else now += step.from === 'server' ? rtt : 100_000n;
    } else if (step.t.startsWith('+')) now += parseSeconds(step.t.slice(1));
    else now = startNs + parseSeconds(step.t);
    prev = step.from;

    // sequence number (relative to our ISN)
    let rel: number;
    if (step.seq !== undefined) rel = wrap(step.seq - me.isn);
    else if (step.rseq !== undefined) rel = step.rseq;
    else if (has(TCP_FLAG.SYN)) rel = 0;
    else if (has(TCP_FLAG.FIN) && me.finAt !== undefined) rel = me.finAt - len; // FIN retransmission
    else rel = me.nxt;
    const end = rel + (has(TCP_FLAG.SYN) ? 1 : 0) + len + (has(TCP_FLAG.FIN) ? 1 : 0);

    // options
    const o: TcpOptions = {};
    const tsMs = Number((now - startNs) / 1_000_000n);
    const tsVal = wrap(me.tsBase + tsMs);
    if (has(TCP_FLAG.SYN)) {
      let syn = step.opts ?? defaults;
      if (has(TCP_FLAG.ACK) && !step.opts && peer.syn) {
        // a SYN-ACK only echoes what the SYN offered
        syn = { mss: syn.mss, ws: peer.syn.ws === undefined ? undefined : syn.ws, sackOk: syn.sackOk && peer.syn.sackOk, ts: syn.ts && peer.syn.ts };
      }
      me.syn = syn;
      if (syn.mss !== undefined) o.mss = syn.mss;
      if (syn.sackOk) o.sackOk = true;
      if (syn.ts) o.ts = { val: tsVal, ecr: has(TCP_FLAG.ACK) ? me.tsRecent : 0 };
      if (syn.ws !== undefined) o.ws = syn.ws;
    } else if (!has(TCP_FLAG.RST) || has(TCP_FLAG.ACK)) {
      if (both('ts')) o.ts = { val: tsVal, ecr: me.tsRecent };
      if (both('sackOk') && has(TCP_FLAG.ACK) && me.ooo.length) {
        o.sack = me.ooo.slice(0, o.ts ? 3 : 4).map(([s, e]) => [wrap(peer.isn + s), wrap(peer.isn + e)]);
      }
    }

    // acknowledgement and window
    let ack = 0;
    if (has(TCP_FLAG.ACK)) {
      if (step.ack !== undefined) ack = step.ack;
      else ack = wrap(peer.isn + (step.rack ?? me.rcvNxt));
    }
    const scaled = !has(TCP_FLAG.SYN) && both('ws');
    const win = step.win ?? (has(TCP_FLAG.RST) && !has(TCP_FLAG.ACK) ? 0 : scaled ? Math.floor(64256 / 2 ** (me.syn?.ws ?? 0)) : 64240);

    const seq = wrap(me.isn + rel);
    const segment = tcp(
      {
        srcPort: step.from === 'client' ? client.port : server.port,
        dstPort: step.from === 'client' ? server.port : client.port,
        seq,
        ack,
        flags,
        window: win,
        options: tcpOptions(o),
        payload: patternBytes(len, rel - 1, step.from === 'client' ? 0x61 : 0x41),
      },
      ip(step.from),
      ip(peerName),
    );
    const ttl = step.from === 'client' ? 64 : 52; // the capture is next to the client
    const packet =
      family === 4
        ? ipv4(ip(step.from), ip(peerName), IPPROTO_TCP, segment, { id: me.ipId, ttl, df: true })
        : ipv6(ip(step.from), ip(peerName), IPPROTO_TCP, segment, { hopLimit: ttl, flowLabel: hash32(seed + '/flow/' + step.from) & 0xfffff });
    me.ipId = (me.ipId + 1) & 0xffff;

    // our own bookkeeping, then what we had in flight towards us, then the peer's reception
    me.nxt = Math.max(me.nxt, end);
    if (has(TCP_FLAG.FIN)) me.finAt = rel + len + (has(TCP_FLAG.SYN) ? 1 : 0);
    for (const d of me.pending.splice(0)) receive(me, d);
    if (!step.lost && !has(TCP_FLAG.RST)) {
      const d: Delivery = { start: rel, end, tsVal: o.ts?.val };
      if (step.crosses) peer.pending.push(d);
      else receive(peer, d);
    }

    if (step.captured !== false) {
      out.push({
        tsNs: now + (step.seen ? parseSeconds(step.seen.replace(/^\+/, '')) : 0n),
        from: step.from,
        etherType: family === 4 ? ETHERTYPE.IPV4 : ETHERTYPE.IPV6,
        ip: packet,
        seq,
        ack,
        flags,
        len,
        order,
      });
    }
  });

  out.sort((a, b) => (a.tsNs < b.tsNs ? -1 : a.tsNs > b.tsNs ? 1 : a.order - b.order));
  return {
    client,
    server,
    isn: { client: sides.client.isn, server: sides.server.isn },
    segments: out.map(({ order: _order, ...s }) => s),
  };
}
