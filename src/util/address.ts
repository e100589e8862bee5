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

/**
 * IPv6 likewise: 4,096 slots by a hash of the address, each with the last address made there (its
 * four 32-bit words) and its text. A flow table and Zeek's emulation format the same two addresses
 * of a new connection, and a server's address comes back with every connection it takes.
 */
const V6_SLOTS = 4096;
const v6Words = new Uint32Array(4 * V6_SLOTS);
const v6Texts: Array<string | undefined> = new Array<string | undefined>(V6_SLOTS).fill(undefined);

/** RFC 5952 style: lower-case hex, the longest run of two or more zero groups as "::", IPv4-mapped tail dotted. */
export function formatIPv6(b: Uint8Array, off: number): string {
  const w0 = u32(b, off);
  const w1 = u32(b, off + 4);
  const w2 = u32(b, off + 8);
  const w3 = u32(b, off + 12);
  let h = Math.imul(w0 ^ Math.imul(w1, 0x9e3779b1), 0x85ebca6b) ^ Math.imul(w2 ^ Math.imul(w3, 0xc2b2ae35), 0x27d4eb2f);
  h ^= h >>> 15;
  const slot = h & (V6_SLOTS - 1);
  const at = 4 * slot;
  const cached = v6Texts[slot];
  if (cached !== undefined && v6Words[at] === w0 && v6Words[at + 1] === w1 && v6Words[at + 2] === w2 && v6Words[at + 3] === w3) return cached;
  const text = ipv6Text(b, off);
  v6Words[at] = w0;
  v6Words[at + 1] = w1;
  v6Words[at + 2] = w2;
  v6Words[at + 3] = w3;
  v6Texts[slot] = text;
  return text;
}

const groups = new Uint16Array(8);

function ipv6Text(b: Uint8Array, off: number): string {
  for (let i = 0; i < 8; i++) groups[i] = (b[off + 2 * i] << 8) | b[off + 2 * i + 1];
  if (groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 && groups[4] === 0 && groups[5] === 0xffff) {
    return `::ffff:${formatIPv4(b, off + 12)}`;
  }
  // The longest run of zero groups (the first of equals), if two or more long, becomes "::".
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
  if (bestLen < 2) return hexGroups(0, 8);
  return `${hexGroups(0, bestStart)}::${hexGroups(bestStart + bestLen, 8)}`;
}

/** groups[from..to) in hex, colon-separated. */
function hexGroups(from: number, to: number): string {
  let s = '';
  for (let i = from; i < to; i++) s += (i === from ? '' : ':') + groups[i].toString(16);
  return s;
}

export function formatAddress(b: Uint8Array, off: number, version: 4 | 6): string {
  return version === 4 ? formatIPv4(b, off) : formatIPv6(b, off);
}

/** "addr:port", with IPv6 in brackets, as ss prints endpoints. */
export function formatEndpoint(addr: string, port: number): string {
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}
