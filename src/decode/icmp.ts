/**
 * ICMP and ICMPv6 errors that quote a TCP segment: destination unreachable, time exceeded and
 * parameter problem. The packet stays Status.NON_TCP (counted as before); what it quotes (the
 * segment's ends and sequence number) is left on the packet for the endpoint that sent that
 * segment, which a kernel may take as a failed connect (tcp/rfc793: icmpError).
 *
 * Ignored, as Linux's TCP ignores them for a socket's state: fragmentation needed and packet too
 * big (path MTU), source quench, redirect, unknown ICMPv4 unreachable codes (above 15).
 */
import { type DecodedPacket, u16, u32 } from './packet.js';
import { ipProtocols } from './registry.js';
import { Status } from './status.js';

/** What an ICMP error says, as DecodedPacket.icmp holds it (0: none, or not about TCP). */
export const Icmp = {
  NONE: 0,
  NET_UNREACHABLE: 1,
  HOST_UNREACHABLE: 2,
  PORT_UNREACHABLE: 3,
  /** Communication administratively prohibited (a firewall's reject), and IPv6's policy and reject-route codes. */
  PROHIBITED: 4,
  /** Another destination unreachable code (protocol unreachable, unknown host, source route failed...). */
  OTHER_UNREACHABLE: 5,
  TIME_EXCEEDED: 6,
  PARAMETER_PROBLEM: 7,
} as const;

/** The words for each, by code. */
export const ICMP_NAMES: readonly string[] = [
  'none',
  'network unreachable',
  'host unreachable',
  'port unreachable',
  'administratively prohibited',
  'destination unreachable',
  'time exceeded',
  'parameter problem',
];

/** Set on DecodedPacket.icmpBits: a request socket (SYN_RECV) is dropped by it (Linux's tcp_req_err `abort`). */
export const ICMP_ABORTS_REQUEST = 1;

const TCP = 6;

function icmpV4(p: DecodedPacket, b: Uint8Array, off: number, end: number): number {
  if (off + 8 > end) return Status.NON_TCP;
  const type = b[off];
  const code = b[off + 1];
  let kind: number = Icmp.NONE;
  if (type === 3) {
    // tcp_v4_err: fragmentation needed is path MTU only; codes above NR_ICMP_UNREACH are ignored.
    if (code === 0) kind = Icmp.NET_UNREACHABLE;
    else if (code === 1) kind = Icmp.HOST_UNREACHABLE;
    else if (code === 3) kind = Icmp.PORT_UNREACHABLE;
    else if (code === 9 || code === 10 || code === 13) kind = Icmp.PROHIBITED;
    else if (code !== 4 && code <= 15) kind = Icmp.OTHER_UNREACHABLE;
  } else if (type === 11) kind = Icmp.TIME_EXCEEDED;
  else if (type === 12) kind = Icmp.PARAMETER_PROBLEM;
  if (kind === Icmp.NONE) return Status.NON_TCP;
  // The request socket is dropped for these only (net/host unreachable, time exceeded, parameter problem).
  const abort = kind === Icmp.NET_UNREACHABLE || kind === Icmp.HOST_UNREACHABLE || kind === Icmp.TIME_EXCEEDED || kind === Icmp.PARAMETER_PROBLEM;
  return quoted(p, b, off + 8, end, kind, abort, type, code);
}

function icmpV6(p: DecodedPacket, b: Uint8Array, off: number, end: number): number {
  if (off + 8 > end) return Status.NON_TCP;
  const type = b[off];
  const code = b[off + 1];
  let kind: number = Icmp.NONE;
  if (type === 1) {
    if (code === 0) kind = Icmp.NET_UNREACHABLE;
    else if (code === 2 || code === 3) kind = Icmp.HOST_UNREACHABLE;
    else if (code === 4) kind = Icmp.PORT_UNREACHABLE;
    else if (code === 1 || code === 5 || code === 6) kind = Icmp.PROHIBITED;
    else kind = Icmp.OTHER_UNREACHABLE;
  } else if (type === 3) kind = Icmp.TIME_EXCEEDED;
  else if (type === 4) kind = Icmp.PARAMETER_PROBLEM;
  if (kind === Icmp.NONE) return Status.NON_TCP;
  // icmpv6_err_convert's `fatal`: prohibited, policy, reject route, port unreachable, codes past
  // those it knows, parameter problem.
  const abort = kind === Icmp.PROHIBITED || kind === Icmp.PORT_UNREACHABLE || kind === Icmp.PARAMETER_PROBLEM || (type === 1 && code > 6);
  return quoted(p, b, off + 8, end, kind, abort, type, code);
}

/** The quoted IP packet at `off`: when it is TCP with its ports and sequence number there, the packet notes it. */
function quoted(p: DecodedPacket, b: Uint8Array, off: number, end: number, kind: number, abort: boolean, type: number, code: number): number {
  if (off + 1 > end) return Status.NON_TCP;
  const v = b[off] >> 4;
  let l4 = -1;
  if (v === 4 && p.ipVersion === 4) {
    const ihl = (b[off] & 15) * 4;
    // Only a first fragment (or a whole datagram) quotes the TCP header.
    if (ihl < 20 || off + ihl > end || b[off + 9] !== TCP || (u16(b, off + 6) & 0x1fff) !== 0) return Status.NON_TCP;
    p.icmpSrcOff = off + 12;
    p.icmpDstOff = off + 16;
    l4 = off + ihl;
  } else if (v === 6 && p.ipVersion === 6) {
    if (off + 40 > end || b[off + 6] !== TCP) return Status.NON_TCP;
    p.icmpSrcOff = off + 8;
    p.icmpDstOff = off + 24;
    l4 = off + 40;
  } else return Status.NON_TCP;
  if (l4 + 8 > end) return Status.NON_TCP;
  p.icmp = kind;
  p.icmpType = type;
  p.icmpCode = code;
  p.icmpBits = abort ? ICMP_ABORTS_REQUEST : 0;
  p.icmpSrcPort = u16(b, l4);
  p.icmpDstPort = u16(b, l4 + 2);
  p.icmpSeq = u32(b, l4 + 4);
  return Status.NON_TCP;
}

ipProtocols.set(1, icmpV4);
ipProtocols.set(58, icmpV6);
