/**
 * The blocks of one zstd frame (RFC 8878 3.1.1.2 to 4.2), decoded into the frame's window: raw,
 * RLE and compressed blocks; literals raw, RLE or Huffman-coded (1 or 4 streams, with a new or
 * the previous tree); sequences with predefined, RLE, FSE-described or repeated tables, and the
 * three repeat offsets. Frame headers, the checksum and the limits on windows are zstd.ts's.
 *
 * The window is a buffer of at most window + Block_Maximum_Size bytes, grown by doubling while
 * the frame is young. Each block is written in one piece after the last; when the next block
 * might not fit, writing starts again at 0 (only once the window's worth of history lies behind):
 * a match may then begin in the old piece's tail. So a block's output is one view of the buffer,
 * nothing is ever moved (each output byte costs the same whatever the window), and the memory is
 * the window's, not more.
 *
 * Everything read from the input is checked before it is used: table descriptions, sizes,
 * symbols, offsets and the exact end of every bit stream. Damage throws ZstdCorrupt, which
 * zstd.ts names with the frame and the offset; any other exception is a bug here.
 */

/** Damage in a block: what is wrong, in a few words. */
export class ZstdCorrupt extends Error {
  constructor(what: string) {
    super(what);
    this.name = 'ZstdCorrupt';
  }
}

const corrupt = (what: string): never => {
  throw new ZstdCorrupt(what);
};

/** Block_Maximum_Size's ceiling (RFC 8878 3.1.1.2.3). */
export const BLOCK_MAX = 128 * 1024;
/**
 * Zero bytes kept before and after a compressed block in its scratch copy: bit streams are read
 * backwards 32 bits at a time and may run a sequence's worth of bits (at most 89) past their
 * start before the overrun is noticed, all inside the buffer.
 */
const PAD = 16;

// Literals length and match length codes (RFC 8878 3.1.1.3.2.1.1): baseline and extra bits.
const LL_BASE = Uint32Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18, 20, 22, 24, 28, 32, 40, 48, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536]);
const LL_BITS = Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 3, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
const ML_BASE = new Uint32Array(53);
const ML_BITS = new Uint8Array(53);
{
  const base = [35, 37, 39, 41, 43, 47, 51, 59, 67, 83, 99, 131, 259, 515, 1027, 2051, 4099, 8195, 16387, 32771, 65539];
  const bits = [1, 1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
  for (let c = 0; c < 53; c++) {
    ML_BASE[c] = c < 32 ? c + 3 : base[c - 32];
    ML_BITS[c] = c < 32 ? 0 : bits[c - 32];
  }
}
/** Offset codes name their extra bits; 31 is the largest whose value a 32-bit read holds. */
const OF_MAX = 31;
const OF_BASE = new Uint32Array(OF_MAX + 1);
const OF_BITS = new Uint8Array(OF_MAX + 1);
for (let c = 0; c <= OF_MAX; c++) {
  OF_BASE[c] = 2 ** c;
  OF_BITS[c] = c;
}

// Predefined distributions (RFC 8878 3.1.1.3.2.2).
const LL_DEFAULT = [4, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 2, 1, 1, 1, 1, 1, -1, -1, -1, -1];
const ML_DEFAULT = [1, 4, 3, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1, -1];
const OF_DEFAULT = [1, 1, 1, 1, 1, 1, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1];

/**
 * An FSE decoding table (RFC 8878 4.1.1): for each state its symbol, the bits to read for the
 * next state and the baseline they are added to. Sequence tables also carry, per state, the
 * symbol's value baseline and extra bits, so a sequence needs no second lookup.
 */
export class FseTable {
  log = 0;
  readonly symbol: Uint8Array;
  readonly nbBits: Uint8Array;
  readonly nextBase: Uint16Array;
  readonly valueBase: Uint32Array;
  readonly extraBits: Uint8Array;

  constructor(maxLog: number) {
    const n = 1 << maxLog;
    this.symbol = new Uint8Array(n);
    this.nbBits = new Uint8Array(n);
    this.nextBase = new Uint16Array(n);
    this.valueBase = new Uint32Array(n);
    this.extraBits = new Uint8Array(n);
  }

  /** Build from a normalized distribution (probabilities of symbols 0..count-1, -1 for "less than 1"). */
  build(norm: Int16Array, count: number, log: number, next: Uint16Array): void {
    const size = 1 << log;
    let high = size - 1;
    for (let s = 0; s < count; s++) {
      if (norm[s] === -1) {
        this.symbol[high--] = s;
        next[s] = 1;
      } else next[s] = norm[s];
    }
    const step = (size >> 1) + (size >> 3) + 3;
    const mask = size - 1;
    let pos = 0;
    for (let s = 0; s < count; s++) {
      for (let i = 0; i < norm[s]; i++) {
        this.symbol[pos] = s;
        do pos = (pos + step) & mask;
        while (pos > high);
      }
    }
    if (pos !== 0) corrupt('an FSE table description does not fill its table');
    for (let u = 0; u < size; u++) {
      const x = next[this.symbol[u]]++;
      const bits = log - (31 - Math.clz32(x));
      this.nbBits[u] = bits;
      this.nextBase[u] = (x << bits) - size;
    }
    this.log = log;
  }

  /** One state, one symbol (RLE_Mode). */
  rle(symbol: number): void {
    this.symbol[0] = symbol;
    this.nbBits[0] = 0;
    this.nextBase[0] = 0;
    this.log = 0;
  }

  /** Fill the per-state value baselines and extra bits of a sequence table from its code's. */
  values(base: Uint32Array, bits: Uint8Array): this {
    for (let u = 0, n = 1 << this.log; u < n; u++) {
      this.valueBase[u] = base[this.symbol[u]];
      this.extraBits[u] = bits[this.symbol[u]];
    }
    return this;
  }
}

/** Scratch for building FSE tables: the distribution and each symbol's next state. */
const NORM = new Int16Array(256);
const NEXT = new Uint16Array(256);

function predefined(dist: number[], log: number, base: Uint32Array, bits: Uint8Array): FseTable {
  const t = new FseTable(log);
  NORM.set(dist);
  t.build(NORM, dist.length, log, NEXT);
  return t.values(base, bits);
}

export const LL_PREDEFINED = predefined(LL_DEFAULT, 6, LL_BASE, LL_BITS);
export const ML_PREDEFINED = predefined(ML_DEFAULT, 6, ML_BASE, ML_BITS);
export const OF_PREDEFINED = predefined(OF_DEFAULT, 5, OF_BASE, OF_BITS);

/**
 * Read an FSE table description (RFC 8878 4.1.1) from src[p, end) into `table`; returns the
 * offset after it. At most maxLog accuracy and symbols 0..maxSymbol.
 */
export function readFseTable(src: Uint8Array, p: number, end: number, maxLog: number, maxSymbol: number, table: FseTable): number {
  let bit = p * 8;
  const limit = end * 8;
  /** n (<= 16) bits read forward, little-endian. */
  const read = (n: number): number => {
    if (bit + n > limit) corrupt('an FSE table description runs past its section');
    const i = bit >> 3;
    const w = (src[i] | (src[i + 1] << 8) | (src[i + 2] << 16)) >>> (bit & 7);
    bit += n;
    return w & ((1 << n) - 1);
  };
  if (p >= end) corrupt('an FSE table description is missing');
  const log = read(4) + 5;
  if (log > maxLog) corrupt(`an FSE table's accuracy log ${log} is over its maximum of ${maxLog}`);
  let remaining = (1 << log) + 1;
  let threshold = 1 << log;
  let nbBits = log + 1;
  let symbol = 0;
  let previousZero = false;
  while (remaining > 1) {
    if (previousZero) {
      // Zero probabilities repeat by 2-bit flags; 3 means another flag follows.
      let rep;
      do {
        rep = read(2);
        for (let i = 0; i < rep; i++) {
          if (symbol > maxSymbol) corrupt('an FSE table description has too many symbols');
          NORM[symbol++] = 0;
        }
      } while (rep === 3);
    }
    if (symbol > maxSymbol) corrupt('an FSE table description has too many symbols');
    const lowCount = (2 * threshold - 1) - remaining;
    // The field is nbBits wide; its low values take one bit less.
    let value: number;
    const low = read(nbBits - 1);
    if (low < lowCount) value = low;
    else {
      bit -= nbBits - 1;
      value = read(nbBits);
      if (value >= threshold) value -= lowCount;
    }
    const prob = value - 1;
    remaining -= prob < 0 ? -prob : prob;
    NORM[symbol++] = prob;
    previousZero = prob === 0;
    if (remaining < 1) corrupt('an FSE table description gives more than its total probability');
    while (remaining < threshold) {
      nbBits--;
      threshold >>= 1;
    }
  }
  table.build(NORM, symbol, log, NEXT);
  return (bit + 7) >> 3;
}

/** Where a backward bit stream starts: the bit count below its last byte's closing 1-bit. */
function streamBits(src: Uint8Array, start: number, end: number): number {
  if (end <= start) corrupt('a bit stream is empty');
  const last = src[end - 1];
  if (last === 0) corrupt('a bit stream does not end with its closing bit');
  return (end - start - 1) * 8 + (31 - Math.clz32(last));
}

/** 32 bits of src from bit `bit` of the stream starting at byte `start` (the low 25 or more are good). */
function peek(src: Uint8Array, start: number, bit: number): number {
  const i = start + (bit >> 3);
  return (src[i] | (src[i + 1] << 8) | (src[i + 2] << 16) | (src[i + 3] << 24)) >>> (bit & 7);
}

/**
 * Longest Huffman code: RFC 8878 says 11, the reference decoder takes 12 (zstd writes at most 11).
 * Two codes fit in the 25 bits one peek() is sure of.
 */
const HUF_MAX_BITS = 12;

/** Sequence table modes (RFC 8878 3.1.1.3.2.1). */
const MODE_PREDEFINED = 0;
const MODE_RLE = 1;
const MODE_FSE = 2;

export class ZstdBlocks {
  /** The window: output of the current piece in [0, op), the older piece's tail in [op, prevEnd). */
  private buf = new Uint8Array(0);
  private op = 0;
  private prevEnd = 0;
  private window = 0;
  private blockMax = 0;
  /** Where the block being decoded must end, at the latest. */
  private blockEnd = 0;
  /** Bytes of the frame decoded so far. */
  private produced = 0;

  /** A compressed block, copied between zero pads. */
  private readonly scratch = new Uint8Array(PAD + BLOCK_MAX + PAD);
  /** Literals of the current block, when Huffman-coded or RLE. */
  private readonly lits = new Uint8Array(BLOCK_MAX + 8);

  // Huffman table: symbol | bits << 8, indexed by the next maxBits bits; maxBits 0 = none yet in this frame.
  private readonly huff = new Uint16Array(1 << HUF_MAX_BITS);
  private huffBits = 0;
  private readonly weights = new Uint8Array(256 + 2);
  private readonly rankCount = new Uint16Array(HUF_MAX_BITS + 2);
  private readonly rankStart = new Uint32Array(HUF_MAX_BITS + 2);
  private readonly huffFse = new FseTable(6);

  // Sequence tables: the ones in use, and each type's own storage for described and RLE tables.
  private readonly llOwn = new FseTable(9);
  private readonly mlOwn = new FseTable(9);
  private readonly ofOwn = new FseTable(8);
  private ll: FseTable | null = null;
  private ml: FseTable | null = null;
  private of: FseTable | null = null;
  private rep1 = 1;
  private rep2 = 4;
  private rep3 = 8;

  /** A new frame: no history, tables or repeat offsets carried over. */
  beginFrame(window: number): void {
    this.window = window;
    this.blockMax = Math.min(window, BLOCK_MAX);
    this.op = 0;
    this.prevEnd = 0;
    this.produced = 0;
    this.huffBits = 0;
    this.ll = this.ml = this.of = null;
    this.rep1 = 1;
    this.rep2 = 4;
    this.rep3 = 8;
  }

  /** Room for a whole block at op: grow while the frame is younger than its window, else start a new piece. */
  private room(): void {
    const need = this.op + this.blockMax;
    if (need > this.buf.length) {
      const full = this.window + this.blockMax;
      if (this.buf.length >= full) {
        // Then op > window: the whole window lies in this piece, behind the next one.
        this.prevEnd = this.op;
        this.op = 0;
      } else {
        // Not yet a piece begun at 0 after another: the history is [0, op).
        const grown = new Uint8Array(Math.min(full, Math.max(need, 2 * this.buf.length, 64 * 1024)));
        grown.set(this.buf.subarray(0, this.op));
        this.buf = grown;
      }
    }
    this.blockEnd = this.op + this.blockMax;
  }

  /** Output of a block that began at `from`. */
  private done(from: number): Uint8Array {
    this.produced += this.op - from;
    return this.buf.subarray(from, this.op);
  }

  raw(src: Uint8Array, off: number, len: number): Uint8Array {
    this.room();
    const from = this.op;
    this.buf.set(src.subarray(off, off + len), from);
    this.op += len;
    return this.done(from);
  }

  rle(byte: number, len: number): Uint8Array {
    this.room();
    const from = this.op;
    this.buf.fill(byte, from, from + len);
    this.op += len;
    return this.done(from);
  }

  compressed(src: Uint8Array, off: number, len: number): Uint8Array {
    this.room();
    const from = this.op;
    const s = this.scratch;
    s.set(src.subarray(off, off + len), PAD);
    s.fill(0, PAD + len, PAD + len + PAD);
    const end = PAD + len;
    // Literals section.
    const b0 = s[PAD];
    const litType = b0 & 3;
    const sizeFormat = (b0 >> 2) & 3;
    let p = PAD;
    let litSize: number;
    let litSrc: Uint8Array = this.lits;
    let litStart = 0;
    if (litType < 2) {
      if ((sizeFormat & 1) === 0) (litSize = b0 >> 3), (p += 1);
      else if (sizeFormat === 1) (litSize = (b0 >> 4) | (s[p + 1] << 4)), (p += 2);
      else (litSize = (b0 >> 4) | (s[p + 1] << 4) | (s[p + 2] << 12)), (p += 3);
      if (p > end) corrupt('its literals header runs past the block');
      if (litSize > this.blockMax) corrupt(`it has ${litSize} literals, over the block maximum of ${this.blockMax}`);
      if (litType === 0) {
        if (p + litSize > end) corrupt('its raw literals run past the block');
        litSrc = s;
        litStart = p;
        p += litSize;
      } else {
        if (p + 1 > end) corrupt('its RLE literals run past the block');
        this.lits.fill(s[p], 0, litSize);
        p += 1;
      }
    } else {
      let compSize: number;
      let streams = 4;
      if (sizeFormat < 2) {
        if (sizeFormat === 0) streams = 1;
        const v = b0 | (s[p + 1] << 8) | (s[p + 2] << 16);
        litSize = (v >> 4) & 0x3ff;
        compSize = (v >> 14) & 0x3ff;
        p += 3;
      } else if (sizeFormat === 2) {
        const v = (b0 | (s[p + 1] << 8) | (s[p + 2] << 16) | (s[p + 3] << 24)) >>> 0;
        litSize = (v >>> 4) & 0x3fff;
        compSize = v >>> 18;
        p += 4;
      } else {
        const v = (b0 | (s[p + 1] << 8) | (s[p + 2] << 16) | (s[p + 3] << 24)) >>> 0;
        litSize = (v >>> 4) & 0x3ffff;
        compSize = (v >>> 22) + s[p + 4] * 1024;
        p += 5;
      }
      if (p > end) corrupt('its literals header runs past the block');
      if (litSize > this.blockMax) corrupt(`it has ${litSize} literals, over the block maximum of ${this.blockMax}`);
      if (p + compSize > end) corrupt('its compressed literals run past the block');
      const litEnd = p + compSize;
      if (litType === 2) p = this.readHuffmanTree(s, p, litEnd);
      else if (this.huffBits === 0) corrupt('its literals reuse a Huffman tree, but none came before in the frame');
      if (streams === 1) this.huffStream(s, p, litEnd, 0, litSize);
      else {
        if (litEnd - p < 10) corrupt('its four literal streams are shorter than their jump table');
        if (litSize < 6) corrupt('it splits fewer than 6 literals in four streams');
        const l1 = s[p] | (s[p + 1] << 8);
        const l2 = s[p + 2] | (s[p + 3] << 8);
        const l3 = s[p + 4] | (s[p + 5] << 8);
        const s1 = p + 6;
        const s2 = s1 + l1;
        const s3 = s2 + l2;
        const s4 = s3 + l3;
        if (s4 >= litEnd) corrupt('its literal streams overrun their section');
        const q = (litSize + 3) >> 2;
        this.huffStream(s, s1, s2, 0, q);
        this.huffStream(s, s2, s3, q, q);
        this.huffStream(s, s3, s4, 2 * q, q);
        this.huffStream(s, s4, litEnd, 3 * q, litSize - 3 * q);
      }
      p = litEnd;
    }

    // Sequences section.
    if (p >= end) corrupt('it has no sequences section');
    let nbSeq = s[p++];
    if (nbSeq >= 128) {
      if (nbSeq < 255) nbSeq = ((nbSeq - 128) << 8) | s[p++];
      else (nbSeq = s[p] + (s[p + 1] << 8) + 0x7f00), (p += 2);
    }
    if (p > end) corrupt('its sequence count runs past the block');
    if (nbSeq === 0) {
      if (p !== end) corrupt('it has bytes after an empty sequences section');
      this.copyLiterals(litSrc, litStart, litSize);
      return this.done(from);
    }
    if (p >= end) corrupt('its sequence modes are missing');
    const modes = s[p++];
    if ((modes & 3) !== 0) corrupt('it sets the reserved bits of its sequence modes');
    this.ll = this.table(modes >> 6, s, p, end, this.ll, this.llOwn, LL_PREDEFINED, 9, 35, LL_BASE, LL_BITS, 'literals length');
    p = this.tableEnd;
    this.of = this.table((modes >> 4) & 3, s, p, end, this.of, this.ofOwn, OF_PREDEFINED, 8, OF_MAX, OF_BASE, OF_BITS, 'offset');
    p = this.tableEnd;
    this.ml = this.table((modes >> 2) & 3, s, p, end, this.ml, this.mlOwn, ML_PREDEFINED, 9, 52, ML_BASE, ML_BITS, 'match length');
    p = this.tableEnd;
    this.sequences(s, p, end, nbSeq, litSrc, litStart, litSize);
    return this.done(from);
  }

  /** Offset after the last table read by table(). */
  private tableEnd = 0;

  private table(
    mode: number,
    s: Uint8Array,
    p: number,
    end: number,
    previous: FseTable | null,
    own: FseTable,
    defined: FseTable,
    maxLog: number,
    maxSymbol: number,
    base: Uint32Array,
    bits: Uint8Array,
    what: string,
  ): FseTable {
    this.tableEnd = p;
    if (mode === MODE_PREDEFINED) return defined;
    if (mode === MODE_RLE) {
      if (p >= end) corrupt(`its ${what} RLE symbol is missing`);
      const sym = s[p];
      if (sym > maxSymbol) corrupt(`its ${what} RLE symbol ${sym} is over the largest code, ${maxSymbol}`);
      own.rle(sym);
      this.tableEnd = p + 1;
      return own.values(base, bits);
    }
    if (mode === MODE_FSE) {
      this.tableEnd = readFseTable(s, p, end, maxLog, maxSymbol, own);
      return own.values(base, bits);
    }
    if (previous === null) corrupt(`it repeats the ${what} table, but none came before in the frame`);
    return previous!;
  }

  /** Read a Huffman tree description at s[p, end); returns the offset after it. */
  private readHuffmanTree(s: Uint8Array, p: number, end: number): number {
    if (p >= end) corrupt('its Huffman tree description is missing');
    const header = s[p++];
    const w = this.weights;
    let n = 0;
    if (header >= 128) {
      n = header - 127;
      const bytes = (n + 1) >> 1;
      if (p + bytes > end) corrupt('its Huffman weights run past the literals section');
      for (let i = 0; i < n; i += 2) {
        const b = s[p + (i >> 1)];
        w[i] = b >> 4;
        w[i + 1] = b & 15;
      }
      p += bytes;
    } else {
      const wend = p + header;
      if (wend > end) corrupt('its Huffman weights run past the literals section');
      const t = this.huffFse;
      const q = readFseTable(s, p, wend, 6, HUF_MAX_BITS, t);
      const total = streamBits(s, q, wend);
      let bit = total - t.log;
      let s1 = peek(s, q, bit) & ((1 << t.log) - 1);
      bit -= t.log;
      let s2 = peek(s, q, bit) & ((1 << t.log) - 1);
      if (bit < 0) corrupt('its Huffman weights stream is too short for its two states');
      // Two states in turn; a state update that reads past the start ends the list with the other's symbol.
      // A pair written with fewer than 2 of the 255 places left is too many (as the reference decoder counts).
      for (;;) {
        if (n > 253) corrupt('it has more than 255 Huffman weights');
        w[n++] = t.symbol[s1];
        let nb = t.nbBits[s1];
        bit -= nb;
        s1 = t.nextBase[s1] + (bit >= 0 ? peek(s, q, bit) & ((1 << nb) - 1) : 0);
        if (bit < 0) {
          w[n++] = t.symbol[s2];
          break;
        }
        if (n > 253) corrupt('it has more than 255 Huffman weights');
        w[n++] = t.symbol[s2];
        nb = t.nbBits[s2];
        bit -= nb;
        s2 = t.nextBase[s2] + (bit >= 0 ? peek(s, q, bit) & ((1 << nb) - 1) : 0);
        if (bit < 0) {
          w[n++] = t.symbol[s1];
          break;
        }
      }
      p = wend;
    }
    // The last weight completes the sum to a power of two (RFC 8878 4.2.1.1).
    let sum = 0;
    for (let i = 0; i < n; i++) {
      if (w[i] > HUF_MAX_BITS) corrupt(`a Huffman weight of ${w[i]} is over ${HUF_MAX_BITS}`);
      if (w[i] > 0) sum += 1 << (w[i] - 1);
    }
    if (sum === 0) corrupt('its Huffman weights are all zero');
    const maxBits = 32 - Math.clz32(sum);
    if (maxBits > HUF_MAX_BITS) corrupt(`its Huffman codes are longer than ${HUF_MAX_BITS} bits`);
    const rest = (1 << maxBits) - sum;
    if ((rest & (rest - 1)) !== 0) corrupt('its Huffman weights do not complete to a power of two');
    w[n++] = 32 - Math.clz32(rest);
    // Codes in order of weight, then symbol: each symbol of weight k fills 2^(k-1) table entries.
    const count = this.rankCount;
    count.fill(0);
    for (let i = 0; i < n; i++) count[w[i]]++;
    if (count[1] < 2 || (count[1] & 1) !== 0) corrupt('its Huffman weights do not make a prefix code');
    const start = this.rankStart;
    let at = 0;
    for (let k = 1; k <= maxBits; k++) {
      start[k] = at;
      at += count[k] << (k - 1);
    }
    const h = this.huff;
    for (let i = 0; i < n; i++) {
      const k = w[i];
      if (k === 0) continue;
      const entry = i | ((maxBits + 1 - k) << 8);
      const from = start[k];
      const to = from + (1 << (k - 1));
      h.fill(entry, from, to);
      start[k] = to;
    }
    this.huffBits = maxBits;
    return p;
  }

  /** Decode `count` literals from the Huffman stream s[start, end) into lits[at...]. */
  private huffStream(s: Uint8Array, start: number, end: number, at: number, count: number): void {
    const h = this.huff;
    const maxBits = this.huffBits;
    const mask = (1 << maxBits) - 1;
    const lits = this.lits;
    let bit = streamBits(s, start, end);
    let o = at;
    const stop = at + count;
    // While two codes' worth of bits are left, two symbols without the end's checks.
    while (o + 1 < stop && bit >= 2 * maxBits) {
      let e = h[(peek(s, start, bit - maxBits) & mask)];
      lits[o++] = e;
      bit -= e >> 8;
      e = h[(peek(s, start, bit - maxBits) & mask)];
      lits[o++] = e;
      bit -= e >> 8;
    }
    while (o < stop) {
      let v: number;
      if (bit >= maxBits) v = peek(s, start, bit - maxBits) & mask;
      else if (bit > 0) v = (peek(s, start, 0) & ((1 << bit) - 1)) << (maxBits - bit);
      else v = 0;
      const e = h[v];
      lits[o++] = e;
      bit -= e >> 8;
      if (bit < 0) corrupt('a Huffman literal stream is shorter than its literals');
    }
    if (bit !== 0) corrupt('a Huffman literal stream is longer than its literals');
  }

  /** Append n literals to the output. */
  private copyLiterals(src: Uint8Array, from: number, n: number): void {
    if (this.op + n > this.blockEnd) corrupt('it decodes to more than the block maximum');
    this.buf.set(src.subarray(from, from + n), this.op);
    this.op += n;
  }

  /** Decode and execute nbSeq sequences from the bit stream s[p, end). */
  private sequences(s: Uint8Array, p: number, end: number, nbSeq: number, lits: Uint8Array, litPos: number, litSize: number): void {
    const llT = this.ll!;
    const mlT = this.ml!;
    const ofT = this.of!;
    const llNb = llT.nbBits, llNext = llT.nextBase, llVal = llT.valueBase, llExtra = llT.extraBits;
    const mlNb = mlT.nbBits, mlNext = mlT.nextBase, mlVal = mlT.valueBase, mlExtra = mlT.extraBits;
    const ofNb = ofT.nbBits, ofNext = ofT.nextBase, ofVal = ofT.valueBase, ofExtra = ofT.extraBits;
    const buf = this.buf;
    const blockEnd = this.blockEnd;
    const litEnd = litPos + litSize;
    const window = this.window;
    const prevEnd = this.prevEnd;
    /** Frame bytes before this piece of the window: a match may reach back over them and op. */
    const earlier = this.produced - this.op;
    let op = this.op;
    let r1 = this.rep1, r2 = this.rep2, r3 = this.rep3;

    let bit = streamBits(s, p, end);
    bit -= llT.log;
    let llS = peek(s, p, bit) & ((1 << llT.log) - 1);
    bit -= ofT.log;
    let ofS = peek(s, p, bit) & ((1 << ofT.log) - 1);
    bit -= mlT.log;
    let mlS = peek(s, p, bit) & ((1 << mlT.log) - 1);
    if (bit < 0) corrupt('its sequence bit stream is too short for its initial states');

    for (let i = 0; ; ) {
      // Offset, match length, literals length: their extra bits, in that order.
      let nb = ofExtra[ofS];
      let ofValue: number;
      if (nb <= 25) {
        bit -= nb;
        ofValue = ofVal[ofS] + (peek(s, p, bit) & ((1 << nb) - 1));
      } else {
        bit -= nb - 16;
        const hi = peek(s, p, bit) & ((1 << (nb - 16)) - 1);
        bit -= 16;
        ofValue = ofVal[ofS] + hi * 65536 + (peek(s, p, bit) & 0xffff);
      }
      nb = mlExtra[mlS];
      bit -= nb;
      const ml = mlVal[mlS] + (peek(s, p, bit) & ((1 << nb) - 1));
      nb = llExtra[llS];
      bit -= nb;
      const ll = llVal[llS] + (peek(s, p, bit) & ((1 << nb) - 1));

      let offset: number;
      if (ofValue > 3) {
        offset = ofValue - 3;
        r3 = r2;
        r2 = r1;
        r1 = offset;
      } else {
        const k = ll === 0 ? ofValue : ofValue - 1;
        if (k === 0) offset = r1;
        else if (k === 1) {
          offset = r2;
          r2 = r1;
          r1 = offset;
        } else {
          offset = k === 2 ? r3 : r1 - 1;
          if (offset === 0) corrupt('a repeat offset of 0');
          r3 = r2;
          r2 = r1;
          r1 = offset;
        }
      }

      if (++i < nbSeq) {
        // The next states: literals length, match length, offset.
        nb = llNb[llS];
        bit -= nb;
        llS = llNext[llS] + (peek(s, p, bit) & ((1 << nb) - 1));
        nb = mlNb[mlS];
        bit -= nb;
        mlS = mlNext[mlS] + (peek(s, p, bit) & ((1 << nb) - 1));
        nb = ofNb[ofS];
        bit -= nb;
        ofS = ofNext[ofS] + (peek(s, p, bit) & ((1 << nb) - 1));
      }
      if (bit < 0) corrupt('its sequence bit stream is shorter than its sequences');

      // Execute: literals, then the match.
      if (litPos + ll > litEnd) corrupt('a sequence takes more literals than the block has');
      if (op + ll + ml > blockEnd) corrupt('it decodes to more than the block maximum');
      // Short runs byte by byte; a view (an allocation) only for a long one.
      if (ll <= 64) {
        for (let j = 0; j < ll; j++) buf[op + j] = lits[litPos + j];
      } else buf.set(lits.subarray(litPos, litPos + ll), op);
      op += ll;
      litPos += ll;
      if (offset > earlier + op || offset > window) corrupt(`a match reaches ${offset} bytes back, before the ${offset > window ? 'window' : 'frame'} begins`);
      let src = op - offset;
      let len = ml;
      if (src < 0) {
        // The match begins in the older piece's tail.
        const from = prevEnd + src;
        const n = Math.min(len, -src);
        buf.copyWithin(op, from, from + n);
        op += n;
        len -= n;
        src = 0;
      }
      if (len > 0) {
        if (offset >= len) {
          if (len <= 16) for (let j = 0; j < len; j++) buf[op + j] = buf[src + j];
          else buf.copyWithin(op, src, src + len);
          op += len;
        } else if (offset === 1) {
          buf.fill(buf[src], op, op + len);
          op += len;
        } else if (len <= 32) {
          for (let j = 0; j < len; j++) buf[op + j] = buf[src + j];
          op += len;
        } else {
          // A repeating pattern: copy what exists, doubling.
          let have = op - src;
          const stopAt = op + len;
          while (op < stopAt) {
            const n = Math.min(have, stopAt - op);
            buf.copyWithin(op, src, src + n);
            op += n;
            have += n;
          }
        }
      }
      if (i >= nbSeq) break;
    }
    if (bit !== 0) corrupt('its sequence bit stream is longer than its sequences');
    this.rep1 = r1;
    this.rep2 = r2;
    this.rep3 = r3;
    this.op = op;
    // The literals left over end the block.
    this.copyLiterals(lits, litPos, litEnd - litPos);
  }
}
