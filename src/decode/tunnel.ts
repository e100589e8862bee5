/**
 * Tunnels whose inner TCP is analysed like any other: GRE (including PPTP's
 * enhanced GRE and ERSPAN I, II, III), and over UDP: VXLAN, Geneve, GTP-U, Teredo
 * and CAPWAP data.
 * IP-in-IP and 6in4 live with IP itself.
 */
import { decodeIPv6, innerIp, tunnel } from './ip.js';
import { decodeEthernet, decodePpp } from './link.js';
import { type DecodedPacket, LinkFragment, LinkNext, u16 } from './packet.js';
import { byEtherType, ipProtocols, udpPorts, unsupported } from './registry.js';
import { Encap, Status } from './status.js';
import { wlanFrame } from './wlan.js';

const PORT_VXLAN = 4789;
const PORT_GENEVE = 6081;
const PORT_GTP_U = 2152;
const PORT_TEREDO = 3544;
const PORT_CAPWAP_DATA = 5247;

function decodeUdp(p: DecodedPacket, b: Uint8Array, off: number, end: number): number {
  if (off + 8 > end) return Status.NON_TCP;
  const sport = u16(b, off);
  const dport = u16(b, off + 2);
  const next = udpPorts.get(dport) ?? udpPorts.get(sport);
  if (next === undefined) return Status.NON_TCP;
  const status = next(p, b, off + 8, end);
  // A UDP payload that only looked like a tunnel is plain UDP, not a broken packet; a tunnel
  // recognised but not decoded (it names itself) stays unsupported.
  return status === Status.UNSUPPORTED_ENCAPSULATION && p.unsupportedEncap === Encap.NONE ? Status.NON_TCP : status;
}

function decodeVxlan(p: DecodedPacket, b: Uint8Array, off: number, end: number): number {
  if (off + 8 > end || (b[off] & 0x08) === 0) return Status.UNSUPPORTED_ENCAPSULATION;
  if (!tunnel(p)) return Status.TOO_MANY_LAYERS;
  return decodeEthernet(p, b, off + 8, end);
}

function decodeGeneve(p: DecodedPacket, b: Uint8Array, off: number, end: number): number {
  if (off + 8 > end || b[off] >> 6 !== 0) return Status.UNSUPPORTED_ENCAPSULATION;
  const hlen = 8 + (b[off] & 0x3f) * 4;
  if (off + hlen > end) return Status.UNSUPPORTED_ENCAPSULATION;
  if (!tunnel(p)) return Status.TOO_MANY_LAYERS;
  const proto = u16(b, off + 2);
  if (proto === 0x6558) return decodeEthernet(p, b, off + hlen, end);
  return byEtherType(p, proto, b, off + hlen, end);
}

/** GTPv1-U G-PDU: 8-byte header, optional sequence/N-PDU/extension fields, then IP. */
function decodeGtpU(p: DecodedPacket, b: Uint8Array, off: number, end: number): number {
  if (off + 8 > end) return Status.UNSUPPORTED_ENCAPSULATION;
  const flags = b[off];
  if (flags >> 5 !== 1 || (flags & 0x10) === 0) return Status.UNSUPPORTED_ENCAPSULATION;
  if (b[off + 1] !== 0xff) return Status.NON_TCP; // signalling, echo...: not user data
  let h = off + 8;
  if (flags & 0x07) {
    if (h + 4 > end) return Status.UNSUPPORTED_ENCAPSULATION;
    let ext = b[h + 3];
    h += 4;
    for (let guard = 0; ext !== 0; guard++) {
      if (guard > 16 || h + 1 > end) return Status.UNSUPPORTED_ENCAPSULATION;
      const len = b[h] * 4;
      if (len === 0 || h + len > end) return Status.UNSUPPORTED_ENCAPSULATION;
      ext = b[h + len - 1];
      h += len;
    }
  }
  if (h >= end) return Status.UNSUPPORTED_ENCAPSULATION;
  if (!tunnel(p)) return Status.TOO_MANY_LAYERS;
  return innerIp(p, b, h, end, 0);
}

/** Teredo: optional authentication and origin-indication headers, then IPv6. */
function decodeTeredo(p: DecodedPacket, b: Uint8Array, off: number, end: number): number {
  let h = off;
  if (h + 2 <= end && u16(b, h) === 0x0001) {
    if (h + 4 > end) return Status.UNSUPPORTED_ENCAPSULATION;
    h += 4 + b[h + 2] + b[h + 3] + 9;
  }
  if (h + 2 <= end && u16(b, h) === 0x0000) h += 8;
  if (h + 40 > end || b[h] >> 4 !== 6) return Status.UNSUPPORTED_ENCAPSULATION;
  if (40 + u16(b, h + 4) > p.ipEnd - h) return Status.UNSUPPORTED_ENCAPSULATION;
  if (!tunnel(p)) return Status.TOO_MANY_LAYERS;
  return decodeIPv6(p, b, h, end);
}

const CAPWAP_T = 0x100; // payload in the binding's native format (else 802.3)
const CAPWAP_F = 0x080; // fragment
const CAPWAP_L = 0x040; // last fragment
const CAPWAP_K = 0x008; // keep-alive
const CAPWAP_WBID_80211 = 1;

/**
 * CAPWAP data channel (RFC 5415): preamble (type 1 is DTLS), then HLEN in 4-byte words
 * (preamble included), radio id, wireless binding id and flags. The payload is an 802.3
 * frame, or with T an 802.11 frame whose frame control bytes Wireshark takes as swapped
 * (its capwap.swap_fc preference, on by default, for Cisco's access points): so do we.
 * With F, the packet is a fragment (fragment ID, offset in 8-byte units, L on the last) of a
 * payload the reassembler (fragments.ts) puts together, as Wireshark's capwap.reassemble does,
 * by the outer IP addresses and the fragment ID; the header of the fragment that completes it
 * says what the payload is.
 */
function decodeCapwapData(p: DecodedPacket, b: Uint8Array, off: number, end: number): number {
  if (off + 8 > end) return Status.UNSUPPORTED_ENCAPSULATION;
  const type = b[off] & 0x0f;
  if (type === 1) {
    p.unsupportedEncap = Encap.CAPWAP_DTLS;
    return Status.ENCRYPTED;
  }
  if (type !== 0) return Status.UNSUPPORTED_ENCAPSULATION;
  const bits = (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3];
  const hlen = (bits >> 19) * 4;
  const wbid = (bits >> 9) & 0x1f;
  const flags = bits & 0x1ff;
  if (hlen < 8 || off + hlen > end) return Status.UNSUPPORTED_ENCAPSULATION;
  if (flags & CAPWAP_K) return Status.NON_TCP;
  if ((flags & CAPWAP_T) !== 0 && wbid !== CAPWAP_WBID_80211) return unsupported(p, Encap.CAPWAP_BINDING);
  if (!tunnel(p)) return Status.TOO_MANY_LAYERS;
  if (flags & CAPWAP_F) {
    // Wireshark gives up on a fragment without data; so do we (plain UDP).
    if (off + hlen >= p.wireEnd) return Status.NON_TCP;
    p.linkFragKind = LinkFragment.CAPWAP;
    p.fragKeyOff = p.srcOff;
    p.fragKeyLen = p.ipVersion === 4 ? 8 : 32; // source and destination, side by side in both headers
    p.fragId = u16(b, off + 4);
    p.fragOffset = (u16(b, off + 6) >> 3) * 8;
    p.fragMore = (flags & CAPWAP_L) === 0;
    p.fragDataOff = off + hlen;
    p.fragDataEnd = end;
    p.fragCut = end < p.wireEnd;
    p.linkNext = (flags & CAPWAP_T) === 0 ? LinkNext.ETHERNET : LinkNext.WLAN_SWAPPED;
    return Status.LINK_FRAGMENT;
  }
  if ((flags & CAPWAP_T) === 0) return decodeEthernet(p, b, off + hlen, end);
  return wlanFrame(p, b, off + hlen, end, true, false);
}

const GRE_CHECKSUM = 0x8000;
const GRE_ROUTING = 0x4000;
const GRE_KEY = 0x2000;
const GRE_SEQUENCE = 0x1000;
const GRE_ACK = 0x0080;

function decodeGre(p: DecodedPacket, b: Uint8Array, off: number, end: number): number {
  if (off + 4 > end) return Status.TRUNCATED_IP;
  const flags = u16(b, off);
  const version = flags & 7;
  const proto = u16(b, off + 2);
  if (version > 1 || flags & GRE_ROUTING) return unsupported(p, Encap.GRE_VERSION);
  let h = off + 4;
  if (flags & GRE_CHECKSUM) h += 4;
  if (flags & GRE_KEY) h += 4;
  if (flags & GRE_SEQUENCE) h += 4;
  if (version === 1 && flags & GRE_ACK) h += 4;
  if (h > end) return Status.TRUNCATED_IP;
  if (!tunnel(p)) return Status.TOO_MANY_LAYERS;
  switch (proto) {
    case 0x6558: // transparent Ethernet bridging
      return decodeEthernet(p, b, h, end);
    case 0x880b: // PPP (PPTP)
      return h === end ? Status.NON_TCP : decodePpp(p, b, h, end);
    case 0x88be: // ERSPAN type II; type I has no sequence number and no ERSPAN header
      return decodeEthernet(p, b, flags & GRE_SEQUENCE ? h + 8 : h, end);
    case 0x22eb: // ERSPAN type III, with an optional 8-byte platform sub-header
      if (h + 12 > end) return Status.TRUNCATED_LINK;
      return decodeEthernet(p, b, h + 12 + (b[h + 11] & 1 ? 8 : 0), end);
    default:
      return byEtherType(p, proto, b, h, end);
  }
}

ipProtocols.set(17, decodeUdp);
ipProtocols.set(47, decodeGre);
udpPorts.set(PORT_VXLAN, decodeVxlan);
udpPorts.set(PORT_GENEVE, decodeGeneve);
udpPorts.set(PORT_GTP_U, decodeGtpU);
udpPorts.set(PORT_TEREDO, decodeTeredo);
udpPorts.set(PORT_CAPWAP_DATA, decodeCapwapData);
