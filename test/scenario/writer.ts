// Dependency-free writers for capture files and the wire structures inside them.
// One small function per structure; every function returns the bytes it encodes.
// Multi-byte fields on the wire (Ethernet, IP, TCP, SLL) are big-endian; only
// the capture-file framing (pcap, pcapng) follows the chosen byte order.

export type Endian = 'le' | 'be';
export type TsPrecision = 'us' | 'ns';

export const LINKTYPE = { ETHERNET: 1, RAW: 101, LINUX_SLL: 113, LINUX_SLL2: 276 } as const;
export const ETHERTYPE = { IPV4: 0x0800, IPV6: 0x86dd, VLAN: 0x8100, QINQ: 0x88a8 } as const;
export const IPPROTO_TCP = 6;

/** A link-layer frame and the moment it was captured (nanoseconds since the epoch). */
export interface Frame {
  tsNs: bigint;
  bytes: Uint8Array;
}

// ---------------------------------------------------------------- helpers

function alloc(n: number): [Uint8Array, DataView] {
  const b = new Uint8Array(n);
  return [b, new DataView(b.buffer)];
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const pad4 = (n: number): number => (n + 3) & ~3;

/** `len` bytes cycling through 26 letters from `base`, keyed by stream position. */
export function patternBytes(len: number, position: number, base = 0x61): Uint8Array {
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i++) b[i] = base + ((position + i) % 26);
  return b;
}

export function parseMac(s: string): Uint8Array {
  return Uint8Array.from(s.split(':').map((h) => parseInt(h, 16)));
}

export function parseIPv4(s: string): Uint8Array {
  return Uint8Array.from(s.split('.').map(Number));
}

export function parseIPv6(s: string): Uint8Array {
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const [b, v] = alloc(16);
  groups.forEach((g, i) => v.setUint16(i * 2, parseInt(g, 16)));
  return b;
}

// ---------------------------------------------------------------- checksums

/** 32-bit accumulation of 16-bit big-endian words (odd tail padded with zero). */
export function onesSum(data: Uint8Array, acc = 0): number {
  for (let i = 0; i + 1 < data.length; i += 2) acc += (data[i] << 8) | data[i + 1];
  if (data.length % 2) acc += data[data.length - 1] << 8;
  return acc;
}

/** RFC 1071 Internet checksum over the concatenation of even-length prefixes and a final part. */
export function internetChecksum(...parts: Uint8Array[]): number {
  let acc = 0;
  for (const p of parts) acc = onesSum(p, acc);
  while (acc > 0xffff) acc = (acc & 0xffff) + Math.floor(acc / 0x10000);
  return ~acc & 0xffff;
}

export function pseudoHeader(src: Uint8Array, dst: Uint8Array, protocol: number, length: number): Uint8Array {
  if (src.length === 4) {
    const [b, v] = alloc(12);
    b.set(src, 0);
    b.set(dst, 4);
    v.setUint8(9, protocol);
    v.setUint16(10, length);
    return b;
  }
  const [b, v] = alloc(40);
  b.set(src, 0);
  b.set(dst, 16);
  v.setUint32(32, length);
  v.setUint8(39, protocol);
  return b;
}

// ---------------------------------------------------------------- TCP

export interface TcpOptions {
  mss?: number;
  ws?: number;
  sackOk?: boolean;
  ts?: { val: number; ecr: number };
  sack?: Array<[number, number]>;
}

/** TCP options laid out the way Linux does (always a multiple of 4 bytes). */
export function tcpOptions(o: TcpOptions): Uint8Array {
  const out: number[] = [];
  const u32 = (n: number) => out.push((n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
  if (o.mss !== undefined) out.push(2, 4, o.mss >> 8, o.mss & 255);
  if (o.sackOk && o.ts) out.push(4, 2);
  else if (o.ts) out.push(1, 1);
  else if (o.sackOk) out.push(1, 1, 4, 2);
  if (o.ts) {
    out.push(8, 10);
    u32(o.ts.val);
    u32(o.ts.ecr);
  }
  if (o.ws !== undefined) out.push(1, 3, 3, o.ws);
  if (o.sack && o.sack.length) {
    out.push(1, 1, 5, 2 + 8 * o.sack.length);
    for (const [l, r] of o.sack) {
      u32(l);
      u32(r);
    }
  }
  if (out.length > 40) throw new Error(`TCP options too long (${out.length} bytes)`);
  return Uint8Array.from(out);
}

export const TCP_FLAG = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20, ECE: 0x40, CWR: 0x80 } as const;

/** 'SA', 'FA', 'PA', 'R', ... -> flag bits (letters F S R P A U E C, any order). */
export function parseFlags(s: string): number {
  const bits: Record<string, number> = { F: 0x01, S: 0x02, R: 0x04, P: 0x08, A: 0x10, U: 0x20, E: 0x40, C: 0x80 };
  let f = 0;
  for (const c of s) {
    if (!(c in bits)) throw new Error(`unknown TCP flag letter ${c} in '${s}'`);
    f |= bits[c];
  }
  return f;
}

export interface TcpSegment {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  urgent?: number;
  options?: Uint8Array;
  payload?: Uint8Array;
}

/** TCP header + payload with the checksum computed over the IPv4/IPv6 pseudo-header. */
export function tcp(s: TcpSegment, src: Uint8Array, dst: Uint8Array): Uint8Array {
  const opts = s.options ?? new Uint8Array(0);
  const payload = s.payload ?? new Uint8Array(0);
  if (opts.length % 4) throw new Error('TCP options must be padded to 4 bytes');
  const hlen = 20 + opts.length;
  const [b, v] = alloc(hlen + payload.length);
  v.setUint16(0, s.srcPort);
  v.setUint16(2, s.dstPort);
  v.setUint32(4, s.seq >>> 0);
  v.setUint32(8, s.ack >>> 0);
  v.setUint8(12, (hlen / 4) << 4);
  v.setUint8(13, s.flags);
  v.setUint16(14, s.window);
  v.setUint16(18, s.urgent ?? 0);
  b.set(opts, 20);
  b.set(payload, hlen);
  v.setUint16(16, internetChecksum(pseudoHeader(src, dst, IPPROTO_TCP, b.length), b));
  return b;
}

// ---------------------------------------------------------------- IP

export interface Ipv4Fields {
  id: number;
  ttl: number;
  df: boolean;
}

export function ipv4(src: Uint8Array, dst: Uint8Array, protocol: number, payload: Uint8Array, f: Ipv4Fields): Uint8Array {
  const [b, v] = alloc(20 + payload.length);
  v.setUint8(0, 0x45);
  v.setUint16(2, b.length);
  v.setUint16(4, f.id & 0xffff);
  v.setUint16(6, f.df ? 0x4000 : 0);
  v.setUint8(8, f.ttl);
  v.setUint8(9, protocol);
  b.set(src, 12);
  b.set(dst, 16);
  v.setUint16(10, internetChecksum(b.subarray(0, 20)));
  b.set(payload, 20);
  return b;
}

export interface Ipv6Fields {
  hopLimit: number;
  flowLabel: number;
  trafficClass?: number;
}

export function ipv6(src: Uint8Array, dst: Uint8Array, nextHeader: number, payload: Uint8Array, f: Ipv6Fields): Uint8Array {
  const [b, v] = alloc(40 + payload.length);
  v.setUint32(0, ((6 << 28) | ((f.trafficClass ?? 0) << 20) | (f.flowLabel & 0xfffff)) >>> 0);
  v.setUint16(4, payload.length);
  v.setUint8(6, nextHeader);
  v.setUint8(7, f.hopLimit);
  b.set(src, 8);
  b.set(dst, 24);
  b.set(payload, 40);
  return b;
}

// ---------------------------------------------------------------- link layers

export interface VlanTag {
  tpid: number; // 0x8100 (802.1Q) or 0x88a8 (802.1ad service tag)
  vid: number;
  pcp?: number;
}

/** Ethernet II; tags are listed outermost first. */
export function ethernet(dst: Uint8Array, src: Uint8Array, etherType: number, payload: Uint8Array, tags: VlanTag[] = []): Uint8Array {
  const [b, v] = alloc(14 + 4 * tags.length + payload.length);
  b.set(dst, 0);
  b.set(src, 6);
  let at = 12;
  for (const t of tags) {
    v.setUint16(at, t.tpid);
    v.setUint16(at + 2, ((t.pcp ?? 0) << 13) | (t.vid & 0xfff));
    at += 4;
  }
  v.setUint16(at, etherType);
  b.set(payload, at + 2);
  return b;
}

export const PACKET_TYPE = { HOST: 0, BROADCAST: 1, MULTICAST: 2, OTHERHOST: 3, OUTGOING: 4 } as const;

export interface CookedFields {
  packetType: number;
  arphrd: number; // 1 = Ethernet
  addr: Uint8Array; // sender's link-layer address, up to 8 bytes
  ifindex?: number; // SLL2 only
}

/** Linux cooked capture v2 (LINKTYPE_LINUX_SLL2, 20-byte header). */
export function sll2(protocol: number, payload: Uint8Array, f: CookedFields): Uint8Array {
  const [b, v] = alloc(20 + payload.length);
  v.setUint16(0, protocol);
  v.setUint16(2, 0); // reserved
  v.setUint32(4, f.ifindex ?? 1);
  v.setUint16(8, f.arphrd);
  v.setUint8(10, f.packetType);
  v.setUint8(11, f.addr.length);
  b.set(f.addr, 12);
  b.set(payload, 20);
  return b;
}

/** Linux cooked capture v1 (LINKTYPE_LINUX_SLL, 16-byte header). */
export function sll(protocol: number, payload: Uint8Array, f: CookedFields): Uint8Array {
  const [b, v] = alloc(16 + payload.length);
  v.setUint16(0, f.packetType);
  v.setUint16(2, f.arphrd);
  v.setUint16(4, f.addr.length);
  b.set(f.addr, 6);
  v.setUint16(14, protocol);
  b.set(payload, 16);
  return b;
}

// ---------------------------------------------------------------- classic pcap

export interface PcapOptions {
  endian: Endian;
  precision: TsPrecision;
  linkType: number;
  snaplen: number;
}

export const PCAP_MAGIC = { us: 0xa1b2c3d4, ns: 0xa1b23c4d } as const;

export function pcapGlobalHeader(o: PcapOptions): Uint8Array {
  const le = o.endian === 'le';
  const [b, v] = alloc(24);
  v.setUint32(0, PCAP_MAGIC[o.precision], le);
  v.setUint16(4, 2, le);
  v.setUint16(6, 4, le);
  v.setInt32(8, 0, le); // thiszone
  v.setUint32(12, 0, le); // sigfigs
  v.setUint32(16, o.snaplen, le);
  v.setUint32(20, o.linkType, le);
  return b;
}

/** Record header + captured bytes; the timestamp is truncated to the file's precision. */
export function pcapRecord(o: PcapOptions, f: Frame): Uint8Array {
  const le = o.endian === 'le';
  const caplen = Math.min(f.bytes.length, o.snaplen);
  const unit = o.precision === 'ns' ? 1n : 1000n;
  const [b, v] = alloc(16 + caplen);
  v.setUint32(0, Number(f.tsNs / 1_000_000_000n), le);
  v.setUint32(4, Number((f.tsNs % 1_000_000_000n) / unit), le);
  v.setUint32(8, caplen, le);
  v.setUint32(12, f.bytes.length, le);
  b.set(f.bytes.subarray(0, caplen), 16);
  return b;
}

export function writePcap(o: PcapOptions, frames: Frame[]): Uint8Array {
  return concat([pcapGlobalHeader(o), ...frames.map((f) => pcapRecord(o, f))]);
}

// ---------------------------------------------------------------- pcapng

export const PCAPNG_BLOCK = { SHB: 0x0a0d0d0a, IDB: 0x00000001, SPB: 0x00000003, EPB: 0x00000006 } as const;

export interface PcapngOption {
  code: number;
  value: Uint8Array;
}

/** Options list: each value padded to 4 bytes, terminated by opt_endofopt. */
export function pcapngOptions(le: boolean, opts: PcapngOption[]): Uint8Array {
  if (!opts.length) return new Uint8Array(0);
  const parts = opts.map((o) => {
    const [b, v] = alloc(4 + pad4(o.value.length));
    v.setUint16(0, o.code, le);
    v.setUint16(2, o.value.length, le);
    b.set(o.value, 4);
    return b;
  });
  return concat([...parts, new Uint8Array(4)]);
}

/** Generic block: type, total length, body (padded to 4), total length again. */
export function pcapngBlock(le: boolean, type: number, body: Uint8Array): Uint8Array {
  const total = 12 + pad4(body.length);
  const [b, v] = alloc(total);
  v.setUint32(0, type, le);
  v.setUint32(4, total, le);
  b.set(body, 8);
  v.setUint32(total - 4, total, le);
  return b;
}

const utf8 = (s: string) => new TextEncoder().encode(s);

export function pcapngSHB(le: boolean, userAppl?: string): Uint8Array {
  const [b, v] = alloc(16);
  v.setUint32(0, 0x1a2b3c4d, le);
  v.setUint16(4, 1, le);
  v.setUint16(6, 0, le);
  v.setBigInt64(8, -1n, le); // section length not specified
  const opts = userAppl ? [{ code: 4, value: utf8(userAppl) }] : [];
  return pcapngBlock(le, PCAPNG_BLOCK.SHB, concat([b, pcapngOptions(le, opts)]));
}

export interface PcapngInterface {
  linkType: number;
  snaplen: number;
  tsresol?: 6 | 9; // written as if_tsresol when given; absent means microseconds
  name?: string;
}

export function pcapngIDB(le: boolean, i: PcapngInterface): Uint8Array {
  const [b, v] = alloc(8);
  v.setUint16(0, i.linkType, le);
  v.setUint32(4, i.snaplen, le);
  const opts: PcapngOption[] = [];
  if (i.name) opts.push({ code: 2, value: utf8(i.name) });
  if (i.tsresol !== undefined) opts.push({ code: 9, value: Uint8Array.of(i.tsresol) });
  return pcapngBlock(le, PCAPNG_BLOCK.IDB, concat([b, pcapngOptions(le, opts)]));
}

export function pcapngEPB(le: boolean, ifId: number, iface: PcapngInterface, f: Frame): Uint8Array {
  const caplen = Math.min(f.bytes.length, iface.snaplen);
  const ts = iface.tsresol === 9 ? f.tsNs : f.tsNs / 1000n;
  const [b, v] = alloc(20 + pad4(caplen));
  v.setUint32(0, ifId, le);
  v.setUint32(4, Number(ts >> 32n), le);
  v.setUint32(8, Number(ts & 0xffffffffn), le);
  v.setUint32(12, caplen, le);
  v.setUint32(16, f.bytes.length, le);
  b.set(f.bytes.subarray(0, caplen), 20);
  return pcapngBlock(le, PCAPNG_BLOCK.EPB, b);
}

/** Simple Packet Block: no interface id, no timestamp; captured length comes from IDB 0's snaplen. */
export function pcapngSPB(le: boolean, iface0: PcapngInterface, bytes: Uint8Array): Uint8Array {
  const caplen = Math.min(bytes.length, iface0.snaplen);
  const [b, v] = alloc(4 + pad4(caplen));
  v.setUint32(0, bytes.length, le);
  b.set(bytes.subarray(0, caplen), 4);
  return pcapngBlock(le, PCAPNG_BLOCK.SPB, b);
}

export interface PcapngPacket {
  frame: Frame;
  iface?: number; // index into interfaces, default 0
  simple?: boolean; // write as SPB (loses interface and timestamp)
}

export function writePcapng(endian: Endian, interfaces: PcapngInterface[], packets: PcapngPacket[], userAppl?: string): Uint8Array {
  const le = endian === 'le';
  return concat([
    pcapngSHB(le, userAppl),
    ...interfaces.map((i) => pcapngIDB(le, i)),
    ...packets.map((p) =>
      p.simple ? pcapngSPB(le, interfaces[0], p.frame.bytes) : pcapngEPB(le, p.iface ?? 0, interfaces[p.iface ?? 0], p.frame),
    ),
  ]);
}
