// The one-behaviour captures in samples/scenarios/, each with the end state
// both endpoints' kernels would be in after exactly this packet sequence
// (RFC 793 state names; every captured packet is taken to have reached its
// destination, the capture is next to the client).

import { hash32, MACS, runConversation, type Conversation, type Side, type Step, type TcpState } from './describe.js';
import {
  ETHERTYPE,
  LINKTYPE,
  PACKET_TYPE,
  ethernet,
  parseMac,
  sll,
  sll2,
  writePcap,
  writePcapng,
  type Endian,
  type Frame,
  type TsPrecision,
  type VlanTag,
} from './writer.js';

export type Link = { type: 'ethernet'; tags?: VlanTag[] } | { type: 'sll2' } | { type: 'sll' } | { type: 'raw' };

export type FileFormat =
  | { container: 'pcap'; endian: Endian; precision: TsPrecision; snaplen?: number }
  | { container: 'pcapng'; endian: Endian; tsresol?: 6 | 9; snaplen?: number };

export interface Scenario {
  name: string;
  description: string;
  expect: Record<Side, TcpState>;
  conversation: Conversation;
  link?: Link; // default Ethernet
  format?: FileFormat; // default pcap, little-endian, microseconds
  /** Same frames (format twins) or same IP packets (link variants) as that scenario, timestamps equal at µs. */
  sameFramesAs?: string;
  sameIpPacketsAs?: string;
}

// ---------------------------------------------------------------- building blocks

/** A start time in 2024-2026 with nanosecond digits, fixed per seed. */
function startFor(seed: string): string {
  const base = Date.UTC(2024, 5, 1) / 1000;
  const sec = base + (hash32(seed + '/start') % (600 * 86400));
  const ns = (hash32(seed + '/ns') % 1_000_000_000) | 1; // never a whole microsecond
  return new Date(sec * 1000).toISOString().replace(/\.\d{3}Z$/, `.${String(ns).padStart(9, '0')}Z`);
}

function conv(seed: string, steps: Step[], more: Partial<Conversation> = {}): Conversation {
  return { seed, start: startFor(seed), steps, ...more };
}

const handshake: Step[] = [
  { from: 'client', flags: 'S' },
  { from: 'server', flags: 'SA' },
  { from: 'client', flags: 'A' },
];
const request: Step[] = [
  { from: 'client', flags: 'PA', len: 117, t: '+0.000040' }, // odd: the checksum pads a byte
  { from: 'server', flags: 'A' },
];
const response: Step[] = [
  { from: 'server', flags: 'A', len: 1448, t: '+0.000900' },
  { from: 'server', flags: 'A', len: 1448 },
  { from: 'server', flags: 'PA', len: 600 },
  { from: 'client', flags: 'A' },
];
const exchange = [...handshake, ...request, ...response];
const clientCloses: Step[] = [
  { from: 'client', flags: 'FA', t: '+0.250' },
  { from: 'server', flags: 'A' },
  { from: 'server', flags: 'FA', t: '+0.000300' },
  { from: 'client', flags: 'A' },
];
const serverCloses: Step[] = [
  { from: 'server', flags: 'FA', t: '+5.000' },
  { from: 'client', flags: 'A' },
  { from: 'client', flags: 'FA', t: '+0.000200' },
  { from: 'server', flags: 'A' },
];

const normal = conv('normal', [...exchange, ...clientCloses]);
const ether: Link = { type: 'ethernet' };

// ---------------------------------------------------------------- the scenarios

const base: Scenario[] = [
  {
    name: 'normal',
    description: 'handshake, request, 3-segment response, client closes first (FIN/ACK, FIN/ACK)',
    expect: { client: 'TIME_WAIT', server: 'CLOSED' },
    conversation: normal,
  },
  {
    name: 'normal-server-close',
    description: 'handshake, request, response, server closes first',
    expect: { client: 'CLOSED', server: 'TIME_WAIT' },
    conversation: conv('normal-server-close', [...exchange, ...serverCloses]),
  },
  {
    name: 'three-way-close',
    description: 'client FIN, server FIN+ACK in one segment, client ACK',
    expect: { client: 'TIME_WAIT', server: 'CLOSED' },
    conversation: conv('three-way-close', [
      ...exchange,
      { from: 'client', flags: 'FA', t: '+0.100' },
      { from: 'server', flags: 'FA' },
      { from: 'client', flags: 'A' },
    ]),
  },
  {
    name: 'simultaneous-open',
    description: 'SYN crosses SYN, each side answers with SYN-ACK (RFC 793 figure 8)',
    expect: { client: 'ESTABLISHED', server: 'ESTABLISHED' },
    conversation: conv('simultaneous-open', [
      { from: 'client', flags: 'S', crosses: true },
      { from: 'server', flags: 'S', t: '+0.000300' },
      { from: 'client', flags: 'SA', t: '+0.000050' },
      { from: 'server', flags: 'SA', t: '+0.000400' },
    ]),
  },
  {
    name: 'simultaneous-close',
    description: 'FIN crosses FIN (both CLOSING), then each ACKs the other FIN',
    expect: { client: 'TIME_WAIT', server: 'TIME_WAIT' },
    conversation: conv('simultaneous-close', [
      ...exchange,
      { from: 'client', flags: 'FA', t: '+0.100', crosses: true },
      { from: 'server', flags: 'FA', t: '+0.000300' },
      { from: 'client', flags: 'A', t: '+0.000050' },
      { from: 'server', flags: 'A', t: '+0.000400' },
    ]),
  },
  {
    name: 'simultaneous-close-unacked',
    description: 'FIN crosses FIN and the capture ends before either FIN is ACKed',
    expect: { client: 'CLOSING', server: 'CLOSING' },
    conversation: conv('simultaneous-close-unacked', [
      ...exchange,
      { from: 'client', flags: 'FA', t: '+0.100', crosses: true },
      { from: 'server', flags: 'FA', t: '+0.000300' },
    ]),
  },
  {
    name: 'rst-syn-sent',
    description: 'connection refused: SYN answered by RST+ACK (seq 0)',
    expect: { client: 'CLOSED', server: 'CLOSED' },
    conversation: conv('rst-syn-sent', [
      { from: 'client', flags: 'S' },
      { from: 'server', flags: 'RA', seq: 0, win: 0 },
    ]),
  },
  {
    name: 'rst-syn-received',
    description: 'client gave up before the SYN-ACK came and answers it with RST; the server goes back to LISTEN',
    expect: { client: 'CLOSED', server: 'LISTEN' },
    conversation: conv('rst-syn-received', [
      { from: 'client', flags: 'S' },
      { from: 'server', flags: 'SA' },
      { from: 'client', flags: 'R', t: '+0.000060' },
    ]),
  },
  {
    name: 'rst-established',
    description: 'server resets right after the request',
    expect: { client: 'CLOSED', server: 'CLOSED' },
    conversation: conv('rst-established', [...handshake, request[0], { from: 'server', flags: 'RA' }]),
  },
  {
    name: 'rst-fin-wait-1',
    description: 'client FIN crosses a server RST: the RST arrives in FIN_WAIT_1',
    expect: { client: 'CLOSED', server: 'CLOSED' },
    conversation: conv('rst-fin-wait-1', [
      ...exchange,
      { from: 'client', flags: 'FA', t: '+0.100', crosses: true },
      { from: 'server', flags: 'RA', t: '+0.000200' },
    ]),
  },
  {
    name: 'rst-fin-wait-2',
    description: 'client FIN is ACKed, then the server aborts from CLOSE_WAIT with RST: arrives in FIN_WAIT_2',
    expect: { client: 'CLOSED', server: 'CLOSED' },
    conversation: conv('rst-fin-wait-2', [
      ...exchange,
      { from: 'client', flags: 'FA', t: '+0.100' },
      { from: 'server', flags: 'A' },
      { from: 'server', flags: 'RA', t: '+1.000' },
    ]),
  },
  {
    name: 'rst-close-wait',
    description: 'client closed; server (CLOSE_WAIT) still sends data, the closed client answers RST',
    expect: { client: 'CLOSED', server: 'CLOSED' },
    conversation: conv('rst-close-wait', [
      ...exchange,
      { from: 'client', flags: 'FA', t: '+0.100' },
      { from: 'server', flags: 'A' },
      { from: 'server', flags: 'PA', len: 200, t: '+0.500' },
      { from: 'client', flags: 'R' },
    ]),
  },
  {
    name: 'rst-last-ack',
    description: 'client closed; server sends data+FIN (LAST_ACK), the closed client answers RST',
    expect: { client: 'CLOSED', server: 'CLOSED' },
    conversation: conv('rst-last-ack', [
      ...exchange,
      { from: 'client', flags: 'FA', t: '+0.100' },
      { from: 'server', flags: 'A' },
      { from: 'server', flags: 'FPA', len: 200, t: '+0.500' },
      { from: 'client', flags: 'R' },
    ]),
  },
  {
    name: 'rst-closing',
    description: 'FIN crosses FIN (both CLOSING), then the server resets before any FIN is ACKed',
    expect: { client: 'CLOSED', server: 'CLOSED' },
    conversation: conv('rst-closing', [
      ...exchange,
      { from: 'client', flags: 'FA', t: '+0.100', crosses: true },
      { from: 'server', flags: 'FA', t: '+0.000300' },
      { from: 'server', flags: 'RA', t: '+0.000020' },
    ]),
  },
  {
    name: 'rst-after-time-wait',
    description: 'normal client-first close; the final ACK is duplicated, the CLOSED server answers the copy with RST, which ends TIME_WAIT',
    expect: { client: 'CLOSED', server: 'CLOSED' },
    conversation: conv('rst-after-time-wait', [
      ...exchange,
      ...clientCloses,
      { from: 'client', flags: 'A', t: '+0.000030' },
      { from: 'server', flags: 'R' },
    ]),
  },
  {
    name: 'midstream',
    description: 'capture starts mid-connection (no handshake): data both ways, then client-first close',
    expect: { client: 'TIME_WAIT', server: 'CLOSED' },
    conversation: conv(
      'midstream',
      [
        { from: 'client', flags: 'PA', len: 301 },
        { from: 'server', flags: 'A' },
        { from: 'server', flags: 'A', len: 1448, t: '+0.001000' },
        { from: 'server', flags: 'PA', len: 700 },
        { from: 'client', flags: 'A' },
        ...clientCloses,
      ],
      { midstream: true },
    ),
  },
  {
    name: 'synack-before-syn',
    description: 'capture reordering: the SYN-ACK is recorded 40 µs before the SYN it answers',
    expect: { client: 'ESTABLISHED', server: 'ESTABLISHED' },
    conversation: conv(
      'synack-before-syn',
      [
        { from: 'client', flags: 'S', seen: '+0.000120' },
        { from: 'server', flags: 'SA' },
        { from: 'client', flags: 'A', t: '+0.000150' },
        ...request,
        ...response,
      ],
      { rtt: '0.000080' },
    ),
  },
  {
    name: 'seq-wraparound',
    description: 'both sequence spaces wrap through 2^32 inside data segments',
    expect: { client: 'TIME_WAIT', server: 'CLOSED' },
    conversation: conv(
      'seq-wraparound',
      [...handshake, { from: 'client', flags: 'PA', len: 400, t: '+0.000040' }, { from: 'server', flags: 'A' }, ...response, ...clientCloses],
      { isn: { client: 0xffffff00, server: 0xfffff830 } },
    ),
  },
  {
    name: 'syn-retransmit',
    description: 'SYN sent 3 times (1 s, 2 s backoff) before the SYN-ACK',
    expect: { client: 'ESTABLISHED', server: 'ESTABLISHED' },
    conversation: conv('syn-retransmit', [
      { from: 'client', flags: 'S', lost: true },
      { from: 'client', flags: 'S', t: '+1.000', lost: true },
      { from: 'client', flags: 'S', t: '+2.000' },
      { from: 'server', flags: 'SA' },
      { from: 'client', flags: 'A' },
    ]),
  },
  {
    name: 'syn-unanswered',
    description: 'SYN and 4 retransmissions (1, 2, 4, 8 s backoff), never answered',
    expect: { client: 'SYN_SENT', server: 'CLOSED' },
    conversation: conv('syn-unanswered', [
      { from: 'client', flags: 'S', lost: true },
      { from: 'client', flags: 'S', t: '+1.000', lost: true },
      { from: 'client', flags: 'S', t: '+2.000', lost: true },
      { from: 'client', flags: 'S', t: '+4.000', lost: true },
      { from: 'client', flags: 'S', t: '+8.000', lost: true },
    ]),
  },
  {
    name: 'fin-retransmit',
    description: 'client FIN retransmitted after 220 ms, then the normal close',
    expect: { client: 'TIME_WAIT', server: 'CLOSED' },
    conversation: conv('fin-retransmit', [
      ...exchange,
      { from: 'client', flags: 'FA', t: '+0.100', lost: true },
      { from: 'client', flags: 'FA', t: '+0.220' },
      { from: 'server', flags: 'A' },
      { from: 'server', flags: 'FA', t: '+0.000300' },
      { from: 'client', flags: 'A' },
    ]),
  },
  {
    name: 'sack-retransmit',
    description: 'server segment 2 of 5 lost before the capture point: SACKed dup ACKs, retransmission, ACK of all',
    expect: { client: 'ESTABLISHED', server: 'ESTABLISHED' },
    conversation: conv('sack-retransmit', [
      ...handshake,
      ...request,
      { from: 'server', flags: 'A', len: 1448, t: '+0.000900' },
      { from: 'server', flags: 'A', len: 1448, lost: true, captured: false },
      { from: 'server', flags: 'A', len: 1448 },
      { from: 'client', flags: 'A' },
      { from: 'server', flags: 'A', len: 1448, t: '+0.000010' },
      { from: 'client', flags: 'A' },
      { from: 'server', flags: 'PA', len: 1000, t: '+0.000010' },
      { from: 'client', flags: 'A' },
      { from: 'server', flags: 'A', len: 1448, rseq: 1449 },
      { from: 'client', flags: 'A' },
    ]),
  },
  {
    name: 'unresponsive-peer',
    description: 'the server vanishes after the exchange: the next request is retransmitted with backoff (0.2 s to 6.4 s) and never acknowledged',
    expect: { client: 'ESTABLISHED', server: 'ESTABLISHED' },
    conversation: conv('unresponsive-peer', [
      ...exchange,
      { from: 'client', flags: 'PA', len: 100, t: '+1.0', lost: true },
      { from: 'client', flags: 'PA', len: 100, t: '+0.2', rseq: 118, lost: true },
      { from: 'client', flags: 'PA', len: 100, t: '+0.4', rseq: 118, lost: true },
      { from: 'client', flags: 'PA', len: 100, t: '+0.8', rseq: 118, lost: true },
      { from: 'client', flags: 'PA', len: 100, t: '+1.6', rseq: 118, lost: true },
      { from: 'client', flags: 'PA', len: 100, t: '+3.2', rseq: 118, lost: true },
      { from: 'client', flags: 'PA', len: 100, t: '+6.4', rseq: 118, lost: true },
    ]),
  },
  {
    name: 'normal-ipv6',
    description: 'the normal conversation over IPv6',
    expect: { client: 'TIME_WAIT', server: 'CLOSED' },
    conversation: conv('normal-ipv6', [...exchange, ...clientCloses], { family: 6 }),
  },
];

// the normal conversation on other link layers
const linkVariants: Array<[string, string, Link, number?]> = [
  ['normal-vlan', '802.1Q VLAN 100', { type: 'ethernet', tags: [{ tpid: ETHERTYPE.VLAN, vid: 100 }] }],
  [
    'normal-qinq',
    'QinQ: 802.1ad S-tag 200 (0x88a8) outside 802.1Q C-tag 100',
    { type: 'ethernet', tags: [{ tpid: ETHERTYPE.QINQ, vid: 200 }, { tpid: ETHERTYPE.VLAN, vid: 100, pcp: 3 }] },
  ],
  ['normal-sll2', 'Linux cooked capture v2 (SLL2, "tcpdump -i any")', { type: 'sll2' }],
  ['normal-sll', 'Linux cooked capture v1 (SLL)', { type: 'sll' }],
  ['normal-raw', 'raw IP link type (no link-layer header)', { type: 'raw' }],
];

// the normal conversation in other file formats
const formatTwins: Array<[string, string, FileFormat]> = [
  ['normal-pcap-be-us', 'pcap big-endian, microseconds', { container: 'pcap', endian: 'be', precision: 'us' }],
  ['normal-pcap-le-ns', 'pcap little-endian, nanoseconds', { container: 'pcap', endian: 'le', precision: 'ns' }],
  ['normal-pcap-be-ns', 'pcap big-endian, nanoseconds', { container: 'pcap', endian: 'be', precision: 'ns' }],
  ['normal-pcapng-le', 'pcapng little-endian, no if_tsresol (microseconds)', { container: 'pcapng', endian: 'le' }],
  ['normal-pcapng-be', 'pcapng big-endian, if_tsresol 6', { container: 'pcapng', endian: 'be', tsresol: 6 }],
  ['normal-pcapng-ns', 'pcapng little-endian, if_tsresol 9 (nanoseconds)', { container: 'pcapng', endian: 'le', tsresol: 9 }],
];

export const scenarios: Scenario[] = [
  ...base,
  ...linkVariants.map(([name, what, link]): Scenario => ({
    name,
    description: `the normal conversation, ${what}`,
    expect: base[0].expect,
    conversation: normal,
    link,
    sameIpPacketsAs: 'normal',
  })),
  {
    name: 'normal-snaplen',
    description: 'the normal conversation captured with snaplen 96: data segments truncated (caplen < origlen)',
    expect: base[0].expect,
    conversation: normal,
    format: { container: 'pcap', endian: 'le', precision: 'us', snaplen: 96 },
    sameIpPacketsAs: 'normal',
  },
  ...formatTwins.map(([name, what, format]): Scenario => ({
    name,
    description: `twin of normal: ${what}`,
    expect: base[0].expect,
    conversation: normal,
    format,
    sameFramesAs: 'normal',
    sameIpPacketsAs: 'normal',
  })),
];

// ---------------------------------------------------------------- files

export const DEFAULT_SNAPLEN = 262144;

export function linkTypeOf(link: Link): number {
  return { ethernet: LINKTYPE.ETHERNET, sll2: LINKTYPE.LINUX_SLL2, sll: LINKTYPE.LINUX_SLL, raw: LINKTYPE.RAW }[link.type];
}

export function formatOf(s: Scenario): FileFormat {
  return s.format ?? { container: 'pcap', endian: 'le', precision: 'us' };
}

export function fileNameOf(s: Scenario): string {
  return `${s.name}.${formatOf(s).container}`;
}

/** Wrap one IP packet in the scenario's link layer (capture taken on the client host). */
export function frameOf(link: Link, from: Side, etherType: number, ip: Uint8Array): Uint8Array {
  const src = parseMac(MACS[from]);
  const dst = parseMac(MACS[from === 'client' ? 'server' : 'client']);
  const cooked = { packetType: from === 'client' ? PACKET_TYPE.OUTGOING : PACKET_TYPE.HOST, arphrd: 1, addr: src, ifindex: 2 };
  switch (link.type) {
    case 'ethernet':
      return ethernet(dst, src, etherType, ip, link.tags);
    case 'sll2':
      return sll2(etherType, ip, cooked);
    case 'sll':
      return sll(etherType, ip, cooked);
    case 'raw':
      return ip;
  }
}

export function framesOf(s: Scenario): Frame[] {
  const link = s.link ?? ether;
  return runConversation(s.conversation).segments.map((seg) => ({ tsNs: seg.tsNs, bytes: frameOf(link, seg.from, seg.etherType, seg.ip) }));
}

export function buildCapture(s: Scenario): Uint8Array {
  const f = formatOf(s);
  const linkType = linkTypeOf(s.link ?? ether);
  const snaplen = f.snaplen ?? DEFAULT_SNAPLEN;
  const frames = framesOf(s);
  if (f.container === 'pcap') return writePcap({ endian: f.endian, precision: f.precision, linkType, snaplen }, frames);
  const iface = { linkType, snaplen, name: 'eth0', ...(f.tsresol === undefined ? {} : { tsresol: f.tsresol }) };
  return writePcapng(
    f.endian,
    [iface],
    frames.map((frame) => ({ frame })),
    'tcpstate make-scenarios',
  );
}
