/** Hand-built frames for decoder tests: each helper returns the bytes of one wire structure. */

export function bytes(...parts: Array<number[] | Uint8Array | number>): Uint8Array {
  const flat: number[] = [];
  for (const p of parts) {
    if (typeof p === 'number') flat.push(p & 0xff);
    else flat.push(...p);
  }
  return Uint8Array.from(flat);
}

export const be16 = (v: number) => [(v >> 8) & 0xff, v & 0xff];
export const be32 = (v: number) => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
export const le32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];

export interface TcpSpec {
  sport?: number;
  dport?: number;
  seq?: number;
  ack?: number;
  flags?: number;
  window?: number;
  options?: number[];
  payload?: number;
}

/** A TCP header (options padded to 4 bytes) followed by `payload` bytes of 0x61. */
export function tcp(s: TcpSpec = {}): Uint8Array {
  const opts = [...(s.options ?? [])];
  while (opts.length % 4 !== 0) opts.push(0);
  const hdr = 20 + opts.length;
  return bytes(
    be16(s.sport ?? 49152),
    be16(s.dport ?? 80),
    be32(s.seq ?? 0x11223344),
    be32(s.ack ?? 0x55667788),
    (hdr / 4) << 4,
    s.flags ?? 0x18,
    be16(s.window ?? 64240),
    [0, 0, 0, 0],
    opts,
    new Array(s.payload ?? 0).fill(0x61),
  );
}

export function ipv4(proto: number, payload: Uint8Array, opts: { options?: number[]; fragment?: number; totalLength?: number } = {}): Uint8Array {
  const options = opts.options ?? [];
  const ihl = 20 + options.length;
  const total = opts.totalLength ?? ihl + payload.length;
  return bytes(0x40 | (ihl / 4), 0, be16(total), be16(0x1234), be16(opts.fragment ?? 0x4000), 64, proto, [0, 0], [192, 0, 2, 10], [192, 0, 2, 20], options, payload);
}

const V6_SRC = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10];
const V6_DST = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x20];

/** An IPv6 header; `payload` starts with any extension headers. */
export function ipv6(next: number, payload: Uint8Array, payloadLength = payload.length): Uint8Array {
  return bytes(0x60, 0, 0, 0, be16(payloadLength), next, 64, V6_SRC, V6_DST, payload);
}

/** An extension header of the (len + 1) * 8 kind, padded with PadN. */
export function ext8(next: number, body: number[] = []): number[] {
  const total = Math.ceil((body.length + 2) / 8) * 8;
  const out = [next, total / 8 - 1, ...body];
  const pad = total - out.length;
  if (pad === 1) out.push(0);
  else if (pad > 1) out.push(1, pad - 2, ...new Array(pad - 2).fill(0));
  return out;
}

export function fragment6(next: number, offset: number, more: boolean): number[] {
  return [next, 0, ...be16((offset << 3) | (more ? 1 : 0)), ...be32(0xabcd)];
}

/** IPv6 AH: length in 4-byte units minus 2; 12 bytes of header plus a 12-byte ICV. */
export function ah(next: number): number[] {
  return [next, 4, 0, 0, ...be32(0x100), ...be32(1), ...new Array(12).fill(0xee)];
}

const MAC_A = [0x02, 0, 0, 0, 0, 0x0a];
const MAC_B = [0x02, 0, 0, 0, 0, 0x0b];

export function ethernet(type: number, payload: Uint8Array): Uint8Array {
  return bytes(MAC_B, MAC_A, be16(type), payload);
}

export function vlan(tci: number, type: number, payload: Uint8Array): Uint8Array {
  return bytes(be16(tci), be16(type), payload);
}

export function udp(sport: number, dport: number, payload: Uint8Array): Uint8Array {
  return bytes(be16(sport), be16(dport), be16(8 + payload.length), [0, 0], payload);
}

export const le16 = (v: number) => [v & 0xff, (v >> 8) & 0xff];

const MAC_AP = [0x02, 0, 0, 0, 0, 0x01];
export const LLC_SNAP = (type: number) => [0xaa, 0xaa, 0x03, 0, 0, 0, ...be16(type)];

/** An 802.11 data frame header: frame control bytes as given, three addresses, sequence control (and a fourth address for to DS + from DS). */
export function wlanHeader(fc0: number, fc1: number, seqCtl = 0x0010): number[] {
  return [fc0, fc1, 0, 0, ...MAC_AP, ...MAC_A, ...MAC_B, ...le16(seqCtl), ...((fc1 & 3) === 3 ? MAC_B : [])];
}
