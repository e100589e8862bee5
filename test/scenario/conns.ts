/**
 * Captures of many TCP connections for the detector tests: each connection's sequence and
 * acknowledgement numbers follow from what each side sent, as if all of it arrived, and the
 * packets are written in time order (or, with `writeLate`, some later than their time says).
 */
import { hash32 } from './describe.js';
import { ETHERTYPE, IPPROTO_TCP, LINKTYPE, TCP_FLAG, ethernet, ipv4, parseFlags, parseIPv4, parseMac, patternBytes, tcp, writePcap, type PcapOptions } from './writer.js';

export type Side = 'client' | 'server';
export type Addr = [ip: string, port: number];

const PCAP: PcapOptions = { endian: 'le', precision: 'us', linkType: LINKTYPE.ETHERNET, snaplen: 262144 };
const MAC: Record<Side, Uint8Array> = { client: parseMac('02:42:c0:00:02:0a'), server: parseMac('02:42:c0:00:02:14') };

/** Packets of any number of connections. */
export class Capture {
  private readonly packets: Array<{ tsUs: number; at: number; n: number; bytes: Uint8Array }> = [];
  /** Packets added now are written this much later than their time says (a clock behind the others). */
  writeLate = 0;

  add(tsUs: number, bytes: Uint8Array): void {
    this.packets.push({ tsUs, at: tsUs + this.writeLate, n: this.packets.length, bytes });
  }

  /** A connection; `key` fixes its ISNs (a new key on the same ports is a new connection). */
  conn(client: Addr, server: Addr, key = `${client.join(':')}>${server.join(':')}#${this.packets.length}`): Conn {
    return new Conn(this, client, server, key);
  }

  bytes(): Uint8Array {
    const frames = [...this.packets].sort((a, b) => a.at - b.at || a.n - b.n).map((p) => ({ tsNs: BigInt(p.tsUs) * 1000n, bytes: p.bytes }));
    return writePcap(PCAP, frames);
  }
}

/** One TCP connection. */
export class Conn {
  readonly isn: Record<Side, number>;
  private readonly nxt: Record<Side, number> = { client: 0, server: 0 };
  private readonly ends: Record<Side, Addr>;
  private ipId = 1;

  constructor(
    private readonly cap: Capture,
    client: Addr,
    server: Addr,
    key: string,
  ) {
    this.ends = { client, server };
    this.isn = { client: hash32(key + '/client') || 1, server: hash32(key + '/server') || 1 };
  }

  /** A segment at `tsUs` (µs since the epoch); `seq` overrides the wire sequence number. */
  send(from: Side, flags: string, tsUs: number, o: { len?: number; rseq?: number; seq?: number } = {}): this {
    const f = parseFlags(flags);
    const len = o.len ?? 0;
    const peer: Side = from === 'client' ? 'server' : 'client';
    const rel = o.rseq ?? (f & TCP_FLAG.SYN ? 0 : this.nxt[from]);
    this.nxt[from] = Math.max(this.nxt[from], rel + (f & TCP_FLAG.SYN ? 1 : 0) + len + (f & TCP_FLAG.FIN ? 1 : 0));
    const seq = o.seq ?? (this.isn[from] + rel) >>> 0;
    const ack = f & TCP_FLAG.ACK ? (this.isn[peer] + this.nxt[peer]) >>> 0 : 0;
    const [src, srcPort] = this.ends[from];
    const [dst, dstPort] = this.ends[peer];
    const s = parseIPv4(src);
    const d = parseIPv4(dst);
    const window = f & TCP_FLAG.RST && !(f & TCP_FLAG.ACK) ? 0 : 64240;
    const segment = tcp({ srcPort, dstPort, seq, ack, flags: f, window, payload: patternBytes(len, rel) }, s, d);
    this.cap.add(tsUs, ethernet(MAC[peer], MAC[from], ETHERTYPE.IPV4, ipv4(s, d, IPPROTO_TCP, segment, { id: this.ipId++, ttl: 64, df: true })));
    return this;
  }
}

/** Handshake, request and response, then `closer` closes first; its TIME_WAIT starts at t + 1200 µs. */
export function shortConnection(cap: Capture, client: Addr, server: Addr, t: number, closer: Side, key?: string): void {
  const other: Side = closer === 'client' ? 'server' : 'client';
  cap
    .conn(client, server, key)
    .send('client', 'S', t)
    .send('server', 'SA', t + 200)
    .send('client', 'A', t + 300)
    .send('client', 'PA', t + 400, { len: 100 })
    .send('server', 'PA', t + 600, { len: 300 })
    .send('client', 'A', t + 700)
    .send(closer, 'FA', t + 1000)
    .send(other, 'FA', t + 1200) // acknowledges the first FIN: the closer goes to TIME_WAIT here
    .send(closer, 'A', t + 1300);
}
