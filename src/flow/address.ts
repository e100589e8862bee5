/**
 * Addresses as text, once per flow, never per packet: dotted quad, and IPv6 as RFC 5952 and
 * inet_ntop write it (lower-case hex, the longest run of two or more zero groups as "::", an
 * IPv4-mapped tail dotted), which is also how Zeek and ss print them.
 */

export function formatIPv4(b: Uint8Array, off: number): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
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
