// Writes tiny captures of TCP carried in fragmented IPv4 and IPv6 datagrams to
// test/golden/frag-scenarios/<name>.pcap (Ethernet, pcap, nanosecond timestamps), one
// behaviour each, so that tshark 4.0.17 (which reassembles, ip.defragment and
// ipv6.defragment being on by default) says per frame what the analysis must find:
//   node dist/scripts/golden/make-frag-scenarios.js && bash scripts/golden/tshark-analysis.sh test/golden/frag-scenarios/*.pcap
// Deterministic: the same bytes on every run.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ETHERTYPE, IPPROTO_TCP, LINKTYPE, TCP_FLAG, concat, ethernet, internetChecksum, ipv4, ipv6, parseIPv4, parseIPv6, parseMac, patternBytes, tcp, tcpOptions, writePcap, type Frame } from '../../test/scenario/writer.js';

const { SYN, ACK, PSH, FIN } = TCP_FLAG;
const CLIENT_MAC = parseMac('02:00:00:00:00:01');
const SERVER_MAC = parseMac('02:00:00:00:00:02');
const T0 = 1_700_000_000_000_000_000n;
const MS = 1_000_000n;

/** One IP datagram to send, whole or as fragments of its IP payload. */
interface Datagram {
  fromClient: boolean;
  /** The TCP segment (header and payload) this datagram carries. */
  tcp: Uint8Array;
  id: number;
}

/** A piece of a datagram's IP payload [start, end), as a fragment; `data` overrides the bytes (a conflicting overlap). */
interface Piece {
  start: number;
  end: number;
  last?: boolean;
  data?: Uint8Array;
}

type Emit = (d: Datagram, pieces?: Piece[]) => void;

interface Family {
  name: 'v4' | 'v6';
  client: Uint8Array;
  server: Uint8Array;
  /** The whole datagram, or one fragment of it. */
  packet(d: Datagram, piece?: Piece): Uint8Array;
  etherType: number;
}

const v4: Family = {
  name: 'v4',
  client: parseIPv4('192.0.2.1'),
  server: parseIPv4('198.51.100.2'),
  etherType: ETHERTYPE.IPV4,
  packet(d, piece) {
    const [src, dst] = d.fromClient ? [this.client, this.server] : [this.server, this.client];
    if (piece === undefined) return ipv4(src, dst, IPPROTO_TCP, d.tcp, { id: d.id, ttl: 64, df: false });
    const data = piece.data ?? d.tcp.subarray(piece.start, piece.end);
    const b = ipv4(src, dst, IPPROTO_TCP, data, { id: d.id, ttl: 64, df: false });
    const v = new DataView(b.buffer);
    v.setUint16(6, (piece.last ? 0 : 0x2000) | (piece.start / 8));
    v.setUint16(10, 0);
    v.setUint16(10, internetChecksum(b.subarray(0, 20)));
    return b;
  },
};

const v6: Family = {
  name: 'v6',
  client: parseIPv6('2001:db8::1'),
  server: parseIPv6('2001:db8:1::2'),
  etherType: ETHERTYPE.IPV6,
  packet(d, piece) {
    const [src, dst] = d.fromClient ? [this.client, this.server] : [this.server, this.client];
    if (piece === undefined) return ipv6(src, dst, IPPROTO_TCP, d.tcp, { hopLimit: 64, flowLabel: 0 });
    const data = piece.data ?? d.tcp.subarray(piece.start, piece.end);
    const frag = new Uint8Array(8);
    const v = new DataView(frag.buffer);
    frag[0] = IPPROTO_TCP;
    v.setUint16(2, piece.start | (piece.last ? 0 : 1));
    v.setUint32(4, 0x10000 + d.id);
    return ipv6(src, dst, 44, concat([frag, data]), { hopLimit: 64, flowLabel: 0 });
  },
};

/** A connection's segments with their sequence numbers kept by the builder. */
class Conversation {
  private clientSeq = 1000;
  private serverSeq = 5000;
  private id = 100;

  constructor(private readonly f: Family) {}

  segment(fromClient: boolean, flags: number, payloadLen: number, opts?: Uint8Array, seqOverride?: number): Datagram {
    const [src, dst] = fromClient ? [this.f.client, this.f.server] : [this.f.server, this.f.client];
    const seq = seqOverride ?? (fromClient ? this.clientSeq : this.serverSeq);
    const ack = fromClient ? this.serverSeq : this.clientSeq;
    const payload = patternBytes(payloadLen, seq);
    const bytes = tcp(
      { srcPort: fromClient ? 40000 : 80, dstPort: fromClient ? 80 : 40000, seq, ack: flags & ACK ? ack : 0, flags, window: 8192, ...(opts ? { options: opts } : {}), ...(payloadLen ? { payload } : {}) },
      src,
      dst,
    );
    if (seqOverride === undefined) {
      const used = payloadLen + (flags & SYN ? 1 : 0) + (flags & FIN ? 1 : 0);
      if (fromClient) this.clientSeq += used;
      else this.serverSeq += used;
    }
    return { fromClient, tcp: bytes, id: this.id++ };
  }

  /** Move a side's next sequence number without sending (a segment lost before the capture point). */
  skip(fromClient: boolean, n: number): void {
    if (fromClient) this.clientSeq += n;
    else this.serverSeq += n;
  }
}

/** Pieces of `len` bytes cut at the given offsets (each a multiple of 8), in order. */
function cut(len: number, ...at: number[]): Piece[] {
  const bounds = [0, ...at, len];
  return bounds.slice(1).map((end, i) => ({ start: bounds[i], end, last: i === bounds.length - 2 }));
}

interface Scenario {
  name: string;
  what: string;
  build(c: Conversation, emit: Emit): void;
}

const SYN_OPTIONS = tcpOptions({ mss: 1460, ws: 7, sackOk: true, ts: { val: 1, ecr: 0 } });

function handshake(c: Conversation, emit: Emit, synPieces?: (len: number) => Piece[]): void {
  const syn = c.segment(true, SYN, 0, SYN_OPTIONS);
  emit(syn, synPieces?.(syn.tcp.length));
  emit(c.segment(false, SYN | ACK, 0, SYN_OPTIONS));
  emit(c.segment(true, ACK, 0));
}

function close(c: Conversation, emit: Emit): void {
  emit(c.segment(true, FIN | ACK, 0));
  emit(c.segment(false, FIN | ACK, 0));
  emit(c.segment(true, ACK, 0));
}

const scenarios: Scenario[] = [
  {
    name: 'syn-header-split',
    what: "a SYN whose 40-byte TCP header spans two fragments (16 + 24 bytes), then a 21-byte segment whose first fragment carries 4 bytes of it",
    build(c, emit) {
      handshake(c, emit, (len) => cut(len, 16));
      const d = c.segment(true, ACK | PSH, 21);
      emit(d, cut(d.tcp.length, 24));
      emit(c.segment(false, ACK, 0));
      close(c, emit);
    },
  },
  {
    name: 'data-in-fragments',
    what: 'data segments split into two and three fragments, then a whole one and the ACK of all',
    build(c, emit) {
      handshake(c, emit);
      const a = c.segment(true, ACK | PSH, 1000);
      emit(a, cut(a.tcp.length, 512));
      const b = c.segment(true, ACK | PSH, 1400);
      emit(b, cut(b.tcp.length, 480, 960));
      emit(c.segment(true, ACK | PSH, 100));
      emit(c.segment(false, ACK, 0));
      close(c, emit);
    },
  },
  {
    name: 'out-of-order-fragments',
    what: 'the last fragment first, then the first, then the middle one (the middle one completes the datagram)',
    build(c, emit) {
      handshake(c, emit);
      const a = c.segment(true, ACK | PSH, 1200);
      const [p1, p2, p3] = cut(a.tcp.length, 400, 800);
      emit(a, [p3, p1, p2]);
      const b = c.segment(false, ACK | PSH, 600);
      const [q1, q2] = cut(b.tcp.length, 304);
      emit(b, [q2, q1]);
      emit(c.segment(true, ACK, 0));
      close(c, emit);
    },
  },
  {
    name: 'overlap-identical',
    what: 'overlapping fragments that carry the same bytes where they overlap, a duplicate of a first fragment, and a duplicate of the last fragment after the datagram completed',
    build(c, emit) {
      handshake(c, emit);
      const a = c.segment(true, ACK | PSH, 800);
      emit(a, [
        { start: 0, end: 400 },
        { start: 0, end: 400 },
        { start: 320, end: 640 },
        { start: 560, end: a.tcp.length, last: true },
      ]);
      // The last fragment again, after its datagram completed: a new datagram that never completes.
      emit(a, [{ start: 560, end: a.tcp.length, last: true }]);
      emit(c.segment(false, ACK, 0));
      close(c, emit);
    },
  },
  {
    name: 'overlap-conflict',
    what: 'overlapping fragments that differ: a second first fragment with another TCP window, and a middle fragment whose bytes differ from its neighbour; then a fragment at offset 8 with another ACK number, overlapped later by the first fragment',
    build(c, emit) {
      handshake(c, emit);
      const a = c.segment(true, ACK | PSH, 800);
      const other = a.tcp.slice(0, 400);
      other[14] = 0x01; // window 0x0100 instead of 0x2000
      const junk = new Uint8Array(320).fill(0x5a);
      emit(a, [
        { start: 0, end: 400 },
        { start: 0, end: 400, data: other },
        { start: 320, end: 640, data: junk },
        { start: 640, end: a.tcp.length, last: true },
      ]);
      // A fragment from offset 8 with another acknowledgement number, then the first fragment
      // with the right one: where they overlap, the lower offset wins although it came later.
      const b = c.segment(true, ACK | PSH, 300);
      const wrongAck = b.tcp.slice(8, 200);
      wrongAck[3] ^= 0x40;
      emit(b, [
        { start: 8, end: 200, data: wrongAck },
        { start: 0, end: 200 },
        { start: 200, end: b.tcp.length, last: true },
      ]);
      emit(c.segment(false, ACK, 0));
      close(c, emit);
    },
  },
  {
    name: 'never-completes',
    what: 'a datagram whose last fragment is not in the capture: the segment after it is "previous segment not captured", the ACK of both "ACKed unseen"',
    build(c, emit) {
      handshake(c, emit);
      const a = c.segment(true, ACK | PSH, 1000);
      emit(a, cut(a.tcp.length, 512).slice(0, 1));
      emit(c.segment(true, ACK | PSH, 100));
      emit(c.segment(false, ACK, 0));
      close(c, emit);
    },
  },
  {
    name: 'interleaved',
    what: 'the fragments of two datagrams of one direction interleaved (A1 B1 A2 B2), and of two directions',
    build(c, emit) {
      handshake(c, emit);
      const a = c.segment(true, ACK | PSH, 700);
      const b = c.segment(true, ACK | PSH, 700);
      const [a1, a2] = cut(a.tcp.length, 360);
      const [b1, b2] = cut(b.tcp.length, 360);
      emit(a, [a1]);
      emit(b, [b1]);
      emit(a, [a2]);
      emit(b, [b2]);
      const r = c.segment(false, ACK | PSH, 500);
      const s = c.segment(true, ACK | PSH, 500);
      const [r1, r2] = cut(r.tcp.length, 256);
      const [s1, s2] = cut(s.tcp.length, 256);
      emit(r, [r1]);
      emit(s, [s1]);
      emit(s, [s2]);
      emit(r, [r2]);
      emit(c.segment(false, ACK, 0));
      close(c, emit);
    },
  },
];

function capture(f: Family, s: Scenario): Uint8Array {
  const c = new Conversation(f);
  const frames: Frame[] = [];
  const add = (fromClient: boolean, ip: Uint8Array) => {
    const [src, dst] = fromClient ? [CLIENT_MAC, SERVER_MAC] : [SERVER_MAC, CLIENT_MAC];
    frames.push({ tsNs: T0 + BigInt(frames.length) * MS, bytes: ethernet(dst, src, f.etherType, ip) });
  };
  s.build(c, (d, pieces) => {
    if (pieces === undefined) add(d.fromClient, f.packet(d));
    else for (const p of pieces) add(d.fromClient, f.packet(d, p));
  });
  return writePcap({ endian: 'le', precision: 'ns', linkType: LINKTYPE.ETHERNET, snaplen: 262144 }, frames);
}

const root = resolve(fileURLToPath(import.meta.url), '..', '..', '..', '..');
const out = join(root, 'test', 'golden', 'frag-scenarios');
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  mkdirSync(out, { recursive: true });
  let n = 0;
  for (const f of [v4, v6]) {
    for (const s of scenarios) {
      writeFileSync(join(out, `frag-${f.name}-${s.name}.pcap`), capture(f, s));
      n++;
    }
  }
  console.log(`wrote ${n} captures to ${out}`);
}
