/**
 * Decoders on hand-built bytes: every link type, encapsulation, tunnel and IPv6
 * extension header, each decoded at a non-zero offset inside a larger buffer whose
 * surrounding bytes must not be read.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DecodeCounters, DecodedPacket, Encap, LinkType, Note, Status, STATUS_NAMES, decodeFrame } from '../src/decode/index.js';
import { LLC_SNAP, ah, be16, be32, bytes, ethernet, ext8, fragment6, ipv4, ipv6, le16, le32, tcp, udp, vlan, wlanHeader } from './frames.js';

const PAD_BEFORE = 13;
const PAD_AFTER = 11;

/** Decode `frame` placed at offset 13 of a buffer filled around it with 0xff. */
function decodeAt(linkType: number, frame: Uint8Array, opts: { caplen?: number; origLen?: number; fcsLen?: number } = {}) {
  const buf = new Uint8Array(PAD_BEFORE + frame.length + PAD_AFTER).fill(0xff);
  buf.set(frame, PAD_BEFORE);
  const p = new DecodedPacket();
  const caplen = opts.caplen ?? frame.length;
  const status = decodeFrame(p, linkType, buf, PAD_BEFORE, caplen, opts.origLen ?? frame.length, opts.fcsLen ?? 0);
  return { p, status, name: STATUS_NAMES[status] };
}

const SEGMENT = tcp({ sport: 40000, dport: 443, seq: 1000, ack: 2000, flags: 0x12, payload: 5 });
const V4 = ipv4(6, SEGMENT);
const V6 = ipv6(6, SEGMENT);

function assertTcp(r: ReturnType<typeof decodeAt>, version: 4 | 6, encapsulated = false) {
  assert.equal(r.name, 'tcp');
  assert.equal(r.p.ipVersion, version);
  assert.equal(r.p.srcPort, 40000);
  assert.equal(r.p.dstPort, 443);
  assert.equal(r.p.seq, 1000);
  assert.equal(r.p.ack, 2000);
  assert.equal(r.p.flags, 0x12);
  assert.equal(r.p.payloadLen, 5);
  assert.equal(r.p.buf[r.p.srcOff], version === 4 ? 192 : 0x20);
  assert.equal((r.p.notes & Note.ENCAPSULATED) !== 0, encapsulated);
}

const WLAN = 105;
const RADIOTAP = 127;
const PPI = 192;
const NFLOG = 239;
const C_HDLC = 104;

/** A radiotap header: present bitmaps (little-endian bytes), then fields from offset 4 + bitmaps, TSFT aligned to 8. */
function radiotap(present: number[], fields: number[]): number[] {
  const start = 4 + present.length;
  const align = present[0] & 1 ? (8 - (start % 8)) % 8 : 0;
  const len = start + align + fields.length;
  return [0, 0, ...le16(len), ...present, ...new Array(align).fill(0), ...fields];
}

/** A PPI header with an 802.11-common field (its flags as given) and the inner link type. */
function ppi(dlt: number, commonFlags: number): number[] {
  const common = [...le16(2), ...le16(20), ...new Array(8).fill(0), ...le16(commonFlags), ...new Array(10).fill(0)];
  return [0, 0, ...le16(8 + common.length), ...le32(dlt), ...common];
}

/** NFLOG: header, a prefix TLV, a hardware-type TLV, then the payload TLV (in either byte order). */
function nflog(family: number, payload: Uint8Array, littleEndian: boolean): Uint8Array {
  const h16 = littleEndian ? le16 : be16;
  const tlv = (type: number, value: number[] | Uint8Array) => {
    const len = 4 + value.length;
    return [...h16(len), ...h16(type), ...value, ...new Array((4 - (len % 4)) % 4).fill(0)];
  };
  return bytes(family, 0, be16(0), tlv(10, [0x61, 0x62, 0x63, 0]), tlv(15, be16(1)), tlv(9, payload));
}

const linkCases: Array<[string, number, Uint8Array, 4 | 6, boolean?]> = [
  ['Ethernet II / IPv4', LinkType.ETHERNET, ethernet(0x0800, V4), 4],
  ['Ethernet II / IPv6', LinkType.ETHERNET, ethernet(0x86dd, V6), 6],
  ['802.1Q', LinkType.ETHERNET, ethernet(0x8100, vlan(100, 0x0800, V4)), 4],
  ['802.1ad + 802.1Q (QinQ)', LinkType.ETHERNET, ethernet(0x88a8, vlan(200, 0x8100, vlan(100, 0x86dd, V6))), 6],
  ['double 0x8100', LinkType.ETHERNET, ethernet(0x8100, vlan(200, 0x8100, vlan(100, 0x0800, V4))), 4],
  ['802.3 + LLC/SNAP', LinkType.ETHERNET, ethernet(V4.length + 8, bytes([0xaa, 0xaa, 0x03, 0, 0, 0], be16(0x0800), V4)), 4],
  ['Linux SLL', LinkType.LINUX_SLL, bytes(be16(0), be16(1), be16(6), [2, 0, 0, 0, 0, 0x0a, 0, 0], be16(0x0800), V4), 4],
  ['Linux SLL2', LinkType.LINUX_SLL2, bytes(be16(0x86dd), [0, 0], be32(3), be16(1), 4, 6, [2, 0, 0, 0, 0, 0x0a, 0, 0], V6), 6],
  ['raw IP (101) v4', LinkType.RAW, V4, 4],
  ['raw IP (101) v6', LinkType.RAW, V6, 6],
  ['raw IP (12, BSD)', LinkType.RAW_BSD, V6, 6],
  ['LINKTYPE_IPV4 (228)', LinkType.IPV4, V4, 4],
  ['LINKTYPE_IPV6 (229)', LinkType.IPV6, V6, 6],
  ['NULL, little-endian AF_INET', LinkType.NULL, bytes(le32(2), V4), 4],
  ['NULL, big-endian AF_INET', LinkType.NULL, bytes(be32(2), V4), 4],
  ['NULL, macOS AF_INET6 (30)', LinkType.NULL, bytes(le32(30), V6), 6],
  ['NULL, FreeBSD AF_INET6 (28)', LinkType.NULL, bytes(le32(28), V6), 6],
  ['LOOP, network-order AF_INET', LinkType.LOOP, bytes(be32(2), V4), 4],
  ['LOOP, OpenBSD AF_INET6 (24)', LinkType.LOOP, bytes(be32(24), V6), 6],
  ['PPP', LinkType.PPP, bytes([0xff, 0x03], be16(0x0021), V4), 4],
  ['PPP, compressed protocol field', LinkType.PPP, bytes(0x57, V6), 6],
  ['FDDI + LLC/SNAP', LinkType.FDDI, bytes(0x50, [1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 5, 7], [0xaa, 0xaa, 0x03, 0, 0, 0], be16(0x0800), V4), 4],
  ['MPLS, two labels', LinkType.ETHERNET, ethernet(0x8847, bytes([0, 0x10, 0x00, 64], [0, 0x20, 0x01, 64], V4)), 4, true],
  ['PPPoE session', LinkType.ETHERNET, ethernet(0x8864, bytes(0x11, 0, be16(7), be16(V6.length + 2), be16(0x0057), V6)), 6, true],
  ['802.1ah PBB', LinkType.ETHERNET, ethernet(0x88e7, bytes(be32(0x1000), [2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2], be16(0x0800), V4)), 4, true],
  ['GRE / IPv4', LinkType.ETHERNET, ethernet(0x0800, ipv4(47, bytes([0, 0], be16(0x0800), V4))), 4, true],
  ['GRE with key and sequence / IPv6', LinkType.ETHERNET, ethernet(0x0800, ipv4(47, bytes([0x30, 0], be16(0x86dd), be32(9), be32(1), V6))), 6, true],
  ['GRE / transparent Ethernet', LinkType.ETHERNET, ethernet(0x0800, ipv4(47, bytes([0, 0], be16(0x6558), ethernet(0x0800, V4)))), 4, true],
  ['PPTP enhanced GRE / PPP', LinkType.ETHERNET, ethernet(0x0800, ipv4(47, bytes([0x30, 0x81], be16(0x880b), be16(V4.length + 4), be16(1), be32(5), be32(4), [0xff, 0x03], be16(0x21), V4))), 4, true],
  ['VXLAN', LinkType.ETHERNET, ethernet(0x0800, ipv4(17, udp(50000, 4789, bytes([0x08, 0, 0, 0], be32(0x100), ethernet(0x0800, V4))))), 4, true],
  ['Geneve', LinkType.ETHERNET, ethernet(0x86dd, ipv6(17, udp(50000, 6081, bytes([0, 0], be16(0x6558), be32(0x100), ethernet(0x86dd, V6))))), 6, true],
  ['GTP-U', LinkType.ETHERNET, ethernet(0x0800, ipv4(17, udp(2152, 2152, bytes(0x30, 0xff, be16(V4.length), be32(42), V4)))), 4, true],
  ['GTP-U with sequence and an extension header', LinkType.ETHERNET, ethernet(0x0800, ipv4(17, udp(2152, 2152, bytes(0x34, 0xff, be16(V6.length + 8), be32(42), be16(1), 0, 0x85, [1, 0x09, 0x00, 0], V6)))), 6, true],
  ['Teredo', LinkType.ETHERNET, ethernet(0x0800, ipv4(17, udp(3544, 50000, V6))), 6, true],
  ['Teredo with origin indication', LinkType.ETHERNET, ethernet(0x0800, ipv4(17, udp(3544, 50000, bytes([0, 0], be16(0x1234), be32(0x01020304), V6)))), 6, true],
  ['IP-in-IP', LinkType.RAW, ipv4(4, V4), 4, true],
  ['6in4', LinkType.RAW, ipv4(41, V6), 6, true],
  ['IPv6 in IPv6', LinkType.RAW, ipv6(41, V6), 6, true],
  ['IPv4 options', LinkType.RAW, ipv4(6, SEGMENT, { options: [0x94, 0x04, 0, 0] }), 4],
  ['802.11 QoS data, to DS', WLAN, bytes(wlanHeader(0x88, 0x01), le16(0x0005), LLC_SNAP(0x0800), V4), 4],
  ['802.11 four-address data / IPv6', WLAN, bytes(wlanHeader(0x08, 0x03), LLC_SNAP(0x86dd), V6), 6],
  ['802.11 QoS data +HTC (order bit)', WLAN, bytes(wlanHeader(0x88, 0x82), le16(0), be32(0x0000c000), LLC_SNAP(0x0800), V4), 4],
  ['radiotap (TSFT, flags: FCS) / 802.11', RADIOTAP, bytes(radiotap([0x03, 0, 0, 0], [...new Array(8).fill(7), 0x10]), wlanHeader(0x08, 0x02), LLC_SNAP(0x0800), V4, [1, 2, 3, 4]), 4],
  ['radiotap, extended bitmap, flags: data pad / 802.11 four-address', RADIOTAP, bytes(radiotap([0x02, 0, 0, 0x80, 0, 0, 0, 0], [0x20]), wlanHeader(0x08, 0x03), [0, 0], LLC_SNAP(0x0800), V4), 4],
  ['PPI, 802.11-common with FCS / 802.11', PPI, bytes(ppi(105, 0x0001), wlanHeader(0x88, 0x01), le16(0), LLC_SNAP(0x86dd), V6, [1, 2, 3, 4]), 6],
  ['PPI / Ethernet', PPI, bytes(ppi(1, 0), ethernet(0x0800, V4)), 4],
  ['NFLOG, little-endian TLVs', NFLOG, nflog(2, V4, true), 4],
  ['NFLOG, big-endian TLVs, IPv6', NFLOG, nflog(10, V6, false), 6],
  ['Cisco HDLC', C_HDLC, bytes(0x0f, 0, be16(0x0800), V4), 4],
  ['Cisco HDLC under PPP_HDLC (broadcast address)', LinkType.PPP_HDLC, bytes(0x8f, 0, be16(0x86dd), V6), 6],
  ['802.1BR E-tag', LinkType.ETHERNET, ethernet(0x893f, bytes([0x60, 0x12, 0x10, 0x34, 0, 0], be16(0x0800), V4)), 4],
  ['E-tag then 802.1Q', LinkType.ETHERNET, ethernet(0x893f, bytes([0, 0, 0, 1, 0, 0], be16(0x8100), vlan(5, 0x86dd, V6))), 6],
  ['ERSPAN type I (GRE 0x88be, no sequence number)', LinkType.ETHERNET, ethernet(0x0800, ipv4(47, bytes([0, 0], be16(0x88be), ethernet(0x0800, V4)))), 4, true],
  ['ERSPAN type II (GRE 0x88be with a sequence number)', LinkType.ETHERNET, ethernet(0x0800, ipv4(47, bytes([0x10, 0], be16(0x88be), be32(7), [0x10, 0x64, 0, 1, 0, 0, 0, 0], ethernet(0x0800, V4)))), 4, true],
  ['CAPWAP data / 802.3', LinkType.ETHERNET, ethernet(0x0800, ipv4(17, udp(40000, 5247, bytes(0, [0x10, 0x42, 0x00], [0, 0, 0, 0], ethernet(0x86dd, V6))))), 6, true],
  ['CAPWAP data / 802.11 (frame control swapped), radio MAC', LinkType.ETHERNET, ethernet(0x0800, ipv4(17, udp(5247, 40000, bytes(0, [0x20, 0x43, 0x10], [0, 0, 0, 0], 6, [2, 0, 0, 0, 0, 1], 0, wlanHeader(0x02, 0x08), LLC_SNAP(0x0800), V4)))), 4, true],
];

for (const [name, linkType, frame, version, encapsulated] of linkCases) {
  test(`decode at an offset: ${name}`, () => {
    assertTcp(decodeAt(linkType, frame), version, encapsulated ?? false);
  });
}

const extCases: Array<[string, Uint8Array]> = [
  ['hop-by-hop', ipv6(0, bytes(ext8(6, [5, 2, 0, 0]), SEGMENT))],
  ['routing', ipv6(43, bytes(ext8(6, [0, 0, 0, 0, 0, 0]), SEGMENT))],
  ['destination options', ipv6(60, bytes(ext8(6), SEGMENT))],
  ['atomic fragment (offset 0, M clear)', ipv6(44, bytes(fragment6(6, 0, false), SEGMENT))],
  ['AH', ipv6(51, bytes(ah(6), SEGMENT))],
  ['a chain: hop-by-hop, routing, fragment, destination options, AH', ipv6(0, bytes(ext8(43), ext8(44, [0, 0, 0, 0, 0, 0]), fragment6(60, 0, false), ext8(51), ah(6), SEGMENT))],
];

for (const [name, frame] of extCases) {
  test(`IPv6 extension header: ${name}`, () => {
    const r = decodeAt(LinkType.RAW, frame);
    assertTcp(r, 6);
  });
}

test('IPv6 jumbo payload option gives the length when the payload length is 0', () => {
  const body = bytes(ext8(6, [0xc2, 4, ...be32(8 + SEGMENT.length)]), SEGMENT);
  const r = decodeAt(LinkType.RAW, ipv6(0, body, 0));
  assertTcp(r, 6);
});

test('a fragment, first or not, stops at IP with its place in the datagram (IPv4 and IPv6)', () => {
  const later4 = decodeAt(LinkType.RAW, ipv4(6, SEGMENT, { fragment: 0x0010 }));
  assert.equal(later4.name, 'ip_fragment');
  assert.deepEqual([later4.p.fragOffset, later4.p.fragMore, later4.p.fragId, later4.p.fragProto, later4.p.fragDataOff - later4.p.ipOff], [128, false, 0x1234, 6, 20]);
  const first4 = decodeAt(LinkType.RAW, ipv4(6, SEGMENT, { fragment: 0x2000 }));
  assert.equal(first4.name, 'ip_fragment');
  assert.deepEqual([first4.p.fragOffset, first4.p.fragMore, first4.p.fragDataEnd - first4.p.fragDataOff], [0, true, SEGMENT.length]);
  const later6 = decodeAt(LinkType.RAW, ipv6(44, bytes(fragment6(6, 185, false), SEGMENT)));
  assert.equal(later6.name, 'ip_fragment');
  assert.deepEqual([later6.p.fragOffset, later6.p.fragMore, later6.p.fragId, later6.p.fragNextOff - later6.p.ipOff, later6.p.fragHeaderEnd - later6.p.ipOff], [1480, false, 0xabcd, 6, 40]);
  const first6 = decodeAt(LinkType.RAW, ipv6(0, bytes(ext8(44), fragment6(6, 0, true), SEGMENT)));
  assert.equal(first6.name, 'ip_fragment');
  // Behind a hop-by-hop header: that header's next-header byte names the fragment header.
  assert.deepEqual([first6.p.fragMore, first6.p.fragNextOff - first6.p.ipOff, first6.p.fragHeaderEnd - first6.p.ipOff, first6.p.fragDataOff - first6.p.ipOff], [true, 40, 48, 56]);
});

test('TCP options: MSS, window scale, SACK-permitted, SACK blocks, timestamps', () => {
  const options = [2, 4, ...be16(1460), 1, 3, 3, 7, 4, 2, 8, 10, ...be32(111), ...be32(222), 1, 1, 5, 18, ...be32(10), ...be32(20), ...be32(30), ...be32(40)];
  const r = decodeAt(LinkType.RAW, ipv4(6, tcp({ options, payload: 3 })));
  assert.equal(r.name, 'tcp');
  assert.equal(r.p.mss, 1460);
  assert.equal(r.p.windowScale, 7);
  assert.equal(r.p.sackPermitted, true);
  assert.equal(r.p.hasTimestamp, true);
  assert.equal(r.p.tsVal, 111);
  assert.equal(r.p.tsEcr, 222);
  assert.equal(r.p.sackCount, 2);
  assert.deepEqual(Array.from(r.p.sack.subarray(0, 4)), [10, 20, 30, 40]);
  assert.equal(r.p.tcpHeaderLen, 20 + 40);
  assert.equal(r.p.payloadLen, 3);
  assert.equal(r.p.notes & Note.TCP_OPTIONS_MALFORMED, 0);
});

test('a TCP option running past the header is noted, the segment still decodes', () => {
  const r = decodeAt(LinkType.RAW, ipv4(6, tcp({ options: [2, 4, 5, 0xb4, 8, 40, 0, 0] })));
  assert.equal(r.name, 'tcp');
  assert.equal(r.p.mss, 1460);
  assert.ok(r.p.notes & Note.TCP_OPTIONS_MALFORMED);
});

test('small snaplen: the payload length comes from the IP length, not the captured length', () => {
  const frame = ethernet(0x0800, ipv4(6, tcp({ payload: 1000 })));
  const r = decodeAt(LinkType.ETHERNET, frame, { caplen: 14 + 20 + 20 + 4, origLen: frame.length });
  assert.equal(r.name, 'tcp');
  assert.equal(r.p.payloadLen, 1000);
  assert.ok(r.p.notes & Note.PAYLOAD_TRUNCATED);
});

test('Ethernet padding is not payload: the IP length rules', () => {
  const frame = bytes(ethernet(0x0800, ipv4(6, tcp())), new Array(6).fill(0));
  assert.equal(decodeAt(LinkType.ETHERNET, frame).p.payloadLen, 0);
});

test('a frame check sequence announced by the link type is not payload', () => {
  const frame = bytes(ethernet(0x0800, ipv4(6, tcp({ payload: 2 }), { totalLength: 0 })), [1, 2, 3, 4]);
  const r = decodeAt(LinkType.ETHERNET, frame, { fcsLen: 4 });
  assert.equal(r.p.payloadLen, 2); // total length 0 (TSO): the frame length without FCS is used
});

test('truncation and damage are named, never thrown', () => {
  const e = ethernet(0x0800, V4);
  assert.equal(decodeAt(LinkType.ETHERNET, e.subarray(0, 10)).status, Status.TRUNCATED_LINK);
  assert.equal(decodeAt(LinkType.ETHERNET, e.subarray(0, 14 + 12)).status, Status.TRUNCATED_IP);
  assert.equal(decodeAt(LinkType.ETHERNET, e.subarray(0, 14 + 20 + 10)).status, Status.TRUNCATED_TCP);
  assert.equal(decodeAt(LinkType.RAW, ipv6(0, bytes([6, 200]))).status, Status.TRUNCATED_IP);
  const badIhl = Uint8Array.from(V4);
  badIhl[0] = 0x43;
  assert.equal(decodeAt(LinkType.RAW, badIhl).status, Status.BAD_IP_HEADER);
  const badOffset = Uint8Array.from(V4);
  badOffset[20 + 12] = 0x30;
  assert.equal(decodeAt(LinkType.RAW, badOffset).status, Status.BAD_TCP_HEADER);
  assert.equal(decodeAt(LinkType.RAW, ipv4(17, udp(53, 53, bytes([1, 2, 3])))).status, Status.NON_TCP);
  assert.equal(decodeAt(LinkType.ETHERNET, ethernet(0x0806, bytes(new Array(28).fill(0)))).status, Status.NON_IP);
  assert.equal(decodeAt(LinkType.RAW, ipv4(50, bytes(new Array(16).fill(0)))).status, Status.ENCRYPTED);
  assert.equal(decodeAt(147, V4).status, Status.UNSUPPORTED_LINK_TYPE);
});

test('an IP length longer than the frame is clamped and noted', () => {
  const r = decodeAt(LinkType.RAW, ipv4(6, tcp({ payload: 10 }), { totalLength: 1500 }));
  assert.equal(r.name, 'tcp');
  assert.equal(r.p.payloadLen, 10);
  assert.ok(r.p.notes & Note.IP_LENGTH_EXCEEDS_FRAME);
});

test('a crafted loop of tunnels stops at the nesting limit', () => {
  let frame: Uint8Array = V4;
  for (let i = 0; i < 12; i++) frame = ipv4(4, frame);
  assert.equal(decodeAt(LinkType.RAW, frame).status, Status.TOO_MANY_LAYERS);
});

test('UDP on a tunnel port that does not hold the tunnel is plain UDP', () => {
  assert.equal(decodeAt(LinkType.RAW, ipv4(17, udp(50000, 4789, bytes([0, 0, 0, 0, 0, 0, 0, 0])))).status, Status.NON_TCP);
  assert.equal(decodeAt(LinkType.RAW, ipv4(17, udp(3544, 50000, bytes([1, 2, 3])))).status, Status.NON_TCP);
});

test('radiotap and PPI FCS: not payload, not wire length an IP length of 0 may claim', () => {
  const v4 = ipv4(6, SEGMENT, { totalLength: 0 });
  const viaRadiotap = decodeAt(RADIOTAP, bytes(radiotap([0x02, 0, 0, 0], [0x10]), wlanHeader(0x08, 0x01), LLC_SNAP(0x0800), v4, [9, 9, 9, 9]));
  assert.equal(viaRadiotap.name, 'tcp');
  assert.equal(viaRadiotap.p.payloadLen, 5);
  const viaPpi = decodeAt(PPI, bytes(ppi(105, 1), wlanHeader(0x08, 0x01), LLC_SNAP(0x0800), v4, [9, 9, 9, 9]));
  assert.equal(viaPpi.p.payloadLen, 5);
  // Without the FCS flag the last 4 bytes are the frame's: an IP length of 0 takes them in.
  assert.equal(decodeAt(RADIOTAP, bytes(radiotap([0x02, 0, 0, 0], [0]), wlanHeader(0x08, 0x01), LLC_SNAP(0x0800), v4, [9, 9, 9, 9])).p.payloadLen, 9);
});

test('802.11: only unprotected data frames carry IP; fragments go to the reassembler', () => {
  const body = bytes(LLC_SNAP(0x0800), V4);
  const prot = decodeAt(WLAN, bytes(wlanHeader(0x08, 0x41), body));
  assert.equal(prot.status, Status.ENCRYPTED);
  assert.equal(prot.p.unsupportedEncap, Encap.WLAN_PROTECTED);
  assert.equal(decodeAt(WLAN, bytes(wlanHeader(0x08, 0x45), body)).status, Status.ENCRYPTED); // a protected fragment
  assert.equal(decodeAt(WLAN, bytes(wlanHeader(0x80, 0x00), body)).status, Status.NON_IP); // beacon
  assert.equal(decodeAt(WLAN, bytes(wlanHeader(0x48, 0x01))).status, Status.NON_IP); // null function
  const fragment = decodeAt(WLAN, bytes(wlanHeader(0x08, 0x05), body));
  assert.equal(fragment.status, Status.LINK_FRAGMENT);
  assert.deepEqual([fragment.p.fragOffset, fragment.p.fragMore, fragment.p.fragDataEnd - fragment.p.fragDataOff], [0, true, body.length]);
  const last = decodeAt(WLAN, bytes(wlanHeader(0x08, 0x01, 0x0011), body)); // fragment number 1, the last
  assert.deepEqual([last.status, last.p.fragId, last.p.fragOffset, last.p.fragMore], [Status.LINK_FRAGMENT, 1, 1, false]);
  const amsdu = decodeAt(WLAN, bytes(wlanHeader(0x88, 0x01), le16(0x0080), body));
  assert.equal(amsdu.p.unsupportedEncap, Encap.WLAN_AMSDU);
  assert.equal(decodeAt(WLAN, bytes(wlanHeader(0x08, 0x01)).subarray(0, 20)).status, Status.TRUNCATED_LINK);
  assert.equal(decodeAt(RADIOTAP, bytes([0, 0, 200, 0, 0, 0, 0, 0], body)).status, Status.TRUNCATED_LINK); // length beyond the frame
});

test('CAPWAP: DTLS is encrypted, fragments go to the reassembler, other bindings are named, keep-alives and short payloads are UDP', () => {
  const capwap = (header: number[]) => decodeAt(LinkType.RAW, ipv4(17, udp(40000, 5247, bytes(header, ethernet(0x0800, V4)))));
  const dtls = capwap([0x01, 0, 0, 0]);
  assert.equal(dtls.status, Status.ENCRYPTED);
  assert.equal(dtls.p.unsupportedEncap, Encap.CAPWAP_DTLS);
  const frag = capwap([0, 0x10, 0x42, 0xc0, 0, 1, 0, 0x18]); // F and L, ID 1, offset 3 units
  assert.equal(frag.name, 'link_fragment');
  assert.deepEqual([frag.p.fragId, frag.p.fragOffset, frag.p.fragMore], [1, 24, false]);
  assert.equal(capwap([0, 0x10, 0x45, 0x00, 0, 0, 0, 0]).p.unsupportedEncap, Encap.CAPWAP_BINDING); // WBID 2, T set
  assert.equal(capwap([0, 0x10, 0x42, 0x08, 0, 0, 0, 0]).status, Status.NON_TCP);
  assert.equal(decodeAt(LinkType.RAW, ipv4(17, udp(40000, 5247, bytes([0, 0x10])))).status, Status.NON_TCP);
});

test('NFLOG: no payload TLV is not IP; a TLV shorter than its header stops the walk', () => {
  assert.equal(decodeAt(NFLOG, bytes(2, 0, 0, 0, le16(8), le16(10), [0x61, 0x62, 0x63, 0])).status, Status.NON_IP);
  assert.equal(decodeAt(NFLOG, bytes(2, 0, 0, 0, be16(2), be16(10), [0, 0, 0, 0])).status, Status.TRUNCATED_LINK);
  assert.equal(decodeAt(NFLOG, nflog(7, V4, true)).status, Status.NON_IP); // family neither inet nor inet6
});

test('the counters name what was not decoded, one warning line each', () => {
  const c = new DecodeCounters();
  c.add(Status.UNSUPPORTED_LINK_TYPE, 0, 147);
  c.add(Status.UNSUPPORTED_LINK_TYPE, 0, 147);
  c.add(Status.UNSUPPORTED_ENCAPSULATION, 0, 1, Encap.CAPWAP_BINDING);
  c.add(Status.TCP, 0, 1);
  for (let i = 0; i < 3; i++) c.add(Status.ENCRYPTED, 0, 127, Encap.WLAN_PROTECTED);
  c.add(Status.ENCRYPTED, 0, 1, Encap.CAPWAP_DTLS);
  c.add(Status.ENCRYPTED, 0, 1); // ESP: counted as encrypted, no warning
  assert.deepEqual(c.warnings(), [
    'link type LINKTYPE_147 (147) is not decoded: 2 packets skipped, any TCP they carry is not analysed',
    '1 packet in an encapsulation not decoded (CAPWAP wireless binding other than 802.11): any TCP they carry is not analysed',
    '802.11: 3 protected (encrypted) data frames not decoded: any TCP they carry is not analysed',
    'CAPWAP: 1 DTLS-encrypted data packet not decoded: any TCP they carry is not analysed',
  ]);
  const entries = Object.fromEntries(c.entries());
  assert.deepEqual([entries.encrypted, entries.wlan_protected, entries.capwap_dtls], [5, 3, 1]);
  assert.deepEqual(new DecodeCounters().warnings(), []);
});

test('the counters survive a trip through postMessage (structured clone) with their methods, link reassembly included', () => {
  const c = new DecodeCounters();
  c.add(Status.ENCRYPTED, 0, 127, Encap.WLAN_PROTECTED);
  c.reassembly.reassembled = 2;
  c.reassembly.wlan.reassembled = 3;
  c.reassembly.capwap.timedOut = 1;
  const back = DecodeCounters.revive(structuredClone(c));
  assert.deepEqual(back.entries(), c.entries());
  assert.deepEqual(back.warnings(), c.warnings());
  assert.deepEqual(Object.fromEntries(back.entries()), { encrypted: 1, wlan_protected: 1, reassembled_datagrams: 2, wlan_reassembled: 3, capwap_reassembly_timed_out: 1 });
});
