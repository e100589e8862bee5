/**
 * Checksum verification of a decoded packet: the IPv4 header checksum and the
 * TCP checksum (RFC 793 / RFC 2460 pseudo-headers). Pure functions over the
 * bytes the decoder pointed at; they never throw.
 *
 * A checksum can only be judged when every byte it covers was captured and the
 * IP length is believable: otherwise the verdict is 'unknown'.
 */
import { type DecodedPacket, u16 } from './packet.js';
import { Note } from './status.js';

export type ChecksumVerdict = 'good' | 'bad' | 'unknown';

const IPPROTO_TCP = 6;

/** 32-bit sum of the big-endian 16-bit words of b[start, end) (an odd tail is padded with zero). */
export function onesComplementSum(b: Uint8Array, start: number, end: number, acc = 0): number {
  let i = start;
  for (; i + 1 < end; i += 2) acc += (b[i] << 8) | b[i + 1];
  if (i < end) acc += b[i] << 8;
  return acc;
}

/** Folds the carries of a 32-bit sum into 16 bits. */
export function foldCarries(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/**
 * The IPv4 header checksum of the (innermost) IP header. 'unknown' for IPv6,
 * which has none, and for packets without an IP header.
 */
export function ipv4HeaderChecksum(p: DecodedPacket): ChecksumVerdict {
  if (p.ipVersion !== 4) return 'unknown';
  const ihl = (p.buf[p.ipOff] & 15) * 4;
  if (p.ipOff + ihl > p.buf.length) return 'unknown';
  return foldCarries(onesComplementSum(p.buf, p.ipOff, p.ipOff + ihl)) === 0xffff ? 'good' : 'bad';
}

/**
 * The TCP checksum over the pseudo-header, the TCP header and the payload.
 * `capturedEnd` is the end of the captured bytes in p.buf (record offset +
 * caplen); the verdict is 'unknown' unless the whole segment was captured and
 * the IP length fits in the frame. `segmentEnd` overrides where the segment
 * ends (p.ipEnd by default), for callers that read the IP length their own way.
 */
export function tcpChecksum(p: DecodedPacket, capturedEnd = p.buf.length, segmentEnd?: number): ChecksumVerdict {
  if (p.ipVersion === 0) return 'unknown';
  if (segmentEnd === undefined && p.notes & (Note.PAYLOAD_TRUNCATED | Note.TCP_OPTIONS_TRUNCATED | Note.IP_LENGTH_EXCEEDS_FRAME)) return 'unknown';
  const end = segmentEnd ?? p.ipEnd;
  if (end > capturedEnd || end > p.buf.length || p.tcpOff + p.tcpHeaderLen > end) return 'unknown';
  const tcpLength = end - p.tcpOff;
  let sum = pseudoHeaderSum(p, tcpLength);
  sum = onesComplementSum(p.buf, p.tcpOff, end, sum);
  return foldCarries(sum) === 0xffff ? 'good' : 'bad';
}

/** Sum of the pseudo-header words: addresses, protocol and upper-layer length. */
function pseudoHeaderSum(p: DecodedPacket, tcpLength: number): number {
  const addrLen = p.ipVersion === 4 ? 4 : 16;
  let sum = onesComplementSum(p.buf, p.srcOff, p.srcOff + addrLen);
  sum = onesComplementSum(p.buf, p.dstOff, p.dstOff + addrLen, sum);
  // IPv4: zero, protocol, 16-bit length. IPv6: 32-bit length, 24 zero bits, next header.
  // Both reduce to the same words because the upper half of the IPv6 length is zero
  // for any segment that fits in a 16-bit IP length (jumbograms add their high word).
  sum += IPPROTO_TCP + (tcpLength & 0xffff) + Math.floor(tcpLength / 0x10000);
  return sum;
}

/** The TCP checksum field as it is on the wire (for reports). */
export function tcpChecksumField(p: DecodedPacket): number {
  return u16(p.buf, p.tcpOff + 16);
}
