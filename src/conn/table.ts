/**
 * The connection table: one row per endpoint pair, for every analyzer at once.
 *
 * The pair's key and the packet's direction are computed once per packet
 * (`lookup`); the row is an index into typed-array columns that each analyzer
 * declares for itself (`columns`), so a connection is no object at all. The index is
 * open addressing with linear probing over an Int32Array (deleted by backward shift,
 * no tombstones); rows are reused through a free list; everything grows by doubling.
 *
 * Each analyzer keeps its own view of the connection on the row (the RFC 793 flow,
 * Wireshark's stream, Zeek's session) with its own rules for when that view ends or
 * starts again, and holds the row with one bit of `holders` while it needs it. The row
 * is freed when the last holder lets go; its generation then changes, so a timer or a
 * reference taken under the old generation is known to be stale.
 *
 * The key: IPv4 endpoints as numbers (address * 65536 + port, exact below 2^48), the
 * lower one first; IPv6 the two addresses (4 words each, the lower endpoint's first)
 * and the ports. `dir` is 0 when the packet's source is the lower endpoint, 1 otherwise.
 */
import type { DecodedPacket } from '../decode/packet.js';
import { formatAddress } from '../util/address.js';
import { ColumnSet, type ColumnSpec } from './columns.js';

const EMPTY = 0;

/** The holder bit of the packet in flight: the pipeline pins the row while the analyzers see it. */
export const PACKET_HOLDER = 15;

export class ConnTable {
  /** Of the last lookup: 0 when the packet's source is the row's lower endpoint, 1 when it is the higher. */
  dir = 0;
  /** Of the last lookup: the row was made for this packet. */
  isNew = false;
  /** Rows made in all. */
  created = 0;
  /** Rows in use now, and the most at one moment. */
  live = 0;
  peakLive = 0;

  /** The table's own columns: the key, the hash, who holds the row, its generation. */
  private readonly key = new ColumnSet({
    /** 4 or 6; 0 for a free row. */
    family: Uint8Array,
    /** IPv4: the endpoints as numbers; IPv6: the ports. Lower endpoint first. */
    lo: Float64Array,
    hi: Float64Array,
    /** The key's hash; for a free row (never looked up) the next free row + 1 (0: none). */
    hash: Uint32Array,
    holders: Uint16Array,
    gen: Uint32Array,
    /**
     * The time of the row's latest packet, in seconds after the table's first (4 bytes: `oldest`
     * needs the order, a few ms apart a year into a capture, not the microsecond).
     */
    seen: Float32Array,
  });
  /** IPv6 addresses, 8 words a row: the lower endpoint's 4, then the higher's (made at the first IPv6 row). */
  private v6 = new Uint32Array(0);
  private readonly sets: Array<ColumnSet<ColumnSpec>> = [this.key as unknown as ColumnSet<ColumnSpec>];
  /** row + 1 per slot, EMPTY for none. */
  private slots = new Int32Array(2048);
  private mask = 2047;
  private top = 0;
  private free = -1;
  private readonly scratch = new Uint8Array(16);
  /** The packet time (µs) `seen` counts from: the first touched. */
  private epoch = -1;
  /** `oldest`'s working copy of the live rows' times (grown to the table, kept). */
  private seenCopy = new Float64Array(0);
  /** The input is over (`ending`): rows let go stay as they are. */
  private ended = false;

  /** Hash replaceable so that tests can force collisions. */
  constructor(private readonly mix: (h: number) => number = (h) => h) {}

  /** Declare an analyzer's per-connection fields; the columns grow with the table. */
  columns<S extends ColumnSpec>(spec: S): ColumnSet<S> {
    const set = new ColumnSet(spec, this.key.capacity);
    this.sets.push(set as unknown as ColumnSet<ColumnSpec>);
    return set;
  }

  /** Rows the columns have room for (every declared set has as many). */
  get capacity(): number {
    return this.key.capacity;
  }

  /**
   * The row of the packet's endpoint pair, made when there is none (then `isNew`) unless `create`
   * is false (then -1); sets `dir`.
   */
  lookup(p: DecodedPacket, create = true): number {
    const b = p.buf;
    let family: number;
    let lo: number;
    let hi: number;
    let h: number;
    let loOff = 0;
    let hiOff = 0;
    if (p.ipVersion === 4) {
      family = 4;
      const a = u32(b, p.srcOff) * 65536 + p.srcPort;
      const z = u32(b, p.dstOff) * 65536 + p.dstPort;
      this.dir = a <= z ? 0 : 1;
      lo = a <= z ? a : z;
      hi = a <= z ? z : a;
      h = pairHash(lo, hi);
    } else {
      family = 6;
      const first = v6SourceFirst(p);
      this.dir = first ? 0 : 1;
      loOff = first ? p.srcOff : p.dstOff;
      hiOff = first ? p.dstOff : p.srcOff;
      lo = first ? p.srcPort : p.dstPort;
      hi = first ? p.dstPort : p.srcPort;
      h = Math.imul(lo ^ 0x9e3779b9, 0x85ebca6b);
      for (let i = 0; i < 16; i += 4) h = Math.imul(h ^ u32(b, loOff + i), 0xcc9e2d51) ^ (h >>> 15);
      h = Math.imul(h ^ hi, 0x1b873593);
      for (let i = 0; i < 16; i += 4) h = Math.imul(h ^ u32(b, hiOff + i), 0xcc9e2d51) ^ (h >>> 15);
      h = (h ^ (h >>> 16)) >>> 0;
    }
    h = this.mix(h) >>> 0;
    const k = this.key.c;
    const slots = this.slots;
    let i = h & this.mask;
    for (let s = slots[i]; s !== EMPTY; s = slots[i]) {
      const r = s - 1;
      if (k.hash[r] === h && k.family[r] === family && k.lo[r] === lo && k.hi[r] === hi && (family === 4 || this.sameV6(r, b, loOff, hiOff))) {
        this.isNew = false;
        return r;
      }
      i = (i + 1) & this.mask;
    }
    if (!create) return -1;
    const r = this.newRow();
    const kc = this.key.c;
    kc.family[r] = family;
    kc.lo[r] = lo;
    kc.hi[r] = hi;
    kc.hash[r] = h;
    kc.holders[r] = 0;
    if (family === 6) {
      if (this.v6.length < 8 * this.key.capacity) this.growV6();
      const w = 8 * r;
      for (let j = 0; j < 4; j++) {
        this.v6[w + j] = u32(b, loOff + 4 * j);
        this.v6[w + 4 + j] = u32(b, hiOff + 4 * j);
      }
    }
    this.place(r, h);
    this.isNew = true;
    return r;
  }

  /** The row's packet at time `ts` (µs): `oldest` takes the rows whose latest packet is earliest. */
  touch(row: number, ts: number): void {
    if (this.epoch < 0) this.epoch = ts;
    this.key.c.seen[row] = (ts - this.epoch) / 1e6;
  }

  /**
   * The `count` live rows (at most) whose latest packet is the earliest, into `out` from the
   * least recently seen on (rows seen at the same time in row order), never a row pinned for
   * the packet in flight (PACKET_HOLDER); returns how many. The
   * time that splits them off is found by selection over a copy of the live rows' times, so a
   * call costs time in proportion to the live rows, never a sort of them all.
   */
  oldest(count: number, out: Int32Array): number {
    const k = this.key.c;
    const rows = this.top;
    if (this.seenCopy.length < rows) this.seenCopy = new Float64Array(this.key.capacity);
    const t = this.seenCopy;
    let n = 0;
    const pinned = 1 << PACKET_HOLDER;
    for (let r = 0; r < rows; r++) if (k.family[r] !== 0 && (k.holders[r] & pinned) === 0) t[n++] = k.seen[r];
    count = Math.min(count, n, out.length);
    if (count <= 0) return 0;
    // The count-th earliest time: every row seen before it goes, and rows seen at it in row order.
    const cut = select(t, n, count - 1);
    let before = 0;
    for (let i = 0; i < n; i++) if (t[i] < cut) before++;
    let atCut = count - before;
    let m = 0;
    for (let r = 0; r < rows && m < count; r++) {
      if (k.family[r] === 0 || (k.holders[r] & pinned) !== 0) continue;
      const s = k.seen[r];
      if (s < cut || (s === cut && atCut-- > 0)) out[m++] = r;
    }
    out.subarray(0, m).sort((a, b) => k.seen[a] - k.seen[b] || a - b);
    return m;
  }

  /** The row's current generation: changes each time the row is freed. */
  gen(row: number): number {
    return this.key.c.gen[row];
  }

  /** Analyzer `bit` (0..15) needs the row. */
  hold(row: number, bit: number): void {
    this.key.c.holders[row] |= 1 << bit;
  }

  /**
   * The input is over: the analyzers end what they hold, and rows are no longer freed when they
   * let go. The table goes as a whole; taking each row out of the index on its own would cost a
   * miss in the cache a row for nothing (a quarter of a second for a flood's million SYNs).
   */
  ending(): void {
    this.ended = true;
  }

  /** The input is over (`ending`). */
  get inputOver(): boolean {
    return this.ended;
  }

  /** Analyzer `bit` is done with the row; the row is freed when nobody holds it (but once `ending`). True when it was freed. */
  release(row: number, bit: number): boolean {
    const k = this.key.c;
    k.holders[row] &= ~(1 << bit);
    if (k.holders[row] !== 0 || this.ended) return false;
    this.freeRow(row);
    return true;
  }

  /** Free the row if nobody holds it (after a packet no analyzer kept). */
  releaseIfIdle(row: number): boolean {
    if (this.key.c.holders[row] !== 0 || this.key.c.family[row] === 0) return false;
    this.freeRow(row);
    return true;
  }

  isHeld(row: number, bit: number): boolean {
    return (this.key.c.holders[row] & (1 << bit)) !== 0;
  }

  /** 4 or 6 (0: a free row). */
  family(row: number): number {
    return this.key.c.family[row];
  }

  /** The port of endpoint `end` (0: lower, 1: higher). */
  port(row: number, end: number): number {
    const k = this.key.c;
    const v = end === 0 ? k.lo[row] : k.hi[row];
    return k.family[row] === 4 ? v % 65536 : v;
  }

  /** The IPv4 address of endpoint `end` (0: lower, 1: higher) as a number; 0 for IPv6. */
  addressV4(row: number, end: number): number {
    const k = this.key.c;
    return k.family[row] === 4 ? Math.floor((end === 0 ? k.lo[row] : k.hi[row]) / 65536) : 0;
  }

  /** The address of endpoint `end` (0: lower, 1: higher) as text: for the edges (sinks, reports), never per packet. */
  address(row: number, end: number): string {
    const k = this.key.c;
    const out = this.scratch;
    if (k.family[row] === 4) {
      const a = Math.floor((end === 0 ? k.lo[row] : k.hi[row]) / 65536);
      out[0] = a >>> 24;
      out[1] = (a >>> 16) & 255;
      out[2] = (a >>> 8) & 255;
      out[3] = a & 255;
      return formatAddress(out, 0, 4);
    }
    const w = 8 * row + 4 * end;
    for (let j = 0; j < 4; j++) {
      const v = this.v6[w + j];
      out[4 * j] = v >>> 24;
      out[4 * j + 1] = (v >>> 16) & 255;
      out[4 * j + 2] = (v >>> 8) & 255;
      out[4 * j + 3] = v & 255;
    }
    return formatAddress(out, 0, 6);
  }

  private sameV6(r: number, b: Uint8Array, loOff: number, hiOff: number): boolean {
    const w = 8 * r;
    for (let j = 0; j < 4; j++) {
      if (this.v6[w + j] !== u32(b, loOff + 4 * j) || this.v6[w + 4 + j] !== u32(b, hiOff + 4 * j)) return false;
    }
    return true;
  }

  private newRow(): number {
    let r = this.free;
    if (r >= 0) this.free = this.key.c.hash[r] - 1;
    else {
      r = this.top++;
      if (r >= this.key.capacity) {
        for (const s of this.sets) s.ensure(r + 1);
        if (this.v6.length > 0) this.growV6();
      }
    }
    this.created++;
    if (++this.live > this.peakLive) this.peakLive = this.live;
    if (2 * this.live > this.slots.length) this.rehash(this.slots.length * 2);
    return r;
  }

  private growV6(): void {
    const v6 = new Uint32Array(8 * this.key.capacity);
    v6.set(this.v6);
    this.v6 = v6;
  }

  private place(r: number, h: number): void {
    let i = h & this.mask;
    while (this.slots[i] !== EMPTY) i = (i + 1) & this.mask;
    this.slots[i] = r + 1;
  }

  private rehash(size: number): void {
    const old = this.slots;
    this.slots = new Int32Array(size);
    this.mask = size - 1;
    for (let i = 0; i < old.length; i++) if (old[i] !== EMPTY) this.place(old[i] - 1, this.key.c.hash[old[i] - 1]);
  }

  private freeRow(r: number): void {
    const k = this.key.c;
    // Find the row's slot, empty it, and shift later entries of its run back (no tombstones).
    const slots = this.slots;
    const mask = this.mask;
    let i = k.hash[r] & mask;
    while (slots[i] !== r + 1) i = (i + 1) & mask;
    let j = i;
    for (;;) {
      slots[i] = EMPTY;
      for (;;) {
        j = (j + 1) & mask;
        if (slots[j] === EMPTY) {
          k.family[r] = 0;
          k.gen[r] = (k.gen[r] + 1) >>> 0;
          k.hash[r] = this.free + 1;
          this.free = r;
          this.live--;
          return;
        }
        const home = k.hash[slots[j] - 1] & mask;
        // Move j back to i when its home is not cyclically within (i, j].
        if (i <= j ? home <= i || home > j : home <= i && home > j) break;
      }
      slots[i] = slots[j];
      i = j;
    }
  }
}

/**
 * The value that would be at index `nth` if the first `n` values of `a` were sorted (they are
 * reordered): quickselect, median of three pivots.
 */
function select(a: Float64Array, n: number, nth: number): number {
  let lo = 0;
  let hi = n - 1;
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    // The median of a[lo], a[mid], a[hi] as the pivot.
    if (a[mid] < a[lo]) swap(a, mid, lo);
    if (a[hi] < a[lo]) swap(a, hi, lo);
    if (a[hi] < a[mid]) swap(a, hi, mid);
    const pivot = a[mid];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) swap(a, i++, j--);
    }
    if (nth <= j) hi = j;
    else if (nth >= i) lo = i;
    else return a[nth];
  }
  return a[nth];
}

function swap(a: Float64Array, i: number, j: number): void {
  const t = a[i];
  a[i] = a[j];
  a[j] = t;
}

function u32(b: Uint8Array, off: number): number {
  return ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;
}

/** Mix two 48-bit endpoint numbers into one 32-bit hash. */
function pairHash(lo: number, hi: number): number {
  const a = Math.imul((lo >>> 0) ^ Math.imul(Math.floor(lo / 4294967296), 0x85ebca6b), 0x9e3779b1);
  const b = Math.imul((hi >>> 0) ^ Math.imul(Math.floor(hi / 4294967296), 0xc2b2ae35), 0x27d4eb2f);
  return (a ^ (b >>> 15) ^ Math.imul(b, 0x165667b1)) >>> 0;
}

/** The packet's source endpoint sorts before (or equals) its destination: address bytes, then port. */
function v6SourceFirst(p: DecodedPacket): boolean {
  const b = p.buf;
  for (let i = 0; i < 16; i++) {
    const d = b[p.srcOff + i] - b[p.dstOff + i];
    if (d !== 0) return d < 0;
  }
  return p.srcPort <= p.dstPort;
}
