/**
 * 32-bit sequence-number comparisons exactly as Wireshark's packet-tcp.h macros
 * (LT_SEQ, LE_SEQ, GT_SEQ, GE_SEQ) compute them: a signed 32-bit difference.
 *
 * Kept apart from the flow table's serial-number helpers on purpose: Wireshark's
 * GT_SEQ(x, y) is `(int32)(y - x) < 0`, not `(int32)(x - y) > 0`, and the two
 * differ when the numbers are exactly 2^31 apart (both "x > y" and "y > x" hold).
 * The oracle's answer at that boundary is what we have to reproduce.
 */

/** LT_SEQ(x, y): (int32)(x - y) < 0. */
export function ltSeq(x: number, y: number): boolean {
  return ((x - y) | 0) < 0;
}

/** LE_SEQ(x, y): (int32)(x - y) <= 0. */
export function leSeq(x: number, y: number): boolean {
  return ((x - y) | 0) <= 0;
}

/** GT_SEQ(x, y): (int32)(y - x) < 0. */
export function gtSeq(x: number, y: number): boolean {
  return ((y - x) | 0) < 0;
}

/** GE_SEQ(x, y): (int32)(y - x) <= 0. */
export function geSeq(x: number, y: number): boolean {
  return ((y - x) | 0) <= 0;
}

/** (a + b) mod 2^32. */
export function addSeq(a: number, b: number): number {
  return (a + b) >>> 0;
}
