/**
 * Conversion of pcapng 64-bit timestamps (two 32-bit halves) in arbitrary
 * units to integer microseconds, exactly, without BigInt on the common paths.
 */

const TWO32 = 4294967296;

export interface TsScale {
  /** Multiply the unit count by this (units coarser than 1 µs), or 1. */
  mul: number;
  /** Divide the unit count by this (units finer than 1 µs), or 1. */
  div: number;
  /** Resolution that needs BigInt (binary fractions, or a divisor too large for the exact split). */
  bigUnitsPerSecond: bigint | null;
}

/** Decode the pcapng if_tsresol byte: high bit clear = 10^-n s, set = 2^-n s. */
export function unitsPerSecondFromTsresol(b: number): number {
  const n = b & 0x7f;
  return b & 0x80 ? 2 ** n : 10 ** n;
}

export function scaleFor(unitsPerSecond: number): TsScale {
  if (unitsPerSecond === 1e6) return { mul: 1, div: 1, bigUnitsPerSecond: null };
  if (Number.isInteger(unitsPerSecond) && unitsPerSecond < 1e6 && 1e6 % unitsPerSecond === 0) {
    return { mul: 1e6 / unitsPerSecond, div: 1, bigUnitsPerSecond: null };
  }
  if (Number.isInteger(unitsPerSecond) && unitsPerSecond % 1e6 === 0) {
    const div = unitsPerSecond / 1e6;
    if (div < 2 ** 21) return { mul: 1, div, bigUnitsPerSecond: null };
  }
  return { mul: 1, div: 1, bigUnitsPerSecond: BigInt(Math.round(unitsPerSecond)) };
}

/** (hi * 2^32 + lo) units -> integer µs, truncated toward zero. */
export function unitsToMicros(hi: number, lo: number, s: TsScale): number {
  if (s.bigUnitsPerSecond !== null) {
    const units = (BigInt(hi) << 32n) | BigInt(lo);
    return Number((units * 1_000_000n) / s.bigUnitsPerSecond);
  }
  if (s.div === 1) return (hi * TWO32 + lo) * s.mul;
  const q = Math.floor(hi / s.div);
  const r = hi - q * s.div;
  return q * TWO32 + Math.floor((r * TWO32 + lo) / s.div);
}
