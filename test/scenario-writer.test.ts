import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runConversation, type Conversation } from './scenario/describe.js';
import { buildCapture, fileNameOf, framesOf, scenarios } from './scenario/scenarios.js';
import {
  ETHERTYPE,
  LINKTYPE,
  PACKET_TYPE,
  TCP_FLAG,
  ethernet,
  internetChecksum,
  ipv4,
  ipv6,
  parseIPv4,
  parseIPv6,
  pcapGlobalHeader,
  pseudoHeader,
  sll2,
  tcp,
  tcpOptions,
  writePcap,
  writePcapng,
  type Frame,
} from './scenario/writer.js';
import { manifestJson, readme } from '../scripts/make-scenarios.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const SAMPLES = fileURLToPath(new URL('../../samples/scenarios/', import.meta.url)); // from dist/test/

// ---------------------------------------------------------------- tiny independent readers

function readPcap(b: Uint8Array): { linkType: number; records: Array<{ tsUs: bigint; caplen: number; len: number; data: Uint8Array }> } {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const magicLe = v.getUint32(0, true);
  const le = magicLe === 0xa1b2c3d4 || magicLe === 0xa1b23c4d;
  const ns = (le ? magicLe : v.getUint32(0, false)) === 0xa1b23c4d;
  const records = [];
  for (let at = 24; at < b.length; ) {
    const caplen = v.getUint32(at + 8, le);
    const frac = BigInt(v.getUint32(at + 4, le));
    records.push({
      tsUs: BigInt(v.getUint32(at, le)) * 1_000_000n + (ns ? frac / 1000n : frac),
      caplen,
      len: v.getUint32(at + 12, le),
      data: b.subarray(at + 16, at + 16 + caplen),
    });
    at += 16 + caplen;
  }
  return { linkType: v.getUint32(20, le), records };
}

function readPcapngBlocks(b: Uint8Array): Array<{ type: number; body: Uint8Array; le: boolean }> {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const le = v.getUint32(8, true) === 0x1a2b3c4d;
  const blocks = [];
  for (let at = 0; at < b.length; ) {
    const total = v.getUint32(at + 4, le);
    assert.equal(total % 4, 0, `block at ${at}: total length ${total} not a multiple of 4`);
    assert.equal(v.getUint32(at + total - 4, le), total, `block at ${at}: trailing length differs`);
    blocks.push({ type: v.getUint32(at, le), body: b.subarray(at + 8, at + total - 4), le });
    at += total;
  }
  return blocks;
}

function epbRecords(b: Uint8Array, tsresol: 6 | 9) {
  return readPcapngBlocks(b)
    .filter((x) => x.type === 6)
    .map(({ body, le }) => {
      const v = new DataView(body.buffer, body.byteOffset, body.byteLength);
      const ts = (BigInt(v.getUint32(4, le)) << 32n) | BigInt(v.getUint32(8, le));
      const caplen = v.getUint32(12, le);
      return { tsUs: tsresol === 9 ? ts / 1000n : ts, caplen, len: v.getUint32(16, le), data: body.subarray(20, 20 + caplen) };
    });
}

// ---------------------------------------------------------------- capture framing

test('pcap global header for each magic and byte order', () => {
  const h = (endian: 'le' | 'be', precision: 'us' | 'ns') => hex(pcapGlobalHeader({ endian, precision, linkType: 1, snaplen: 262144 }));
  assert.equal(h('le', 'us'), 'd4c3b2a1' + '02000400' + '00000000' + '00000000' + '00000400' + '01000000');
  assert.equal(h('be', 'us'), 'a1b2c3d4' + '00020004' + '00000000' + '00000000' + '00040000' + '00000001');
  assert.equal(h('le', 'ns'), '4d3cb2a1' + '02000400' + '00000000' + '00000000' + '00000400' + '01000000');
  assert.equal(h('be', 'ns'), 'a1b23c4d' + '00020004' + '00000000' + '00000000' + '00040000' + '00000001');
});

test('pcap records: timestamp split, precision, snaplen truncation', () => {
  const frame: Frame = { tsNs: 1_718_000_000_123_456_789n, bytes: new Uint8Array(100).fill(7) };
  const us = writePcap({ endian: 'be', precision: 'us', linkType: 1, snaplen: 60 }, [frame]);
  assert.equal(hex(us.subarray(24, 40)), (1_718_000_000).toString(16).padStart(8, '0') + (123456).toString(16).padStart(8, '0') + '0000003c' + '00000064');
  assert.equal(us.length, 24 + 16 + 60);
  const ns = writePcap({ endian: 'le', precision: 'ns', linkType: 1, snaplen: 262144 }, [frame]);
  const r = new DataView(ns.buffer).getUint32(28, true);
  assert.equal(r, 123_456_789);
});

test('pcapng: block lengths are multiples of 4 and repeated, options and timestamps', () => {
  const frames: Frame[] = [1, 2, 3, 61].map((n, i) => ({ tsNs: 1_750_000_000_000_000_001n + BigInt(i) * 1_500n, bytes: new Uint8Array(n).fill(n) }));
  for (const endian of ['le', 'be'] as const) {
    const file = writePcapng(
      endian,
      [
        { linkType: LINKTYPE.ETHERNET, snaplen: 65535, tsresol: 9, name: 'eth0' },
        { linkType: LINKTYPE.RAW, snaplen: 2 },
      ],
      [...frames.map((frame) => ({ frame })), { frame: frames[3], iface: 1 }, { frame: frames[3], simple: true }],
      'odd length text',
    );
    const blocks = readPcapngBlocks(file);
    assert.deepEqual(
      blocks.map((b) => b.type),
      [0x0a0d0d0a, 1, 1, 6, 6, 6, 6, 6, 3],
    );
    assert.equal(hex(file.subarray(8, 12)), endian === 'le' ? '4d3c2b1a' : '1a2b3c4d');
    // IDB 0: linktype 1, snaplen 65535, if_name "eth0", if_tsresol 9, end of options
    const idb = hex(blocks[1].body);
    const u16 = (n: number) => (endian === 'le' ? [n & 255, n >> 8] : [n >> 8, n & 255]).map((x) => x.toString(16).padStart(2, '0')).join('');
    assert.ok(idb.includes(u16(2) + u16(4) + hex(new TextEncoder().encode('eth0'))), idb);
    assert.ok(idb.endsWith(u16(9) + u16(1) + '09000000' + '00000000'), idb);
    const epbs = epbRecords(file, 9);
    assert.deepEqual(
      epbs.slice(0, 4).map((e) => [e.tsUs, e.caplen, e.len]),
      frames.map((f) => [f.tsNs / 1000n, f.bytes.length, f.bytes.length]),
    );
    assert.deepEqual([epbs[4].caplen, epbs[4].len], [2, 61]); // interface 1 snaplen
    // SPB: original length 61, captured bytes cut to IDB 0's snaplen (none here), padded
    const spb = blocks[8];
    assert.equal(spb.body.length, 4 + 64);
  }
});

// ---------------------------------------------------------------- wire structures

test('IPv4 header checksum: known value, and verifies to 0 when recomputed', () => {
  // the classic example header 4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7
  const h = ipv4(parseIPv4('192.168.0.1'), parseIPv4('192.168.0.199'), 17, new Uint8Array(0x73 - 20), { id: 0, ttl: 64, df: true });
  assert.equal(hex(h.subarray(0, 20)), '450000730000400040' + '11' + 'b861' + 'c0a80001c0a800c7');
  for (const id of [0, 1, 0x1234, 0xffff]) {
    const p = ipv4(parseIPv4('192.0.2.10'), parseIPv4('192.0.2.20'), 6, new Uint8Array(33), { id, ttl: 52, df: id % 2 === 0 });
    assert.equal(internetChecksum(p.subarray(0, 20)), 0);
  }
});

/** Independent check: sum of big-endian 16-bit words of pseudo-header + segment (zero-padded) must be 0xffff. */
function verifyTcp(src: Uint8Array, dst: Uint8Array, seg: Uint8Array): number {
  const pseudo = Buffer.alloc(src.length === 4 ? 12 : 40);
  pseudo.set(src, 0);
  pseudo.set(dst, src.length);
  if (src.length === 4) {
    pseudo[9] = 6;
    pseudo.writeUInt16BE(seg.length, 10);
  } else {
    pseudo.writeUInt32BE(seg.length, 32);
    pseudo[39] = 6;
  }
  const all = Buffer.concat([pseudo, seg, Buffer.alloc(seg.length % 2)]);
  let sum = 0;
  for (let i = 0; i < all.length; i += 2) sum += all.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return 0xffff - sum;
}

test('TCP checksum verifies over the IPv4 and IPv6 pseudo-headers (even and odd lengths)', () => {
  for (const [src, dst] of [
    [parseIPv4('192.0.2.10'), parseIPv4('192.0.2.20')],
    [parseIPv6('2001:db8::10'), parseIPv6('2001:db8::20')],
  ]) {
    for (const len of [0, 1, 100, 1447]) {
      const seg = tcp(
        { srcPort: 51234, dstPort: 80, seq: 0xfffffff0, ack: 12345, flags: TCP_FLAG.ACK | TCP_FLAG.PSH, window: 502, options: tcpOptions({ ts: { val: 1, ecr: 2 } }), payload: new Uint8Array(len).fill(0x5a) },
        src,
        dst,
      );
      assert.equal(verifyTcp(src, dst, seg), 0, `len ${len}`);
      seg[seg.length - 1] ^= 1; // a flipped bit must be caught
      assert.notEqual(verifyTcp(src, dst, seg), 0);
    }
  }
  // the IPv6 pseudo-header puts the length in 32 bits and the next header last
  assert.equal(hex(pseudoHeader(parseIPv6('::1'), parseIPv6('::2'), 6, 0x10203).subarray(32)), '0001020300000006');
  assert.equal(hex(parseIPv6('2001:db8::20')), '20010db8000000000000000000000020');
});

test('TCP options: Linux SYN layout, timestamps with NOPs, SACK blocks', () => {
  assert.equal(hex(tcpOptions({ mss: 1460, sackOk: true, ts: { val: 0x01020304, ecr: 0 }, ws: 7 })), '020405b4' + '0402080a' + '01020304' + '00000000' + '01030307');
  assert.equal(hex(tcpOptions({ ts: { val: 1, ecr: 2 } })), '0101080a0000000100000002');
  assert.equal(hex(tcpOptions({ sackOk: true })), '01010402');
  assert.equal(hex(tcpOptions({ sack: [[1, 2], [3, 4]] })), '01010512' + '0000000100000002' + '0000000300000004');
  assert.throws(() => tcpOptions({ ts: { val: 1, ecr: 2 }, sack: [[1, 2], [3, 4], [5, 6], [7, 8]] }));
});

test('link layers: QinQ tags and the SLL2 header', () => {
  const mac = Uint8Array.of(2, 0, 0, 0, 0, 1);
  const q = ethernet(mac, mac, ETHERTYPE.IPV4, Uint8Array.of(0x45), [{ tpid: 0x88a8, vid: 200 }, { tpid: 0x8100, vid: 100, pcp: 3 }]);
  assert.equal(hex(q.subarray(12)), '88a800c8' + '81006064' + '0800' + '45');
  const s = sll2(ETHERTYPE.IPV6, Uint8Array.of(0x60), { packetType: PACKET_TYPE.OUTGOING, arphrd: 1, addr: mac, ifindex: 2 });
  assert.equal(hex(s), '86dd' + '0000' + '00000002' + '0001' + '04' + '06' + '020000000001' + '0000' + '60');
  const v6 = ipv6(parseIPv6('2001:db8::10'), parseIPv6('2001:db8::20'), 6, new Uint8Array(20), { hopLimit: 64, flowLabel: 0xabcde });
  assert.equal(hex(v6.subarray(0, 8)), '600abcde' + '0014' + '06' + '40');
});

// ---------------------------------------------------------------- described conversations

function tcpFields(ip: Uint8Array) {
  const v = new DataView(ip.buffer, ip.byteOffset, ip.byteLength);
  const off = ip[0] >> 4 === 4 ? (ip[0] & 15) * 4 : 40;
  const total = ip[0] >> 4 === 4 ? v.getUint16(2) : 40 + v.getUint16(4);
  const hl = (ip[off + 12] >> 4) * 4;
  return { seq: v.getUint32(off + 4), ack: v.getUint32(off + 8), flags: ip[off + 13], len: total - off - hl };
}

test('conversation bookkeeping: SYN and FIN consume one, data its length, ACKs follow', () => {
  const conv: Conversation = {
    seed: 'bookkeeping',
    start: '2025-01-02T03:04:05.000000001Z',
    isn: { client: 1000, server: 0xfffffffe },
    steps: [
      { from: 'client', flags: 'S' },
      { from: 'server', flags: 'SA' },
      { from: 'client', flags: 'A' },
      { from: 'client', flags: 'PA', len: 100 },
      { from: 'server', flags: 'PA', len: 10 },
      { from: 'client', flags: 'FA' },
      { from: 'server', flags: 'FA' },
      { from: 'client', flags: 'A' },
    ],
  };
  // an old duplicate arriving late must not move the peer's ACK back
  const dup = runConversation({
    ...conv,
    steps: [
      ...conv.steps.slice(0, 4),
      { from: 'client', flags: 'PA', len: 50 },
      { from: 'client', flags: 'PA', len: 100, rseq: 1 },
      { from: 'server', flags: 'A' },
    ],
  }).segments;
  assert.deepEqual(dup.slice(-2).map((s) => [s.seq, s.ack]), [[1001, 0xffffffff], [0xffffffff, 1151]]);
  const got = runConversation(conv).segments.map((s) => [s.from, s.seq, s.ack, s.len, tcpFields(s.ip).seq, tcpFields(s.ip).ack, tcpFields(s.ip).len]);
  const S = 0xfffffffe;
  assert.deepEqual(got, [
    ['client', 1000, 0, 0, 1000, 0, 0],
    ['server', S, 1001, 0, S, 1001, 0],
    ['client', 1001, S + 1, 0, 1001, S + 1, 0],
    ['client', 1001, S + 1, 100, 1001, S + 1, 100],
    ['server', S + 1, 1101, 10, S + 1, 1101, 10],
    ['client', 1101, 9, 0, 1101, 9, 0], // (S + 1 + 10) wraps to 9
    ['server', 9, 1102, 0, 9, 1102, 0],
    ['client', 1102, 10, 0, 1102, 10, 0],
  ]);
});

test('conversation: crossing FINs, retransmitted FIN, lost and uncaptured segments, SACK', () => {
  const seg = (name: string) => runConversation(scenarios.find((s) => s.name === name)!.conversation).segments;
  const sim = seg('simultaneous-close');
  const [cFin, sFin, cAck, sAck] = sim.slice(-4);
  assert.equal(sFin.ack, cFin.seq); // the server's FIN does not ack the client's FIN
  assert.equal(cAck.ack, (sFin.seq + 1) >>> 0);
  assert.equal(sAck.ack, (cFin.seq + 1) >>> 0);
  const fin = seg('fin-retransmit').filter((s) => s.flags & TCP_FLAG.FIN && s.from === 'client');
  assert.equal(fin.length, 2);
  assert.equal(fin[0].seq, fin[1].seq);
  const sack = seg('sack-retransmit');
  const retx = sack.filter((s) => s.from === 'server' && s.len === 1448);
  assert.equal(retx.length, 4); // segment 2 is not in the capture, its retransmission is
  assert.equal(retx[3].seq, (retx[0].seq + 1448) >>> 0);
  assert.equal(sack[sack.length - 1].ack, (retx[0].seq + 4 * 1448 + 1000) >>> 0);
  const refused = seg('rst-syn-sent')[1];
  assert.equal(refused.seq, 0);
  assert.equal(refused.ack, (seg('rst-syn-sent')[0].seq + 1) >>> 0);
});

test('scenarios: wraparound wraps, reordering reorders, ISNs are never 0, timestamps realistic', () => {
  const byName = (n: string) => runConversation(scenarios.find((s) => s.name === n)!.conversation);
  for (const side of ['client', 'server'] as const) {
    const wrapped = byName('seq-wraparound').segments.some((s) => s.from === side && s.len > 0 && s.seq + s.len > 2 ** 32);
    assert.ok(wrapped, `${side} data does not cross 2^32`);
  }
  const reordered = byName('synack-before-syn').segments;
  assert.equal(reordered[0].flags, TCP_FLAG.SYN | TCP_FLAG.ACK);
  assert.equal(reordered[1].flags, TCP_FLAG.SYN);
  for (const s of scenarios) {
    const r = runConversation(s.conversation);
    assert.ok(r.isn.client !== 0 && r.isn.server !== 0, s.name);
    for (const [i, p] of r.segments.entries()) {
      assert.ok(p.tsNs >= 1_704_067_200_000_000_000n && p.tsNs < 1_798_761_600_000_000_000n, `${s.name}: time outside 2024-2026`);
      if (i) assert.ok(p.tsNs >= r.segments[i - 1].tsNs, `${s.name}: time goes backwards`);
    }
  }
});

// ---------------------------------------------------------------- the committed samples

test('twins hold the same frames with the same timestamps at µs precision', () => {
  const normal = readPcap(buildCapture(scenarios.find((s) => s.name === 'normal')!)).records;
  for (const s of scenarios.filter((x) => x.sameFramesAs === 'normal')) {
    const bytes = buildCapture(s);
    const recs = fileNameOf(s).endsWith('.pcapng') ? epbRecords(bytes, s.format?.container === 'pcapng' && s.format.tsresol === 9 ? 9 : 6) : readPcap(bytes).records;
    assert.equal(recs.length, normal.length, s.name);
    recs.forEach((r, i) => {
      assert.equal(r.tsUs, normal[i].tsUs, `${s.name} #${i + 1} time`);
      assert.equal(hex(r.data), hex(normal[i].data), `${s.name} #${i + 1} bytes`);
    });
  }
  // link variants carry the same IP packets behind their link-layer header
  const ipOf = (s: (typeof scenarios)[number]) => {
    const link = s.link ?? { type: 'ethernet' };
    const skip = link.type === 'ethernet' ? 14 + 4 * (link.tags?.length ?? 0) : { sll2: 20, sll: 16, raw: 0 }[link.type];
    return framesOf(s).map((f) => hex(f.bytes.subarray(skip)));
  };
  const base = ipOf(scenarios.find((s) => s.name === 'normal')!);
  const variants = scenarios.filter((x) => x.sameIpPacketsAs === 'normal');
  assert.ok(variants.length >= 12);
  for (const s of variants) assert.deepEqual(ipOf(s), base, s.name);
});

test('samples/scenarios holds exactly what the generator produces now', () => {
  const expected = new Map<string, Uint8Array | string>(scenarios.map((s) => [fileNameOf(s), buildCapture(s)]));
  expected.set('manifest.json', manifestJson());
  expected.set('README.md', readme());
  // golden/ holds tshark's view of these files (scripts/kernel/tshark-golden.sh), not generator output.
  assert.deepEqual(readdirSync(SAMPLES).filter((f) => f !== 'golden').sort(), [...expected.keys()].sort());
  for (const [name, content] of expected) {
    const onDisk = readFileSync(SAMPLES + name);
    if (typeof content === 'string') assert.equal(onDisk.toString('utf8'), content, `${name} is stale: run make-scenarios`);
    else assert.ok(Buffer.from(content).equals(onDisk), `${name} is stale: run make-scenarios`);
  }
});

test('manifest packet counts and link types match the files', () => {
  const manifest = JSON.parse(manifestJson()) as { scenarios: Array<{ file: string; packets: number; linkType: number; format: string }> };
  assert.equal(manifest.scenarios.length, scenarios.length);
  for (const m of manifest.scenarios.filter((x) => x.format === 'pcap')) {
    const f = readPcap(readFileSync(SAMPLES + m.file));
    assert.equal(f.records.length, m.packets, m.file);
    assert.equal(f.linkType, m.linkType, m.file);
  }
});
