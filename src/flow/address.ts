/**
 * Addresses as text, once per flow, never per packet: dotted quad, and IPv6 as RFC 5952 and
 * inet_ntop write it (lower-case hex, the longest run of two or more zero groups as "::", an
 * IPv4-mapped tail dotted), which is also how Zeek and ss print them.
 */
import { u32 } from '../decode/packet.js';

/**
 * The last address text made for each of 4,096 slots (by the address's low bits): a host's flows
 * share one string instead of one each, and a flood of spoofed sources holds no more than the slots.
 */
const V4_SLOTS = 4096;
const v4Keys = new Float64Array(V4_SLOTS).fill(-1);
const v4Texts: string[] = new Array<string>(V4_SLOTS).fill('');

export function formatIPv4(b: Uint8Array, off: number): string {
  const key = u32(b, off);
  const slot = (key ^ (key >>> 12)) & (V4_SLOTS - 1);
  if (v4Keys[slot] !== key) {
    v4Keys[slot] = key;
    v4Texts[slot] = `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
  }
  return v4Texts[slot];
}

/** RFC 5952 style: lower-case hex, the longest run of two or more zero groups as "::", IPv4-mapped tail dotted. */
export function formatIPv6(b: Uint8Array, off: number): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((b[off + 2 * i] << 8) | b[off + 2 * i + 1]);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) return `::ffff:${formatIPv4(b, off + 12)}`;
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(':');
  if (bestLen < 2) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`;
}

export function formatAddress(b: Uint8Array, off: number, version: 4 | 6): string {
  return version === 4 ? formatIPv4(b, off) : formatIPv6(b, off);
}

/** "addr:port", with IPv6 in brackets, as ss prints endpoints. */
export function formatEndpoint(addr: string, port: number): string {
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}
