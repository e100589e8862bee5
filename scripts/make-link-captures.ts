// Writes samples/link/: the normal scenario conversation carried by link layers and
// encapsulations other than Ethernet (802.11 with radiotap, PPI or bare, NFLOG, Cisco HDLC,
// CAPWAP, 802.1BR E-tag, ERSPAN type I), and one capture of a link type tcpstate does not
// decode. Deterministic: running it again writes the same bytes.
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
  frame: (seg: Segment) => Uint8Array;
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
}

/** An 802.11 data frame: the client is a station, the server behind the access point. */
function wlan(seg: Segment, o: WlanOpts, seqNo: number): Uint8Array {
  const toAp = seg.from === 'client';
  const subtype = o.qos ? 8 : 0;
  const fc0 = (subtype << 4) | (2 << 2);
  let fc1 = o.fourAddress ? 0x03 : toAp ? 0x01 : 0x02;
  if (o.htc) fc1 |= 0x80;
  const sa = mac(seg.from);
  const da = mac(other(seg.from));
  // To DS: BSSID, SA, DA; from DS: DA, BSSID, SA; WDS: RA, TA, DA, SA.
  const addrs = o.fourAddress ? [toAp ? AP : BRIDGE, toAp ? BRIDGE : AP, da, sa] : toAp ? [AP, sa, da] : [da, AP, sa];
  const header = u8(o.swapFc ? [fc1, fc0] : [fc0, fc1], le16(44), addrs[0], addrs[1], addrs[2], le16((seqNo & 0xfff) << 4), o.fourAddress ? addrs[3] : []);
  const qos = o.qos ? u8(le16(seqNo % 8)) : u8();
  const htc = o.htc ? u8(le32(0x0000c000)) : u8();
  const len = header.length + qos.length + htc.length;
  const pad = o.pad && len % 4 ? new Uint8Array(4 - (len % 4)) : u8();
  return concat([header, qos, htc, pad, u8(snap(seg.etherType)), seg.ip]);
}

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

let counter = 0;
const next = () => ++counter;

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

/** Ethernet frames under LINKTYPE_USER0 (147): a link type tcpstate does not decode. */
export const unsupportedCapture = { name: 'user0-ethernet', linkType: 147, conversation: 'normal' as const };

export function segmentsOf(conversation: 'normal' | 'normal-ipv6'): Segment[] {
  const s = scenarios.find((x) => x.name === conversation)!;
  return runConversation(s.conversation).segments;
}

export function buildLinkCapture(c: { linkType: number; conversation: 'normal' | 'normal-ipv6'; frame: (seg: Segment) => Uint8Array }): Uint8Array {
  counter = 0;
  const frames: Frame[] = segmentsOf(c.conversation).map((seg) => ({ tsNs: seg.tsNs, bytes: c.frame(seg) }));
  return writePcap({ endian: 'le', precision: 'us', linkType: c.linkType, snaplen: 262144 }, frames);
}

export function buildUnsupported(): Uint8Array {
  return buildLinkCapture({
    ...unsupportedCapture,
    frame: (seg) => ethernet(mac(other(seg.from)), mac(seg.from), seg.etherType, seg.ip),
  });
}

export function readme(): string {
  const rows = linkCaptures.map((c) => `| \`${c.name}.pcap\` | ${c.linkType} | ${c.conversation} | ${c.description} |`);
  return `# Link-layer and encapsulation captures

Generated by \`scripts/make-link-captures.ts\`; do not edit by hand. Regenerate with

    node_modules/.bin/tsc -p . && node dist/scripts/make-link-captures.js

and the tshark goldens in \`golden/\` with \`bash scripts/golden/tshark-link.sh\` (tshark 4.0.17).
Each capture carries the IP packets of a scenario of \`samples/scenarios\` (13 packets, one
connection). \`${unsupportedCapture.name}.pcap\` holds Ethernet frames under LINKTYPE_USER0 (147), a
link type tcpstate does not decode: its analysis must warn. \`test/link-captures.test.ts\` checks
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
  writeFileSync(join(dir, 'README.md'), readme());
  console.log(`wrote ${linkCaptures.length + 1} captures and README.md to ${dir}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main(process.argv.slice(2));
