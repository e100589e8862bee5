// Writes samples/link/: the normal scenario conversation carried by link layers and
// encapsulations other than Ethernet (802.11 with radiotap, PPI or bare, NFLOG, Cisco HDLC,
// CAPWAP, 802.1BR E-tag, ERSPAN type I), 802.11 and CAPWAP fragments to reassemble, and two
// captures whose TCP cannot be read: a link type tcpstate does not decode, and 802.11 whose
// data frames are all protected. Deterministic: running it again writes the same bytes.
//   node dist/scripts/make-link-captures.js [--out DIR]
// Goldens: bash scripts/golden/tshark-link.sh (tshark 4.0.17) writes samples/link/golden/.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MACS, runConversation, type Segment, type Side } from '../test/scenario/describe.js';
import { scenarios } from '../test/scenario/scenarios.js';
import { concat, ethernet, ipv4, parseIPv4, parseMac, writePcap, type Frame } from '../test/scenario/writer.js';

export interface LinkCapture {
  name: string;
  linkType: number;
  description: string;
  /** The scenario whose IP packets are carried. */
  conversation: 'normal' | 'normal-ipv6';
  /** The frame (or, fragmented, the frames) carrying one segment. */
  frame: (seg: Segment) => Uint8Array | Uint8Array[];
}

const mac = (side: Side) => parseMac(MACS[side]);
const other = (side: Side): Side => (side === 'client' ? 'server' : 'client');
const AP = parseMac('02:00:5e:10:00:01');
const BRIDGE = parseMac('02:00:5e:10:00:02');

function u8(...parts: Array<number | number[] | Uint8Array>): Uint8Array {
  const flat: number[] = [];
  for (const p of parts) {
    if (typeof p === 'number') flat.push(p & 0xff);
    else flat.push(...p);
  }
  return Uint8Array.from(flat);
}
const be16 = (v: number) => [(v >> 8) & 0xff, v & 0xff];
const le16 = (v: number) => [v & 0xff, (v >> 8) & 0xff];
const le32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
const le64 = (v: bigint) => [...le32(Number(v & 0xffffffffn)), ...le32(Number(v >> 32n))];

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
/** IEEE 802 CRC-32, as an FCS is stored (little-endian). */
function fcs(b: Uint8Array): number[] {
  let c = 0xffffffff;
  for (const x of b) c = CRC_TABLE[(c ^ x) & 0xff] ^ (c >>> 8);
  return le32((c ^ 0xffffffff) >>> 0);
}

const snap = (etherType: number) => [0xaa, 0xaa, 0x03, 0, 0, 0, ...be16(etherType)];

interface WlanOpts {
  qos?: boolean;
  fourAddress?: boolean;
  htc?: boolean;
  /** Radiotap's data padding: the header padded to 4 bytes. */
  pad?: boolean;
  /** Frame control bytes swapped (what Wireshark assumes inside CAPWAP by default). */
  swapFc?: boolean;
  /** Fragment number, More Fragments, Retry and Protected (frame control flags 0x04, 0x08, 0x40). */
  fragNo?: number;
  moreFragments?: boolean;
  retry?: boolean;
  protected?: boolean;
  /** The frame body instead of the segment's LLC/SNAP and IP packet. */
  body?: Uint8Array;
}

/** An 802.11 data frame: the client is a station, the server behind the access point. */
function wlan(seg: Segment, o: WlanOpts, seqNo: number): Uint8Array {
  const toAp = seg.from === 'client';
  const subtype = o.qos ? 8 : 0;
  const fc0 = (subtype << 4) | (2 << 2);
  let fc1 = o.fourAddress ? 0x03 : toAp ? 0x01 : 0x02;
  if (o.htc) fc1 |= 0x80;
  if (o.moreFragments) fc1 |= 0x04;
  if (o.retry) fc1 |= 0x08;
  if (o.protected) fc1 |= 0x40;
  const sa = mac(seg.from);
  const da = mac(other(seg.from));
  // To DS: BSSID, SA, DA; from DS: DA, BSSID, SA; WDS: RA, TA, DA, SA.
  const addrs = o.fourAddress ? [toAp ? AP : BRIDGE, toAp ? BRIDGE : AP, da, sa] : toAp ? [AP, sa, da] : [da, AP, sa];
  const sc = ((seqNo & 0xfff) << 4) | ((o.fragNo ?? 0) & 0xf);
  const header = u8(o.swapFc ? [fc1, fc0] : [fc0, fc1], le16(44), addrs[0], addrs[1], addrs[2], le16(sc), o.fourAddress ? addrs[3] : []);
  const qos = o.qos ? u8(le16(seqNo % 8)) : u8();
  const htc = o.htc ? u8(le32(0x0000c000)) : u8();
  const len = header.length + qos.length + htc.length;
  const pad = o.pad && len % 4 ? new Uint8Array(4 - (len % 4)) : u8();
  return concat([header, qos, htc, pad, o.body ?? msdu(seg)]);
}

/** What an 802.11 data frame carries: LLC/SNAP, then the IP packet. */
const msdu = (seg: Segment) => concat([u8(snap(seg.etherType)), seg.ip]);

/** Cut bytes into pieces of at most `size` bytes. */
function pieces(b: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < b.length; at += size) out.push(b.subarray(at, Math.min(b.length, at + size)));
  return out;
}

/**
 * An MSDU sent as 802.11 fragments of `size` bytes of body (more when 16 fragments, the most
 * a 4-bit fragment number allows, would not hold it): one sequence number, fragment numbers
 * from 0, More Fragments on all but the last.
 */
function wlanFragments(seg: Segment, o: WlanOpts, seqNo: number, size: number): Uint8Array[] {
  const body = msdu(seg);
  const parts = pieces(body, Math.max(size, Math.ceil(body.length / 16)));
  return parts.map((body, i) => wlan(seg, { ...o, body, fragNo: i, moreFragments: i < parts.length - 1 }, seqNo));
}

/** With radiotap (TSFT, Flags with the FCS flag) in front and the FCS at the end. */
const radiotapFcs = (seg: Segment, f: Uint8Array) => concat([radiotap(seg, 0x10, false), f, u8(fcs(f))]);

/** Radiotap: TSFT, Flags, Rate, Channel and antenna signal; optionally an extended present bitmap. */
function radiotap(seg: Segment, flags: number, extended: boolean): Uint8Array {
  const present = (1 << 0) | (1 << 1) | (1 << 2) | (1 << 3) | (1 << 5) | (extended ? 1 << 31 : 0);
  const words = extended ? [...le32(present >>> 0), ...le32(0)] : le32(present);
  const head = 4 + words.length;
  const align = (8 - (head % 8)) % 8;
  const fields = u8(new Array(align).fill(0), le64(seg.tsNs / 1000n), flags, 0x6c, le16(5180), le16(0x0140), seg.from === 'client' ? -40 : -62);
  const len = head + fields.length;
  return u8(0, 0, le16(len), words, fields);
}

/** Outer Ethernet/IPv4 between two tunnel endpoints (client side and server side). */
function outerIp(seg: Segment, protocol: number, payload: Uint8Array, id: number): Uint8Array {
  const [a, b] = [parseIPv4('198.51.100.1'), parseIPv4('198.51.100.2')];
  const fromClient = seg.from === 'client';
  const ip = ipv4(fromClient ? a : b, fromClient ? b : a, protocol, payload, { id, ttl: 63, df: false });
  return ethernet(fromClient ? BRIDGE : AP, fromClient ? AP : BRIDGE, 0x0800, ip);
}

function udp(sport: number, dport: number, payload: Uint8Array): Uint8Array {
  return u8(be16(sport), be16(dport), be16(8 + payload.length), be16(0), payload);
}

/**
 * CAPWAP data fragments (RFC 5415 4.3): each repeats the CAPWAP header with F set, L on the
 * last, the fragment ID and the offset in 8-byte units; `order` lists the pieces in the order
 * sent (indices into the payload cut in pieces of `size` bytes, a multiple of 8).
 */
function capwapFragments(seg: Segment, header: number[], payload: Uint8Array, size: number, id: number, order: (n: number) => number[]): Uint8Array[] {
  const parts = pieces(payload, size);
  return order(parts.length).map((i) => {
    const last = i === parts.length - 1;
    const h = u8(header);
    h[3] |= 0x80 | (last ? 0x40 : 0);
    h[4] = id >> 8;
    h[5] = id & 0xff;
    const units = (i * size) / 8;
    h[6] = units >> 5;
    h[7] = (units & 0x1f) << 3;
    return outerIp(seg, 17, udp(seg.from === 'client' ? 5247 : 12224, seg.from === 'client' ? 12224 : 5247, concat([h, parts[i]])), next());
  });
}

/** A deterministic stand-in for ciphertext. */
function noise(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed * 2654435761;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

let counter = 0;
const next = () => ++counter;
/** The segment being written, from 1 (set by buildLinkCapture). */
let segNo = 0;

export const linkCaptures: LinkCapture[] = [
  {
    name: 'wlan-radiotap-fcs',
    linkType: 127,
    description: '802.11 QoS data (to DS / from DS) under radiotap with TSFT and the FCS flag, FCS at the end',
    conversation: 'normal',
    frame: (seg) => {
      const f = wlan(seg, { qos: true }, next());
      return concat([radiotap(seg, 0x10, false), f, u8(fcs(f))]);
    },
  },
  {
    name: 'wlan-radiotap-wds',
    linkType: 127,
    description: '802.11 four-address data under radiotap with an extended present bitmap and the data-pad flag',
    conversation: 'normal',
    frame: (seg) => concat([radiotap(seg, 0x20, true), wlan(seg, { fourAddress: true, pad: true }, next())]),
  },
  {
    name: 'wlan-htc',
    linkType: 105,
    description: 'bare 802.11 (LINKTYPE_IEEE802_11): QoS data with the +HTC (order) bit and its HT control field',
    conversation: 'normal-ipv6',
    frame: (seg) => wlan(seg, { qos: true, htc: true }, next()),
  },
  {
    name: 'wlan-ppi',
    linkType: 192,
    description: 'PPI with an 802.11-common field announcing an FCS, then 802.11 data with its FCS',
    conversation: 'normal',
    frame: (seg) => {
      const f = wlan(seg, {}, next());
      const common = u8(le16(2), le16(20), le64(seg.tsNs / 1000n), le16(0x0001), le16(10), le16(5180), le16(0x0140), 0, seg.from === 'client' ? -40 : -62, -95, 0);
      return concat([u8(0, 0, le16(8 + common.length), le32(105)), common, f, u8(fcs(f))]);
    },
  },
  {
    name: 'nflog',
    linkType: 239,
    description: 'Linux NFLOG (iptables -j NFLOG), TLVs in little-endian host order: prefix, hardware header, payload',
    conversation: 'normal',
    frame: (seg) => nflog(2, seg),
  },
  {
    name: 'nflog-ipv6',
    linkType: 239,
    description: 'Linux NFLOG of IPv6 (family 10), TLVs in little-endian host order',
    conversation: 'normal-ipv6',
    frame: (seg) => nflog(10, seg),
  },
  {
    name: 'chdlc',
    linkType: 104,
    description: 'Cisco HDLC (LINKTYPE_C_HDLC): unicast address 0x0f, control 0, EtherType',
    conversation: 'normal',
    frame: (seg) => u8(0x0f, 0x00, be16(seg.etherType), seg.ip),
  },
  {
    name: 'ppp-hdlc-cisco',
    linkType: 50,
    description: 'LINKTYPE_PPP_HDLC holding Cisco HDLC frames (address 0x8f / 0x0f), as BSD/OS wrote them',
    conversation: 'normal',
    frame: (seg) => u8(seg.from === 'client' ? 0x0f : 0x8f, 0x00, be16(seg.etherType), seg.ip),
  },
  {
    name: 'capwap-wlan',
    linkType: 1,
    description: 'CAPWAP data (UDP 5247), wireless binding 802.11, native frames with the frame control swapped',
    conversation: 'normal',
    frame: (seg) => {
      // HLEN 2 words, RID 1, WBID 1, T set.
      const capwap = u8(0x00, [0x10, 0x43, 0x00], be16(0), be16(0));
      return outerIp(seg, 17, udp(seg.from === 'client' ? 5247 : 12222, seg.from === 'client' ? 12222 : 5247, concat([capwap, wlan(seg, { qos: true, swapFc: true }, next())])), next());
    },
  },
  {
    name: 'capwap-8023',
    linkType: 1,
    description: 'CAPWAP data (UDP 5247) carrying 802.3 frames, with the optional radio MAC address',
    conversation: 'normal',
    frame: (seg) => {
      // HLEN 4 words, RID 1, WBID 1, M set; radio MAC length 6, address, 1 byte of padding.
      const capwap = u8(0x00, [0x20, 0x42, 0x10], be16(0), be16(0), 6, AP, 0);
      const inner = ethernet(mac(other(seg.from)), mac(seg.from), seg.etherType, seg.ip);
      return outerIp(seg, 17, udp(12223, 5247, concat([capwap, inner])), next());
    },
  },
  {
    name: 'etag',
    linkType: 1,
    description: 'Ethernet with an 802.1BR E-tag (EtherType 0x893f)',
    conversation: 'normal',
    frame: (seg) => {
      const tag = u8((3 << 5) | 0x00, 0x12, 0x10, 0x34, 0, 0, be16(seg.etherType));
      return ethernet(mac(other(seg.from)), mac(seg.from), 0x893f, concat([tag, seg.ip]));
    },
  },
  {
    name: 'erspan-type1',
    linkType: 1,
    description: 'ERSPAN type I: GRE protocol 0x88be without a sequence number, the mirrored Ethernet frame right after GRE',
    conversation: 'normal',
    frame: (seg) => {
      const inner = ethernet(mac(other(seg.from)), mac(seg.from), seg.etherType, seg.ip);
      return outerIp(seg, 47, concat([u8(0, 0, be16(0x88be)), inner]), next());
    },
  },
  {
    name: 'wlan-fragments',
    linkType: 127,
    description:
      '802.11 QoS data under radiotap (FCS flag, FCS on each fragment), every MSDU sent as fragments of 24 bytes of body; ' +
      'the 3rd segment repeats its first fragment with Retry set, the 5th is one frame with fragment number 1 and More Fragments clear',
    conversation: 'normal',
    frame: (seg) => {
      const n = next();
      if (n === 5) return [radiotapFcs(seg, wlan(seg, { qos: true, fragNo: 1 }, n))];
      const frags = wlanFragments(seg, { qos: true }, n, 24);
      if (n === 3) frags.splice(1, 0, wlan(seg, { qos: true, body: pieces(msdu(seg), 24)[0], fragNo: 0, moreFragments: true, retry: true }, n));
      return frags.map((f) => radiotapFcs(seg, f));
    },
  },
  {
    name: 'wlan-fragments-wds',
    linkType: 105,
    description: 'bare 802.11 four-address data, every MSDU in fragments of 16 bytes of body, the two directions interleaved fragment by fragment',
    conversation: 'normal-ipv6',
    frame: (seg) => wlanFragments(seg, { fourAddress: true }, next(), 16),
  },
  {
    name: 'capwap-wlan-fragments',
    linkType: 1,
    description:
      'CAPWAP data carrying 802.11 (frame control swapped), each frame in CAPWAP fragments of 32 bytes; ' +
      'from the server in reverse order, the client repeats its first fragment',
    conversation: 'normal',
    frame: (seg) => {
      const id = next();
      const inner = wlan(seg, { qos: true, swapFc: true }, id);
      const order = (n: number) => (seg.from === 'server' ? [...Array(n).keys()].reverse() : [0, ...Array(n).keys()]);
      return capwapFragments(seg, [0x00, 0x10, 0x43, 0x00, 0, 0, 0, 0], inner, 32, id, order);
    },
  },
  {
    name: 'capwap-8023-fragments',
    linkType: 1,
    description: 'CAPWAP data carrying 802.3 frames with the radio MAC address, each frame in CAPWAP fragments of 40 bytes, in order',
    conversation: 'normal-ipv6',
    frame: (seg) => {
      const id = next();
      const inner = ethernet(mac(other(seg.from)), mac(seg.from), seg.etherType, seg.ip);
      return capwapFragments(seg, [0x00, 0x20, 0x42, 0x10, 0, 0, 0, 0, 6, ...AP, 0], inner, 40, id, (n) => [...Array(n).keys()]);
    },
  },
];

/** NFLOG: family, version 0, resource id (big-endian), then TLVs whose length and type are in host order (here little-endian). */
function nflog(family: number, seg: Segment): Uint8Array {
  const tlv = (type: number, value: Uint8Array) => {
    const len = 4 + value.length;
    return u8(le16(len), le16(type), value, new Array((4 - (len % 4)) % 4).fill(0));
  };
  const hw = ethernet(mac(other(seg.from)), mac(seg.from), seg.etherType, u8()).subarray(0, 14);
  return concat([
    u8(family, 0, be16(5)),
    tlv(1, u8(be16(seg.etherType), 3, 0)), // NFULA_PACKET_HDR: hw_protocol, hook, pad
    tlv(10, u8(new TextEncoder().encode('tcpstate: '), 0)), // NFULA_PREFIX
    tlv(15, u8(be16(1))), // NFULA_HWTYPE
    tlv(16, hw), // NFULA_HWHEADER
    tlv(9, seg.ip), // NFULA_PAYLOAD
  ]);
}

/** The segment's bytes with its TCP window field (IPv4, no options) changed: a conflicting copy. */
function otherWindow(b: Uint8Array, tcpAt: number): Uint8Array {
  const c = b.slice();
  c[tcpAt + 14] ^= 0x55;
  return c;
}

/**
 * Fragments that do not all come together, for a frame-by-frame comparison with tshark only
 * (the conversation they leave is not a normal one).
 */
export const lossyCaptures: LinkCapture[] = [
  {
    name: 'wlan-fragments-lossy',
    linkType: 105,
    description:
      'bare 802.11, MSDUs in fragments of 24 bytes of body: 2nd segment misses its fragment 1, 3rd sends its last fragment first, ' +
      '4th repeats fragment 1 with another TCP window, 6th repeats its last fragment after completing; the rest in order',
    conversation: 'normal',
    frame: (seg) => {
      const n = next();
      const frags = wlanFragments(seg, {}, n, 24);
      if (segNo === 2) frags.splice(1, 1);
      if (segNo === 3) frags.unshift(frags.pop()!);
      if (segNo === 4) {
        const body = pieces(otherWindow(msdu(seg), 8 + 20), 24)[1];
        frags.splice(2, 0, wlan(seg, { body, fragNo: 1, moreFragments: frags.length > 2, retry: true }, n));
      }
      if (segNo === 6) frags.push(frags[frags.length - 1]);
      return frags;
    },
  },
  {
    name: 'capwap-fragments-lossy',
    linkType: 1,
    description:
      'CAPWAP data carrying 802.11, fragments of 32 bytes: 2nd segment misses its piece at offset 32, 4th sends after its pieces ' +
      'at 0 and 32 a piece at [40, 80) with another TCP window, overlapping those at 32 and 64; 6th repeats its first piece after completing; the rest in order',
    conversation: 'normal',
    frame: (seg) => {
      const id = next();
      const inner = wlan(seg, { qos: true, swapFc: true }, id);
      const header = [0x00, 0x10, 0x43, 0x00, 0, 0, 0, 0];
      const order = (n: number) => {
        const all = [...Array(n).keys()];
        if (segNo === 2) return all.filter((i) => i !== 1);
        if (segNo === 6) return [...all, 0];
        return all;
      };
      const frags = capwapFragments(seg, header, inner, 32, id, order);
      if (segNo === 4) {
        // 802.11 QoS header (26) + LLC/SNAP (8) + IPv4 (20): the TCP header at 54, its window at 68.
        const alt = capwapFragments(seg, header, otherWindow(inner, 54).subarray(0, 96), 40, id, () => [1]);
        frags.splice(2, 0, ...alt);
      }
      return frags;
    },
  },
];

/** Ethernet frames under LINKTYPE_USER0 (147): a link type tcpstate does not decode. */
export const unsupportedCapture = { name: 'user0-ethernet', linkType: 147, conversation: 'normal' as const };

/**
 * 802.11 under radiotap whose data frames are all protected (CCMP): the CCMP header, then
 * ciphertext as long as the LLC/SNAP and IP packet, and an 8-byte MIC. No TCP can be read.
 */
export const protectedCapture: LinkCapture = {
  name: 'wlan-protected',
  linkType: 127,
  description: '802.11 QoS data under radiotap, every data frame protected (CCMP): the TCP inside cannot be read',
  conversation: 'normal',
  frame: (seg) => {
    const n = next();
    const ccmp = u8(n & 0xff, n >> 8, 0, 0x20, 0, 0, 0, 0); // PN0, PN1, reserved, key id 0 with Ext IV, PN2-PN5
    const body = concat([ccmp, noise(msdu(seg).length + 8, n)]);
    return radiotapFcs(seg, wlan(seg, { qos: true, protected: true, body }, n));
  },
};

export function segmentsOf(conversation: 'normal' | 'normal-ipv6'): Segment[] {
  const s = scenarios.find((x) => x.name === conversation)!;
  return runConversation(s.conversation).segments;
}

export function buildLinkCapture(c: Pick<LinkCapture, 'name' | 'linkType' | 'conversation' | 'frame'>): Uint8Array {
  counter = 0;
  segNo = 0;
  const frames: Frame[] = [];
  for (const seg of segmentsOf(c.conversation)) {
    segNo++;
    const f = c.frame(seg);
    // The fragments of one segment 1 µs apart.
    (Array.isArray(f) ? f : [f]).forEach((bytes, i) => frames.push({ tsNs: seg.tsNs + BigInt(i) * 1000n, bytes }));
  }
  if (c.name === 'wlan-fragments-wds') interleave(frames);
  return writePcap({ endian: 'le', precision: 'us', linkType: c.linkType, snaplen: 262144 }, frames);
}

/**
 * Interleave each pair of segments fragment by fragment, keeping each one's own order: the
 * reassembler must tell their fragments apart (by addresses and sequence number).
 */
function interleave(frames: Frame[]): void {
  // Group the frames of each MSDU by their sequence number (bytes 22-23 of the bare 802.11 header).
  const groups: Frame[][] = [];
  for (const f of frames) {
    const sc = f.bytes[22] | (f.bytes[23] << 8);
    if ((sc & 0xf) === 0) groups.push([]);
    groups[groups.length - 1].push(f);
  }
  const out: Frame[] = [];
  for (let g = 0; g < groups.length; g += 2) {
    const [a, b = []] = [groups[g], groups[g + 1]];
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if (i < a.length) out.push(a[i]);
      if (i < b.length) out.push(b[i]);
    }
  }
  // Timestamps stay in order: frame k takes the k-th smallest time.
  const times = frames.map((f) => f.tsNs).sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  out.forEach((f, k) => (frames[k] = { tsNs: times[k], bytes: f.bytes }));
}

export function buildUnsupported(): Uint8Array {
  return buildLinkCapture({
    ...unsupportedCapture,
    frame: (seg) => ethernet(mac(other(seg.from)), mac(seg.from), seg.etherType, seg.ip),
  });
}

export function readme(): string {
  const rows = [...linkCaptures, ...lossyCaptures, protectedCapture].map((c) => `| \`${c.name}.pcap\` | ${c.linkType} | ${c.conversation} | ${c.description} |`);
  return `# Link-layer and encapsulation captures

Generated by \`scripts/make-link-captures.ts\`; do not edit by hand. Regenerate with

    node_modules/.bin/tsc -p . && node dist/scripts/make-link-captures.js

and the tshark goldens in \`golden/\` with \`bash scripts/golden/tshark-link.sh\` (tshark 4.0.17).
Each capture carries the IP packets of a scenario of \`samples/scenarios\` (13 packets, one
connection; fragmented, a segment takes several frames). \`${unsupportedCapture.name}.pcap\` holds Ethernet
frames under LINKTYPE_USER0 (147), a link type tcpstate does not decode, and \`${protectedCapture.name}.pcap\`
802.11 data frames that are all protected: the analysis of each must warn. The \`-lossy\` captures lose,
reorder and contradict fragments: only their frames are compared with tshark. \`test/link-captures.test.ts\` checks
that these files are what the generator writes and that tcpstate decodes them as tshark does.

| file | link type | conversation | what |
| --- | --- | --- | --- |
${rows.join('\n')}
`;
}

function main(argv: string[]): void {
  const outAt = argv.indexOf('--out');
  const dir = resolve(outAt >= 0 ? argv[outAt + 1] : join('samples', 'link'));
  mkdirSync(dir, { recursive: true });
  for (const c of linkCaptures) writeFileSync(join(dir, `${c.name}.pcap`), buildLinkCapture(c));
  writeFileSync(join(dir, `${unsupportedCapture.name}.pcap`), buildUnsupported());
  for (const c of lossyCaptures) writeFileSync(join(dir, `${c.name}.pcap`), buildLinkCapture(c));
  writeFileSync(join(dir, `${protectedCapture.name}.pcap`), buildLinkCapture(protectedCapture));
  writeFileSync(join(dir, 'README.md'), readme());
  console.log(`wrote ${linkCaptures.length + lossyCaptures.length + 2} captures and README.md to ${dir}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main(process.argv.slice(2));
