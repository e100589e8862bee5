/**
 * IPv4 (options) and IPv6 (extension headers: hop-by-hop with the jumbo payload
 * option, routing, fragment, destination options, AH, mobility, HIP, shim6). A
 * fragment, first or not, stops here with Status.IP_FRAGMENT and its place in the
 * datagram on the packet; fragments.ts reassembles and decodes the datagram. Lengths come from the IP header, clamped to the frame's wire length,
 * so a small snaplen does not shrink the TCP payload length.
 */
import { type DecodedPacket, u16, u32 } from './packet.js';
import { byIpProtocol, enterTunnel, etherTypes, ipProtocols } from './registry.js';
import { Note, Status } from './status.js';

export function decodeIPv4(p: DecodedPacket, b: Uint8Array, off: number, end: number): number {
  if (off + 20 > end) return Status.TRUNCATED_IP;
  const vihl = b[off];
  if (vihl >> 4 !== 4) return Status.BAD_IP_HEADER;
  const ihl = (vihl & 15) * 4;
  if (ihl < 20) return Status.BAD_IP_HEADER;
  if (off + ihl > end) return Status.TRUNCATED_IP;
  const wire = p.wireEnd - off;
  let total = u16(b, off + 2);
  if (total === 0) total = wire; // TSO/GSO frames captured before segmentation carry 0
  if (total < ihl) return Status.BAD_IP_HEADER;
  if (total > wire) {
    p.notes |= Note.IP_LENGTH_EXCEEDS_FRAME;
    total = wire;
  }
  p.ipVersion = 4;
  p.ipOff = off;
  p.srcOff = off + 12;
  p.dstOff = off + 16;
  p.ipEnd = off + total;
  p.ttl = b[off + 8];
  const fragment = u16(b, off + 6);
  if ((fragment & 0x3fff) !== 0) {
    // MF set or a non-zero offset: held for reassembly (fragments.ts), decoded once whole.
    p.fragId = u16(b, off + 4);
    p.fragProto = b[off + 9];
    p.fragOffset = (fragment & 0x1fff) * 8;
    p.fragMore = (fragment & 0x2000) !== 0;
    p.fragHeaderEnd = off + ihl;
    p.fragNextOff = off + 9;
    p.fragDataOff = off + ihl;
    p.fragDataEnd = p.ipEnd;
    p.fragCut = p.ipEnd > end || (p.notes & Note.IP_LENGTH_EXCEEDS_FRAME) !== 0;
    return Status.IP_FRAGMENT;
  }
  return byIpProtocol(p, b[off + 9], b, off + ihl, Math.min(end, p.ipEnd));
}

/** IPv6 extension headers whose length is (len + 1) * 8 bytes. */
const EXT_8 = new Set([0, 43, 60, 135, 139, 140]);
const EXT_FRAGMENT = 44;
const EXT_AH = 51;
const HOP_BY_HOP = 0;

export function decodeIPv6(p: DecodedPacket, b: Uint8Array, off: number, end: number): number {
  if (off + 40 > end) return Status.TRUNCATED_IP;
  if (b[off] >> 4 !== 6) return Status.BAD_IP_HEADER;
  const wire = p.wireEnd - off - 40;
  let plen = u16(b, off + 4);
  let next = b[off + 6];
  p.ipVersion = 6;
  p.ipOff = off;
  p.srcOff = off + 8;
  p.dstOff = off + 24;
  p.ttl = b[off + 7];
  let h = off + 40;
  /** Where the next-header byte that names the header at h sits. */
  let nextOff = off + 6;
  let jumbo = -1;
  for (let guard = 0; ; guard++) {
    if (guard > 16) return Status.BAD_IP_HEADER;
    let len: number;
    if (EXT_8.has(next)) {
      if (h + 2 > end) return Status.TRUNCATED_IP;
      len = (b[h + 1] + 1) * 8;
      if (h + len > end) return Status.TRUNCATED_IP;
      if (next === HOP_BY_HOP && plen === 0) jumbo = jumboLength(b, h + 2, h + len);
    } else if (next === EXT_FRAGMENT) {
      if (h + 8 > end) return Status.TRUNCATED_IP;
      len = 8;
      const field = u16(b, h + 2);
      // An atomic fragment (offset 0, M clear: RFC 6946) is a whole datagram; any other is held for reassembly.
      if ((field & 0xfff9) !== 0) {
        p.ipEnd = off + 40 + Math.min(plen, wire);
        p.fragId = u32(b, h + 4);
        p.fragProto = b[h];
        p.fragOffset = field & 0xfff8;
        p.fragMore = (field & 1) !== 0;
        p.fragHeaderEnd = h;
        p.fragNextOff = nextOff;
        p.fragDataOff = h + 8;
        p.fragDataEnd = p.ipEnd;
        p.fragCut = p.ipEnd > end || plen > wire || p.ipEnd < h + 8;
        return Status.IP_FRAGMENT;
      }
    } else if (next === EXT_AH) {
      if (h + 2 > end) return Status.TRUNCATED_IP;
      len = (b[h + 1] + 2) * 4;
      if (h + len > end) return Status.TRUNCATED_IP;
    } else {
      break;
    }
    next = b[h];
    nextOff = h;
    h += len;
  }
  if (plen === 0) plen = jumbo >= 0 ? jumbo : wire;
  if (plen > wire) {
    p.notes |= Note.IP_LENGTH_EXCEEDS_FRAME;
    plen = wire;
  }
  p.ipEnd = off + 40 + plen;
  if (h > p.ipEnd) return Status.BAD_IP_HEADER;
  return byIpProtocol(p, next, b, h, Math.min(end, p.ipEnd));
}

/** The Jumbo Payload option (type 0xC2) inside a hop-by-hop header, or -1. */
function jumboLength(b: Uint8Array, o: number, end: number): number {
  while (o < end) {
    const type = b[o];
    if (type === 0) {
      o++;
      continue;
    }
    if (o + 2 > end) return -1;
    const len = b[o + 1];
    if (type === 0xc2 && len === 4 && o + 6 <= end) return u32(b, o + 2);
    o += 2 + len;
  }
  return -1;
}

/** IPv4 authentication header in front of the transport. */
function decodeAh(p: DecodedPacket, b: Uint8Array, off: number, end: number): number {
  if (off + 2 > end) return Status.TRUNCATED_IP;
  const len = (b[off + 1] + 2) * 4;
  if (off + len > end) return Status.TRUNCATED_IP;
  return byIpProtocol(p, b[off], b, off + len, end);
}

/**
 * Entering a tunnel: counts it, refuses absurd nesting, and bounds what follows
 * by the outer IP packet's own length.
 */
export function tunnel(p: DecodedPacket): boolean {
  if (p.ipVersion !== 0) p.wireEnd = p.ipEnd;
  return enterTunnel(p);
}

/** IP inside a tunnel whose header says which version follows (0: read the nibble). */
export function innerIp(p: DecodedPacket, b: Uint8Array, off: number, end: number, version: number): number {
  if (version === 4) return decodeIPv4(p, b, off, end);
  if (version === 6) return decodeIPv6(p, b, off, end);
  return decodeIpByVersion(p, b, off, end);
}

/** Raw IP where the version nibble picks the decoder. */
export function decodeIpByVersion(p: DecodedPacket, b: Uint8Array, off: number, end: number): number {
  if (off >= end) return Status.TRUNCATED_IP;
  const v = b[off] >> 4;
  if (v === 4) return decodeIPv4(p, b, off, end);
  if (v === 6) return decodeIPv6(p, b, off, end);
  return Status.BAD_IP_HEADER;
}

etherTypes.set(0x0800, decodeIPv4);
etherTypes.set(0x86dd, decodeIPv6);
ipProtocols.set(51, decodeAh);
ipProtocols.set(50, () => Status.ENCRYPTED);
ipProtocols.set(4, (p, b, off, end) => (tunnel(p) ? decodeIPv4(p, b, off, end) : Status.TOO_MANY_LAYERS)); // IP-in-IP
ipProtocols.set(41, (p, b, off, end) => (tunnel(p) ? decodeIPv6(p, b, off, end) : Status.TOO_MANY_LAYERS)); // 6in4 / IPv6-in-IP
