/**
 * The benchmark's capture: a deterministic (seeded, no Math.random) little-endian µs pcap of
 * Ethernet/IPv4/TCP as seen on the link of a server farm, with valid IPv4 and TCP checksums.
 *
 * - Short request/response connections from 508 clients (198.51.100.0/24, 203.0.113.0/24) to 32
 *   servers (192.0.2.10-41, ports 443 and 8443): handshake, one or more requests and responses,
 *   delayed ACKs, and an end by FIN from either side (some keep-alive idle for seconds), RST from
 *   either side, refused SYNs, SYN-ACKs lost and SYNs retransmitted, a few left in CLOSE_WAIT.
 * - Bulk downloads from 192.0.2.100-103:443 of 100 KB to 1 MB in MSS-sized segments with random
 *   loss past the capture point: the receiver ACKs every second segment and sends duplicate ACKs
 *   for what arrives out of order, the sender retransmits after three of them (NewReno partial
 *   ACKs) or on a retransmission timeout.
 * - One SYN flood from spoofed sources (10.0.0.0/8) to 192.0.2.80:80, a quarter of which the
 *   listener answers (SYN-ACKs nobody acknowledges).
 *
 * Connections start at a constant rate over 100 s per unit of `scale`, so a capture `scale` times
 * longer has the same concurrency; the flood happens once, 20 s in. Packets are merged by time
 * (non-decreasing microseconds) from all the connections alive, through a heap.
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';

export interface MixOptions {
  /** Length in units of 100 s of traffic (150,000 short connections, 100 bulk transfers each). */
  scale: number;
  /** Spoofed SYNs of the flood (once per capture); 0 for none. */
  floodSyns: number;
  seed: number;
  /** Also compute the file's SHA-256 (costs about a second per 300 MB). */
  hash?: boolean;
  /** IPv6 headers instead of IPv4: each address becomes 2001:db8::a.b.c.d, the TCP segments are the same. */
  ipv6?: boolean;
}

export const DEFAULT_MIX: MixOptions = { scale: 1, floodSyns: 150_000, seed: 8 };

export interface CaptureStats {
  packets: number;
  bytes: number;
  /** TCP connections opened by real clients (short and bulk). */
  connections: number;
  shortConnections: number;
  bulkTransfers: number;
  floodSyns: number;
  /** Data segments the bulk senders sent again. */
  retransmissions: number;
  /** Most connections alive (started, not yet at their last packet) at once. */
  peakConcurrent: number;
  durationS: number;
  sha256: string | null;
}

const UNIT_US = 100_000_000;
const SHORT_PER_UNIT = 150_000;
const BULK_PER_UNIT = 100;
const T0 = 1_763_700_000_000_000; // 2025-11-21, µs
const MSS = 1460;

const FIN = 0x01;
const SYN = 0x02;
const RST = 0x04;
const PSH = 0x08;
const ACK = 0x10;

/** mulberry32: small, fast, and the same on every machine. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  u32(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  float(): number {
    return this.u32() / 4294967296;
  }
  /** An integer in [lo, hi). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo));
  }
  chance(p: number): boolean {
    return this.float() < p;
  }
  logUniform(lo: number, hi: number): number {
    return lo * Math.pow(hi / lo, this.float());
  }
}

const ip4 = (a: number, b: number, c: number, d: number) => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;

/** The low 32 bits of a locally administered MAC 02:00:xx:xx:xx:xx (the high 16 bits are 0x0200). */
const ROUTER_MAC = 0x5e0000fe;

interface Host {
  ip: number;
  /** Its MAC on the captured link: its own for the servers, the router's for remote hosts. */
  mac: number;
  ttl: number;
  ipId: number;
  /** Round-trip time from the capture point, µs (clients). */
  rtt: number;
  nextPort: number;
}

/** A payload pattern and prefix sums of its 16-bit words, so a payload's checksum costs O(1). */
const PATTERN_SPAN = 4096;
const PATTERN = Buffer.alloc(PATTERN_SPAN + MSS + 2);
const PREFIX = new Float64Array(PATTERN.length / 2 + 1);
{
  const rng = new Rng(0x7c9);
  for (let i = 0; i < PATTERN.length; i++) PATTERN[i] = rng.u32() & 0xff;
  for (let w = 0; w < PATTERN.length / 2; w++) PREFIX[w + 1] = PREFIX[w] + ((PATTERN[2 * w] << 8) | PATTERN[2 * w + 1]);
}
function payloadSum(off: number, len: number): number {
  const even = len & ~1;
  let s = PREFIX[(off + even) >> 1] - PREFIX[off >> 1];
  if (len & 1) s += PATTERN[off + len - 1] << 8;
  return s;
}
function fold(s: number): number {
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 65536);
  return s;
}

/** Writes pcap records into a large buffer, flushed to the file when full. */
class PcapWriter {
  private readonly fd: number;
  private readonly buf = Buffer.alloc(8 << 20);
  private readonly dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  private o = 0;
  private lastT = 0;
  private readonly hash: Hash | null;
  packets = 0;
  bytes = 24;

  constructor(
    path: string,
    hash: boolean,
    private readonly ipv6 = false,
  ) {
    this.fd = openSync(path, 'w');
    this.hash = hash ? createHash('sha256') : null;
    const h = this.buf;
    h.fill(0, 0, 24);
    h.writeUInt32LE(0xa1b2c3d4, 0);
    h.writeUInt16LE(2, 4);
    h.writeUInt16LE(4, 6);
    h.writeUInt32LE(262144, 16);
    h.writeUInt32LE(1, 20);
    this.o = 24;
  }

  packet(t: number, src: Host, dst: Host, sport: number, dport: number, flags: number, seq: number, ack: number, win: number, len: number, mss: boolean, payOff: number): void {
    if (t < this.lastT) throw new Error(`time goes back: ${t} after ${this.lastT}`);
    this.lastT = t;
    const opt = mss ? 4 : 0;
    const tcpLen = 20 + opt + len;
    const ipLen = (this.ipv6 ? 40 : 20) + tcpLen;
    const frame = 14 + ipLen;
    if (this.o + 16 + frame > this.buf.length) this.flush();
    const b = this.buf;
    const v = this.dv;
    const o = this.o;
    const abs = T0 + t;
    v.setUint32(o, Math.floor(abs / 1e6), true);
    v.setUint32(o + 4, abs % 1e6, true);
    v.setUint32(o + 8, frame, true);
    v.setUint32(o + 12, frame, true);
    const f = o + 16;
    v.setUint16(f, 0x0200);
    v.setUint32(f + 2, dst.mac);
    v.setUint16(f + 6, 0x0200);
    v.setUint32(f + 8, src.mac);
    const ip = f + 14;
    const s = src.ip;
    const d = dst.ip;
    let addrs = (s >>> 16) + (s & 0xffff) + (d >>> 16) + (d & 0xffff);
    let tcp: number;
    if (this.ipv6) {
      // 2001:db8::a.b.c.d for both; the pseudo-header's addresses add 2001 and 0db8 twice.
      v.setUint16(f + 12, 0x86dd);
      v.setUint32(ip, 0x60000000);
      v.setUint16(ip + 4, tcpLen);
      v.setUint16(ip + 6, (6 << 8) | src.ttl);
      for (const [at, a] of [[ip + 8, s], [ip + 24, d]]) {
        v.setUint32(at, 0x20010db8);
        v.setUint32(at + 4, 0);
        v.setUint32(at + 8, 0);
        v.setUint32(at + 12, a);
      }
      addrs += 2 * (0x2001 + 0x0db8);
      tcp = ip + 40;
    } else {
      v.setUint16(f + 12, 0x0800);
      const ipId = (src.ipId = (src.ipId + 1) & 0xffff);
      v.setUint16(ip, 0x4500);
      v.setUint16(ip + 2, ipLen);
      v.setUint16(ip + 4, ipId);
      v.setUint16(ip + 6, 0x4000);
      v.setUint16(ip + 8, (src.ttl << 8) | 6);
      v.setUint16(ip + 10, ~fold(0x4500 + ipLen + ipId + 0x4000 + ((src.ttl << 8) | 6) + addrs) & 0xffff);
      v.setUint32(ip + 12, s);
      v.setUint32(ip + 16, d);
      tcp = ip + 20;
    }
    const off = (((20 + opt) >> 2) << 12) | flags;
    v.setUint16(tcp, sport);
    v.setUint16(tcp + 2, dport);
    v.setUint32(tcp + 4, seq);
    v.setUint32(tcp + 8, ack);
    v.setUint16(tcp + 12, off);
    v.setUint16(tcp + 14, win);
    v.setUint32(tcp + 16, 0);
    let sum = addrs + 6 + tcpLen + sport + dport + (seq >>> 16) + (seq & 0xffff) + (ack >>> 16) + (ack & 0xffff) + off + win;
    if (mss) {
      v.setUint32(tcp + 20, 0x02040000 | MSS);
      sum += 0x0204 + MSS;
    }
    if (len > 0) {
      PATTERN.copy(b, tcp + 20 + opt, payOff, payOff + len);
      sum += payloadSum(payOff, len);
    }
    v.setUint16(tcp + 16, ~fold(sum) & 0xffff);
    this.o = o + 16 + frame;
    this.packets++;
    this.bytes += 16 + frame;
  }

  flush(): void {
    this.hash?.update(this.buf.subarray(0, this.o));
    for (let w = 0; w < this.o; ) w += writeSync(this.fd, this.buf, w, this.o - w);
    this.o = 0;
  }

  close(): string | null {
    this.flush();
    // On disk before anything is timed: no writeback competes with the measurements.
    fsyncSync(this.fd);
    closeSync(this.fd);
    return this.hash?.digest('hex') ?? null;
  }
}

/** One packet of a connection, from the client or from the server. */
interface Pkt {
  t: number;
  c: boolean;
  flags: number;
  seq: number;
  ack: number;
  len: number;
  mss: boolean;
}

interface Item {
  /** Time of its next packet (or connection start); Infinity when done. */
  t: number;
  step(g: Generator): void;
}

class Conn implements Item {
  t: number;
  private i = 0;
  constructor(
    private readonly pkts: Pkt[],
    private readonly client: Host,
    private readonly server: Host,
    private readonly cport: number,
    private readonly sport: number,
    private readonly payOff: number,
  ) {
    // Sorted by time; the sort is stable, so packets of the same microsecond keep their order.
    pkts.sort((a, b) => a.t - b.t);
    this.t = pkts[0].t;
  }
  step(g: Generator): void {
    const p = this.pkts[this.i++];
    if (p.c) g.w.packet(p.t, this.client, this.server, this.cport, this.sport, p.flags, p.seq, p.ack, 64240, p.len, p.mss, this.payOff);
    else g.w.packet(p.t, this.server, this.client, this.sport, this.cport, p.flags, p.seq, p.ack, 65535, p.len, p.mss, this.payOff);
    if (this.i < this.pkts.length) this.t = this.pkts[this.i].t;
    else {
      this.t = Infinity;
      g.live--;
    }
  }
}

/** Min-heap of items by time. */
class Heap<T extends { t: number }> {
  readonly a: T[] = [];
  get size(): number {
    return this.a.length;
  }
  push(x: T): void {
    const a = this.a;
    let i = a.length;
    a.push(x);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p].t <= x.t) break;
      a[i] = a[p];
      i = p;
    }
    a[i] = x;
  }
  pop(): T {
    const a = this.a;
    const top = a[0];
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      this.down();
    }
    return top;
  }
  /** The top's time grew: move it down to its place. */
  down(): void {
    const a = this.a;
    const x = a[0];
    const n = a.length;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && a[c + 1].t < a[c].t) c++;
      if (a[c].t >= x.t) break;
      a[i] = a[c];
      i = c;
    }
    a[i] = x;
  }
}

class Generator {
  readonly rng: Rng;
  readonly w: PcapWriter;
  readonly heap = new Heap<Item>();
  readonly clients: Host[] = [];
  readonly servers: Host[] = [];
  readonly bulkServers: Host[] = [];
  readonly listener: Host;
  live = 0;
  peakLive = 0;
  retransmissions = 0;

  constructor(path: string, seed: number, hash: boolean, ipv6: boolean) {
    this.rng = new Rng(seed);
    this.w = new PcapWriter(path, hash, ipv6);
    const rng = this.rng;
    for (const net of [ip4(198, 51, 100, 0), ip4(203, 0, 113, 0)]) {
      for (let h = 1; h <= 254; h++) {
        // Clients near and far: 0.5 ms to 200 ms away, ephemeral ports from a random start.
        const rtt = Math.round(rng.logUniform(500, 200_000));
        const ttl = (rng.chance(0.7) ? 64 : 128) - rng.int(3, 20);
        this.clients.push({ ip: (net | h) >>> 0, mac: ROUTER_MAC, ttl, ipId: rng.int(0, 65536), rtt, nextPort: rng.int(32768, 45000) });
      }
    }
    const local = (h: number): Host => ({ ip: ip4(192, 0, 2, h), mac: (0xc0000200 | h) >>> 0, ttl: 64, ipId: rng.int(0, 65536), rtt: 0, nextPort: 0 });
    for (let h = 10; h < 42; h++) this.servers.push(local(h));
    for (let h = 100; h < 104; h++) this.bulkServers.push(local(h));
    this.listener = local(80);
  }

  add(item: Item): void {
    this.heap.push(item);
  }

  start(conn: Conn): void {
    this.heap.push(conn);
    if (++this.live > this.peakLive) this.peakLive = this.live;
  }

  run(): void {
    const heap = this.heap;
    while (heap.size > 0) {
      // Items pushed by a step start no earlier than it, so the top stays the top: re-key it in place.
      const item = heap.a[0];
      item.step(this);
      if (item.t === Infinity) heap.pop();
      else heap.down();
    }
  }

  port(client: Host): number {
    const p = client.nextPort;
    client.nextPort = p >= 60999 ? 32768 : p + 1;
    return p;
  }
}

/** Starts `count` connections over `span` µs from `from`: one in each equal slot, at a random time in it. */
class Arrivals implements Item {
  t: number;
  private i = 0;
  constructor(
    private readonly count: number,
    private readonly from: number,
    private readonly span: number,
    private readonly rng: Rng,
    private readonly make: (g: Generator, t: number) => Conn,
  ) {
    this.t = this.at(0);
  }
  private at(i: number): number {
    return Math.floor(this.from + ((i + this.rng.float()) * this.span) / this.count);
  }
  step(g: Generator): void {
    g.start(this.make(g, this.t));
    this.i++;
    this.t = this.i < this.count ? Math.max(this.t, this.at(this.i)) : Infinity;
  }
}

/** Spoofed SYNs at about 50,000 a second: each from its own random 10.x.y.z and port. */
class Flood implements Item {
  t: number;
  private sent = 0;
  private readonly spoofed: Host = { ip: 0, mac: ROUTER_MAC, ttl: 64, ipId: 0, rtt: 0, nextPort: 0 };
  constructor(
    private readonly count: number,
    start: number,
  ) {
    this.t = start;
  }
  step(g: Generator): void {
    const rng = g.rng;
    const s = this.spoofed;
    s.ip = (0x0a000000 | rng.int(1, 0xffffff)) >>> 0;
    s.ttl = rng.int(40, 250);
    s.ipId = rng.int(0, 65536);
    const port = rng.int(1024, 65536);
    const isn = rng.u32();
    g.w.packet(this.t, s, g.listener, port, 80, SYN, isn, 0, 1024 * rng.int(1, 64), 0, rng.chance(0.5), 0);
    if (rng.chance(0.25)) {
      // The listener answers (its backlog has room): a SYN-ACK to nobody.
      const synAck: Pkt = { t: this.t + rng.int(10, 60), c: false, flags: SYN | ACK, seq: rng.u32(), ack: (isn + 1) >>> 0, len: 0, mss: true };
      g.start(new Conn([synAck], { ...s, mac: ROUTER_MAC }, g.listener, port, 80, 0));
    }
    this.sent++;
    this.t = this.sent < this.count ? this.t + Math.max(1, Math.round(-Math.log(1 - rng.float()) * 20)) : Infinity;
  }
}

/** Server processing delay before an immediate answer, µs. */
const srv = (rng: Rng) => rng.int(15, 80);

function shortConn(g: Generator, t0: number): Conn {
  const rng = g.rng;
  const client = g.clients[rng.int(0, g.clients.length)];
  const server = g.servers[rng.int(0, g.servers.length)];
  const r = rng.float();
  const sport = r < 0.8 ? 443 : 8443;
  const cport = g.port(client);
  const rtt = Math.round(client.rtt * (0.9 + 0.2 * rng.float()));
  const P: Pkt[] = [];
  const C = (t: number, flags: number, seq: number, ack: number, len = 0, mss = false) => P.push({ t, c: true, flags, seq, ack, len, mss });
  const S = (t: number, flags: number, seq: number, ack: number, len = 0, mss = false) => P.push({ t, c: false, flags, seq, ack, len, mss });
  const payOff = 2 * rng.int(0, PATTERN_SPAN / 2);
  const done = () => new Conn(P, client, server, cport, sport, payOff);

  let cs = rng.u32();
  let ss = rng.u32();
  let t = t0;
  C(t, SYN, cs, 0, 0, true);
  if (rng.chance(0.015)) {
    // Nothing listens on that port.
    S(t + srv(rng), RST | ACK, 0, (cs + 1) >>> 0);
    return done();
  }
  cs = (cs + 1) >>> 0;
  t += srv(rng);
  S(t, SYN | ACK, ss, cs, 0, true);
  if (rng.chance(0.01)) {
    // The SYN-ACK is lost past the capture point: the client sends its SYN again after a second.
    t = t0 + 1_000_000;
    C(t, SYN, (cs - 1) >>> 0, 0, 0, true);
    t += srv(rng);
    S(t, SYN | ACK, ss, cs, 0, true);
  }
  ss = (ss + 1) >>> 0;
  t += rtt;
  C(t, ACK, cs, ss);

  // The client owes an ACK for an odd last segment: sent 40 ms later unless it has something to send first.
  let owedAt = -1;
  let owedAck = 0;
  const clientSends = (at: number) => {
    if (owedAt >= 0 && owedAt < at) C(owedAt, ACK, cs, owedAck);
    owedAt = -1;
  };
  const requests = rng.chance(0.55) ? 1 : rng.int(2, 7);
  let tLast = t;
  for (let q = 0; q < requests; q++) {
    t = q === 0 ? t + rng.int(5, 300) : tLast + rtt + Math.round(rng.logUniform(1000, 500_000));
    clientSends(t);
    const qLen = rng.int(40, 300);
    C(t, PSH | ACK, cs, ss, qLen);
    cs = (cs + qLen) >>> 0;
    const think = Math.round(rng.logUniform(100, 120_000));
    if (think > 40_000) S(t + 40_000, ACK, ss, cs);
    t += think;
    const x = rng.float();
    const segs = x < 0.95 ? 1 : x < 0.99 ? rng.int(2, 4) : rng.int(4, 11);
    const lastLen = segs === 1 ? rng.int(20, 420) : rng.int(100, MSS + 1);
    for (let k = 0; k < segs; k++) {
      const len = k < segs - 1 ? MSS : lastLen;
      S(t, k === segs - 1 ? PSH | ACK : ACK, ss, cs, len);
      ss = (ss + len) >>> 0;
      if (k % 2 === 1) C(t + rtt, ACK, cs, ss);
      tLast = t;
      t += 12;
    }
    if (segs % 2 === 1) {
      owedAt = tLast + rtt + 40_000;
      owedAck = ss;
    }
  }

  const x = rng.float();
  if (x < 0.5) {
    // The client closes, soon or after a keep-alive idle.
    const tf = tLast + rtt + Math.round(rng.chance(0.7) ? rng.logUniform(500, 50_000) : rng.logUniform(1_000_000, 20_000_000));
    clientSends(tf);
    C(tf, FIN | ACK, cs, ss);
    cs = (cs + 1) >>> 0;
    let ts = tf + srv(rng);
    if (rng.chance(0.0015)) {
      // The application never closes its side: CLOSE_WAIT to the end.
      S(ts, ACK, ss, cs);
      return done();
    }
    if (rng.chance(0.3)) {
      S(ts, ACK, ss, cs);
      ts += Math.round(rng.logUniform(200, 20_000));
    }
    S(ts, FIN | ACK, ss, cs);
    ss = (ss + 1) >>> 0;
    C(ts + rtt, ACK, cs, ss);
  } else if (x < 0.82) {
    // The server closes: right after the response, or at its 5 s keep-alive timeout.
    const tf = tLast + (rng.chance(0.6) ? rng.int(20, 500) : 5_000_000 + rng.int(0, 2000));
    S(tf, FIN | ACK, ss, cs);
    ss = (ss + 1) >>> 0;
    let tc = tf + rtt;
    clientSends(tc);
    if (rng.chance(0.2)) {
      C(tc, ACK, cs, ss);
      tc += Math.round(rng.logUniform(100, 30_000));
    }
    C(tc, FIN | ACK, cs, ss);
    cs = (cs + 1) >>> 0;
    S(tc + srv(rng), ACK, ss, cs);
  } else if (x < 0.95) {
    // The client aborts.
    const tr = tLast + rtt + Math.round(rng.logUniform(200, 100_000));
    clientSends(tr);
    C(tr, RST | ACK, cs, ss);
  } else {
    // The server aborts.
    const tr = tLast + Math.round(rng.logUniform(1000, 1_000_000));
    clientSends(tr);
    S(tr, RST | ACK, ss, cs);
  }
  return done();
}

interface Ev {
  t: number;
  kind: number;
  v: number;
}
const ARRIVE = 0;
const ACK_IN = 1;
const RTO = 2;
const DELACK = 3;

/** A download: handshake, a request, `size` bytes in MSS-sized segments over a lossy path, FIN from the server. */
function bulkConn(g: Generator, t0: number): Conn {
  const rng = g.rng;
  const client = g.clients[rng.int(0, g.clients.length)];
  const server = g.bulkServers[rng.int(0, g.bulkServers.length)];
  const cport = g.port(client);
  const rtt = Math.max(10_000, Math.round(client.rtt * (0.9 + 0.2 * rng.float())));
  const owd = rtt >> 1;
  const size = Math.round(rng.logUniform(100_000, 1_000_000));
  const window = rng.int(16, 41); // segments: at most 58,400 bytes, under the client's 64,240
  const loss = rng.logUniform(0.003, 0.04);
  const P: Pkt[] = [];
  const C = (t: number, flags: number, seq: number, ack: number, len = 0, mss = false) => P.push({ t, c: true, flags, seq, ack, len, mss });
  const S = (t: number, flags: number, seq: number, ack: number, len = 0, mss = false) => P.push({ t, c: false, flags, seq, ack, len, mss });

  let cs = rng.u32();
  const isn = rng.u32();
  let t = t0;
  C(t, SYN, cs, 0, 0, true);
  cs = (cs + 1) >>> 0;
  t += srv(rng);
  S(t, SYN | ACK, isn, cs, 0, true);
  const ss = (isn + 1) >>> 0;
  t += rtt;
  C(t, ACK, cs, ss);
  t += rng.int(5, 200);
  const qLen = rng.int(100, 300);
  C(t, PSH | ACK, cs, ss, qLen);
  cs = (cs + qLen) >>> 0;

  const n = Math.ceil(size / MSS);
  const segLen = (i: number) => (i < n - 1 ? MSS : size - (n - 1) * MSS);
  const seqOf = (i: number) => (ss + Math.min(i * MSS, size)) >>> 0;
  const ev = new Heap<Ev>();
  // Sender.
  let una = 0;
  let nxt = 0;
  let dup = 0;
  let inRecovery = false;
  let recover = 0;
  const rto = Math.max(200_000, 2 * rtt + 10_000);
  let backoff = 1;
  let rtoGen = 0;
  let free = 0;
  let doneAt = -1;
  const send = (i: number, now: number) => {
    const at = Math.max(now, free);
    free = at + 12;
    S(at, i === n - 1 ? PSH | ACK : ACK, seqOf(i), cs, segLen(i));
    if (!rng.chance(loss)) ev.push({ t: at + owd, kind: ARRIVE, v: i });
  };
  const retransmit = (i: number, now: number) => {
    g.retransmissions++;
    send(i, now);
  };
  const armRto = (now: number) => ev.push({ t: now + rto * backoff, kind: RTO, v: ++rtoGen });
  // Receiver.
  let rcvNxt = 0;
  const ooo = new Set<number>();
  let unacked = 0;
  let delGen = 0;
  const ackNow = (now: number) => {
    unacked = 0;
    delGen++;
    C(now + owd, ACK, cs, seqOf(rcvNxt));
    ev.push({ t: now + owd, kind: ACK_IN, v: rcvNxt });
  };

  const start = t + rng.int(200, 3000);
  while (nxt < n && nxt < window) send(nxt++, start);
  armRto(start);
  while (ev.size > 0) {
    const e = ev.pop();
    const now = e.t;
    if (e.kind === ARRIVE) {
      const i = e.v;
      if (i < rcvNxt || ooo.has(i)) ackNow(now);
      else if (i > rcvNxt) {
        ooo.add(i);
        ackNow(now);
      } else {
        rcvNxt++;
        let filled = false;
        while (ooo.delete(rcvNxt)) {
          rcvNxt++;
          filled = true;
        }
        if (filled || ooo.size > 0 || ++unacked >= 2 || rcvNxt === n) ackNow(now);
        else ev.push({ t: now + 40_000, kind: DELACK, v: ++delGen });
      }
    } else if (e.kind === DELACK) {
      if (e.v === delGen && unacked > 0) ackNow(now);
    } else if (e.kind === RTO) {
      if (e.v !== rtoGen || una >= n) continue;
      backoff = Math.min(backoff * 2, 64);
      inRecovery = true;
      recover = nxt;
      dup = 0;
      retransmit(una, now);
      armRto(now);
    } else {
      const a = e.v;
      if (a > una) {
        una = a;
        dup = 0;
        backoff = 1;
        if (una >= n) {
          rtoGen++;
          if (doneAt < 0) doneAt = now;
          continue;
        }
        if (inRecovery) {
          if (una >= recover) inRecovery = false;
          else retransmit(una, now);
        }
        armRto(now);
        while (nxt < n && nxt - una < window) send(nxt++, now);
      } else if (a === una && nxt > una && ++dup === 3 && !inRecovery) {
        inRecovery = true;
        recover = nxt;
        retransmit(una, now);
        armRto(now);
      }
    }
  }
  // All acknowledged: the server closes, the client answers with its FIN.
  let tf = Math.max(doneAt, free) + rng.int(100, 5000);
  S(tf, FIN | ACK, seqOf(n), cs);
  tf += rtt;
  const fin = (seqOf(n) + 1) >>> 0;
  C(tf, FIN | ACK, cs, fin);
  S(tf + srv(rng), ACK, fin, (cs + 1) >>> 0);
  return new Conn(P, client, server, cport, 443, 2 * rng.int(0, PATTERN_SPAN / 2));
}

/** Writes the mixed capture to `path`. */
export function writeMix(path: string, opts: MixOptions): CaptureStats {
  const g = new Generator(path, opts.seed, opts.hash === true, opts.ipv6 === true);
  const span = Math.round(UNIT_US * opts.scale);
  const shorts = Math.round(SHORT_PER_UNIT * opts.scale);
  const bulks = Math.max(1, Math.round(BULK_PER_UNIT * opts.scale));
  g.add(new Arrivals(shorts, 0, span, new Rng(opts.seed ^ 0x5157), shortConn));
  // Bulk transfers start early enough to end within the span, mostly.
  g.add(new Arrivals(bulks, 0, Math.max(span >> 1, span - 30_000_000), new Rng(opts.seed ^ 0xb01c), bulkConn));
  if (opts.floodSyns > 0) g.add(new Flood(opts.floodSyns, Math.min(20_000_000, span >> 2)));
  g.run();
  const sha256 = g.w.close();
  return {
    packets: g.w.packets,
    bytes: g.w.bytes,
    connections: shorts + bulks,
    shortConnections: shorts,
    bulkTransfers: bulks,
    floodSyns: opts.floodSyns,
    retransmissions: g.retransmissions,
    peakConcurrent: g.peakLive,
    durationS: span / 1e6,
    sha256,
  };
}

/** Issue #6's flood alone: `n` SYNs, each from its own spoofed 10.x.y.z and port, to 192.0.2.80:80 at about 100,000 a second. */
export function writeFlood(path: string, n: number, seed: number): { packets: number; bytes: number } {
  const w = new PcapWriter(path, false);
  const rng = new Rng(seed ^ 0xf100d);
  const listener: Host = { ip: ip4(192, 0, 2, 80), mac: 0xc0000250, ttl: 64, ipId: 0, rtt: 0, nextPort: 0 };
  const s: Host = { ip: 0, mac: ROUTER_MAC, ttl: 64, ipId: 0, rtt: 0, nextPort: 0 };
  let t = 0;
  for (let i = 0; i < n; i++) {
    s.ip = (0x0a000000 | rng.int(1, 0xffffff)) >>> 0;
    s.ttl = rng.int(40, 250);
    s.ipId = rng.int(0, 65536);
    w.packet(t, s, listener, rng.int(1024, 65536), 80, SYN, rng.u32(), 0, 1024 * rng.int(1, 64), 0, rng.chance(0.5), 0);
    t += rng.int(1, 20);
  }
  w.close();
  return { packets: w.packets, bytes: w.bytes };
}

/**
 * `n` connections that open, carry one request and its response, and stay open to the end of the
 * capture (keep-alive clients that never close): what each live connection costs.
 */
export function writeIdle(path: string, n: number, seed: number): { packets: number; bytes: number } {
  const w = new PcapWriter(path, false);
  const rng = new Rng(seed ^ 0x1d1e);
  const server: Host = { ip: ip4(192, 0, 2, 80), mac: 0xc0000250, ttl: 64, ipId: 0, rtt: 0, nextPort: 0 };
  const client: Host = { ip: 0, mac: ROUTER_MAC, ttl: 64, ipId: 0, rtt: 0, nextPort: 0 };
  let t = 0;
  for (let i = 0; i < n; i++) {
    client.ip = (0x0a000000 | (i >>> 6)) >>> 0;
    const port = 1024 + (i & 63) * 900 + rng.int(0, 900);
    const cs = rng.u32();
    const ss = rng.u32();
    w.packet(t, client, server, port, 80, SYN, cs, 0, 64240, 0, true, 0);
    w.packet(t + 1, server, client, 80, port, SYN | ACK, ss, (cs + 1) >>> 0, 65160, 0, true, 0);
    w.packet(t + 2, client, server, port, 80, ACK, (cs + 1) >>> 0, (ss + 1) >>> 0, 502, 0, false, 0);
    w.packet(t + 3, client, server, port, 80, PSH | ACK, (cs + 1) >>> 0, (ss + 1) >>> 0, 502, 100, false, 0);
    w.packet(t + 4, server, client, 80, port, PSH | ACK, (ss + 1) >>> 0, (cs + 101) >>> 0, 510, 300, false, 0);
    w.packet(t + 5, client, server, port, 80, ACK, (cs + 101) >>> 0, (ss + 301) >>> 0, 502, 0, false, 0);
    t += rng.int(20, 60);
  }
  w.close();
  return { packets: w.packets, bytes: w.bytes };
}
