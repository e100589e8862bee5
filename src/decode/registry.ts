/**
 * Dispatch tables: link type -> link decoder, EtherType -> network decoder,
 * IP protocol -> transport decoder, UDP port -> tunnel decoder. Each decoder
 * module registers its own entries, so adding one touches one table and one file.
 *
 * A decoder takes (packet, bytes, offset, end), checks bounds against `end`
 * only, fills the packet and returns a Status code.
 */
import type { DecodedPacket } from './packet.js';
import { Status } from './status.js';

export type Decoder = (p: DecodedPacket, b: Uint8Array, off: number, end: number) => number;

export const linkTypes = new Map<number, Decoder>();
export const etherTypes = new Map<number, Decoder>();
export const ipProtocols = new Map<number, Decoder>();
export const udpPorts = new Map<number, Decoder>();

/** Deepest nesting of tags and tunnels we follow. */
export const MAX_LAYERS = 24;
export const MAX_TUNNELS = 6;

export function byEtherType(p: DecodedPacket, type: number, b: Uint8Array, off: number, end: number): number {
  if (++p.layers > MAX_LAYERS) return Status.TOO_MANY_LAYERS;
  const next = etherTypes.get(type);
  return next === undefined ? Status.NON_IP : next(p, b, off, end);
}

export function byIpProtocol(p: DecodedPacket, proto: number, b: Uint8Array, off: number, end: number): number {
  const next = ipProtocols.get(proto);
  return next === undefined ? Status.NON_TCP : next(p, b, off, end);
}

/** An encapsulation recognised but not decoded: named on the packet for the summary's warning. */
export function unsupported(p: DecodedPacket, encap: number): number {
  p.unsupportedEncap = encap;
  return Status.UNSUPPORTED_ENCAPSULATION;
}

/** Enter a tunnel or encapsulation: counts it and refuses absurd nesting. */
export function enterTunnel(p: DecodedPacket): boolean {
  p.encapDepth++;
  return p.encapDepth <= MAX_TUNNELS && ++p.layers <= MAX_LAYERS;
}
