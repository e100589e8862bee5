/**
 * Link layers and what rides directly on them: Ethernet II and 802.3/LLC/SNAP,
 * 802.1Q/802.1ad/QinQ tags, 802.1ah (PBB), Cisco FabricPath, MPLS label stacks,
 * 802.1BR E-tags, PPPoE sessions, PPP (and Cisco HDLC under the PPP link types), Cisco HDLC,
 * FDDI, Linux cooked capture (SLL, SLL2), Linux NFLOG, raw IP and BSD loopback (NULL, LOOP).
 */
import { decodeIPv4, decodeIPv6, decodeIpByVersion } from './ip.js';
import { type DecodedPacket, u16, u32 } from './packet.js';
import { byEtherType, enterTunnel, etherTypes, linkTypes, unsupported, type Decoder } from './registry.js';
import { Encap, Status } from './status.js';

export const LinkType = {
  NULL: 0,
  ETHERNET: 1,
  PPP: 9,
  FDDI: 10,
  RAW_BSD: 12,
  RAW_OPENBSD: 14,
  PPP_HDLC: 50,
  RAW: 101,
  C_HDLC: 104,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  NFLOG: 239,
  LINUX_SLL2: 276,
} as const;

export function decodeEthernet(p: DecodedPacket, b: Uint8Array, off: number, end: number): number {
  if (off + 14 > end) return Status.TRUNCATED_LINK;
  return etherPayload(p, u16(b, off + 12), b, off + 14, end);
}

/** A type/length field: <= 1500 is an 802.3 length followed by LLC. */
function etherPayload(p: DecodedPacket, type: number, b: Uint8Array, off: number, end: number): number {
  if (type <= 1500) return decodeLlc(p, b, off, end);
  return byEtherType(p, type, b, off, end);
}

export function decodeLlc(p: DecodedPacket, b: Uint8Array, off: number, end: number): number {
  if (off + 3 > end) return Status.TRUNCATED_LINK;
  const dsap = b[off];
  const ssap = b[off + 1];
  if (dsap === 0xaa && ssap === 0xaa && b[off + 2] === 0x03) {
    if (off + 8 > end) return Status.TRUNCATED_LINK;
    return byEtherType(p, u16(b, off + 6), b, off + 8, end); // SNAP: OUI then EtherType
  }
  if (dsap === 0x06 && ssap === 0x06) return decodeIPv4(p, b, off + 3, end);
  return Status.NON_IP;
}

function decodeVlan(p: DecodedPacket, b: Uint8Array, off: number, end: number): number {
  if (off + 4 > end) return Status.TRUNCATED_LINK;
  if (p.vlanCount++ === 0) p.vlanId = u16(b, off) & 0x0fff;
  return etherPayload(p, u16(b, off + 2), b, off + 4, end);
}

/** 802.1ah provider backbone bridging: I-TAG, then the customer's MAC addresses and type. */
function decodePbb(p: DecodedPacket, b: Uint8Array, off: number, end: number): number {
  if (!enterTunnel(p)) return Status.TOO_MANY_LAYERS;
  if (off + 18 > end) return Status.TRUNCATED_LINK;
  return etherPayload(p, u16(b, off + 16), b, off + 18, end);
}

/** Cisco FabricPath: FTag/TTL, then the original frame from its MAC addresses on. */
function decodeFabricPath(p: DecodedPacket, b: Uint8Array, off: number, end: number): number {
  if (!enterTunnel(p)) return Status.TOO_MANY_LAYERS;
  if (off + 16 > end) return Status.TRUNCATED_LINK;
  return etherPayload(p, u16(b, off + 14), b, off + 16, end);
}

function decodeMpls(p: DecodedPacket, b: Uint8Array, off: number, end: number): number {
  if (!enterTunnel(p)) return Status.TOO_MANY_LAYERS;
  for (;;) {
    if (off + 4 > end) return Status.TRUNCATED_LINK;
    const bottom = b[off + 2] & 1;
    off += 4;
    if (bottom) break;
    if (++p.layers > 64) return Status.TOO_MANY_LAYERS;
  }
  if (off >= end) return Status.TRUNCATED_LINK;
  const nibble = b[off] >> 4;
  if (nibble === 4 || nibble === 6) return decodeIpByVersion(p, b, off, end);
  if (nibble === 0) return decodeEthernet(p, b, off + 4, end); // pseudowire control word, then Ethernet
  return unsupported(p, Encap.MPLS_PAYLOAD);
}

/** 802.1BR E-tag: 6 bytes of E-PCP/E-DEI, E-CID base and extensions, then the next type. */
function decodeEtag(p: DecodedPacket, b: Uint8Array, off: number, end: number): number {
  if (off + 8 > end) return Status.TRUNCATED_LINK;
  return etherPayload(p, u16(b, off + 6), b, off + 8, end);
}

/** Cisco HDLC: address (0x0f unicast, 0x8f broadcast), control, then an EtherType. */
function decodeChdlc(p: DecodedPacket, b: Uint8Array, off: number, end: number): number {
  if (off + 4 > end) return Status.TRUNCATED_LINK;
  return byEtherType(p, u16(b, off + 2), b, off + 4, end);
}

/** The PPP link types (9, 50) may hold Cisco HDLC frames, told apart by their address byte. */
function decodePppLink(p: DecodedPacket, b: Uint8Array, off: number, end: number): number {
  if (off < end && (b[off] === 0x0f || b[off] === 0x8f)) return decodeChdlc(p, b, off, end);
  return decodePpp(p, b, off, end);
}

/** PPP protocol field (possibly compressed to one byte) after optional HDLC address/control. */
export function decodePpp(p: DecodedPacket, b: Uint8Array, off: number, end: number): number {
  if (off + 2 > end) return Status.TRUNCATED_LINK;
  if (b[off] === 0xff && b[off + 1] === 0x03) off += 2;
  if (off + 1 > end) return Status.TRUNCATED_LINK;
  let proto: number;
  if (b[off] & 1) {
    proto = b[off];
    off += 1;
  } else {
    if (off + 2 > end) return Status.TRUNCATED_LINK;
    proto = u16(b, off);
    off += 2;
  }
  if (proto === 0x21) return decodeIPv4(p, b, off, end);
  if (proto === 0x57) return decodeIPv6(p, b, off, end);
  if (proto === 0x281 || proto === 0x283) return etherTypes.get(0x8847)!(p, b, off, end); // MPLS
  return Status.NON_IP;
}

function decodePppoeSession(p: DecodedPacket, b: Uint8Array, off: number, end: number): number {
  if (!enterTunnel(p)) return Status.TOO_MANY_LAYERS;
  if (off + 6 > end) return Status.TRUNCATED_LINK;
  // The session header's length bounds what follows (Ethernet padding is not data).
  p.wireEnd = Math.min(p.wireEnd, off + 6 + u16(b, off + 4));
  return decodePpp(p, b, off + 6, Math.min(end, p.wireEnd));
}

function decodeFddi(p: DecodedPacket, b: Uint8Array, off: number, end: number): number {
  if (off + 13 > end) return Status.TRUNCATED_LINK;
  return decodeLlc(p, b, off + 13, end);
}

function decodeSll(p: DecodedPacket, b: Uint8Array, off: number, end: number): number {
  if (off + 16 > end) return Status.TRUNCATED_LINK;
  return cookedProtocol(p, u16(b, off + 14), b, off + 16, end);
}

function decodeSll2(p: DecodedPacket, b: Uint8Array, off: number, end: number): number {
  if (off + 20 > end) return Status.TRUNCATED_LINK;
  return cookedProtocol(p, u16(b, off), b, off + 20, end);
}

/** Linux cooked protocol field: an EtherType, or 4 for 802.2 LLC frames. */
function cookedProtocol(p: DecodedPacket, proto: number, b: Uint8Array, off: number, end: number): number {
  if (proto === 0x0004) return decodeLlc(p, b, off, end);
  return etherPayload(p, proto, b, off, end);
}

/** BSD address-family values for IPv6 (NetBSD/OpenBSD, FreeBSD, macOS; Windows/Npcap and Linux). */
const AF_INET6 = new Set([24, 28, 30, 23, 10]);

const NFULA_PAYLOAD = 9;
const LINUX_AF_INET = 2;
const LINUX_AF_INET6 = 10;

/**
 * Linux NFLOG: family, version, resource id, then netlink TLVs whose length and type are in
 * the logging host's byte order (told apart as Wireshark does: the first order that reads a
 * non-zero type below 0x100 wins, big-endian first). The payload TLV holds the IP packet.
 */
function decodeNflog(p: DecodedPacket, b: Uint8Array, off: number, end: number): number {
  if (off + 4 > end) return Status.TRUNCATED_LINK;
  const le = !nflogOrderFits(b, off + 4, end, false) && nflogOrderFits(b, off + 4, end, true);
  let payload = -1;
  let payloadEnd = -1;
  for (let o = off + 4; o + 4 <= end; ) {
    const len = le ? b[o] | (b[o + 1] << 8) : u16(b, o);
    if (len < 4) return Status.TRUNCATED_LINK; // a broken TLV chain: Wireshark stops there too
    const type = (le ? b[o + 2] | (b[o + 3] << 8) : u16(b, o + 2)) & 0x7fff;
    if (type === NFULA_PAYLOAD) {
      payload = o + 4;
      payloadEnd = o + len;
    }
    o += (len + 3) & ~3;
  }
  if (payload < 0) return Status.NON_IP;
  // The TLV's length is the payload's: it bounds the IP packet (and nothing after it is data).
  p.wireEnd = Math.min(p.wireEnd, payloadEnd);
  end = Math.min(end, payloadEnd);
  if (b[off] === LINUX_AF_INET) return decodeIPv4(p, b, payload, end);
  if (b[off] === LINUX_AF_INET6) return decodeIPv6(p, b, payload, end);
  return Status.NON_IP;
}

function nflogOrderFits(b: Uint8Array, o: number, end: number, le: boolean): boolean {
  while (end - o > 4) {
    const len = le ? b[o] | (b[o + 1] << 8) : u16(b, o);
    if (len < 4) return false;
    const type = (le ? b[o + 2] | (b[o + 3] << 8) : u16(b, o + 2)) & 0x7fff;
    if (type >= 0x100) return false;
    if (type !== 0) return true;
    o += (len + 3) & ~3;
  }
  return false;
}

function loopback(littleEndianAllowed: boolean): Decoder {
  return (p, b, off, end) => {
    if (off + 4 > end) return Status.TRUNCATED_LINK;
    // NULL: the writer's host byte order; LOOP: always network order.
    let af = u32(b, off);
    if (littleEndianAllowed && (af & 0xffff0000) !== 0) af = ((b[off + 3] << 24) | (b[off + 2] << 16) | (b[off + 1] << 8) | b[off]) >>> 0;
    if (af === 2) return decodeIPv4(p, b, off + 4, end);
    if (AF_INET6.has(af) && off + 4 < end && b[off + 4] >> 4 === 6) return decodeIPv6(p, b, off + 4, end);
    return Status.NON_IP;
  };
}

for (const t of [0x8100, 0x88a8, 0x9100, 0x9200]) etherTypes.set(t, decodeVlan);
etherTypes.set(0x88e7, decodePbb);
etherTypes.set(0x8903, decodeFabricPath);
etherTypes.set(0x8847, decodeMpls);
etherTypes.set(0x8848, decodeMpls);
etherTypes.set(0x8864, decodePppoeSession);
etherTypes.set(0x893f, decodeEtag);

linkTypes.set(LinkType.NULL, loopback(true));
linkTypes.set(LinkType.LOOP, loopback(false));
linkTypes.set(LinkType.ETHERNET, decodeEthernet);
linkTypes.set(LinkType.PPP, decodePppLink);
linkTypes.set(LinkType.PPP_HDLC, decodePppLink);
linkTypes.set(LinkType.C_HDLC, decodeChdlc);
linkTypes.set(LinkType.NFLOG, decodeNflog);
linkTypes.set(LinkType.FDDI, decodeFddi);
linkTypes.set(LinkType.RAW, decodeIpByVersion);
linkTypes.set(LinkType.RAW_BSD, decodeIpByVersion);
linkTypes.set(LinkType.RAW_OPENBSD, decodeIpByVersion);
linkTypes.set(LinkType.IPV4, decodeIPv4);
linkTypes.set(LinkType.IPV6, decodeIPv6);
linkTypes.set(LinkType.LINUX_SLL, decodeSll);
linkTypes.set(LinkType.LINUX_SLL2, decodeSll2);
