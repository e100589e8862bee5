/**
 * Lone SYNs kept compactly. Under a SYN flood from spoofed sources every SYN is a
 * connection of its own that nothing else will ever touch; as full objects in the
 * flow table, the Zeek emulation and the sequence analysis they cost kilobytes
 * each. Here a SYN nobody has answered yet is its IP datagram (at most SLOT bytes)
 * and a few numbers in typed arrays, about 120 bytes in all, with what the trackers
 * handed out for it when it came (flow id, tshark stream, clocks). The first
 * packet that follows on its endpoints, the handshake timeout, or the end of the
 * capture brings it back: it is decoded again and replayed into the trackers as
 * it would have been processed when it came.
 *
 * Storage comes in pages of a fixed number of slots: it grows a page at a time
 * and, as a flood drains, the SYNs still held move down into free slots so that
 * the top pages can be given back. Nothing is ever copied into a buffer twice the
 * size, so memory follows the flood without a spike.
 *
 * Only what replays exactly is kept: a SYN without ACK, RST, FIN or payload, in a
 * plain IPv4 header (no options) or IPv6 header (no extension headers), not
 * tunnelled, with no decoding note, wholly captured.
 */
import type { DecodedPacket } from '../decode/packet.js';

/**
 * Bytes kept per SYN: an IPv4 header (20) and a TCP header with up to 40 bytes of
 * options, or an IPv6 header (40) and a TCP header with up to 4 (larger IPv6 SYNs
 * go the ordinary way).
 */
export const SLOT = 64;
const EMPTY = -1;
/** Frame numbers and serials are kept in 32 bits; a SYN past that goes the ordinary way. */
const U32_LIMIT = 2 ** 32;

export interface HalfOpenMeta {
  frame: number;
  ts: number;
  flowId: number;
  stream: number;
  seqClock: number;
  /** Zeek's first reserved timer order, and whether Zeek has had the SYN already. */
  zeekOrder: number;
  zeekDone: boolean;
  /** Bytes of the datagram, copied to the start of the caller's buffer. */
  length: number;
}

/** Whether a decoded TCP packet can be kept here. */
export function keepable(p: DecodedPacket, capturedEnd: number): boolean {
  if ((p.flags & 0x17) !== 0x02 || p.payloadLen !== 0 || p.notes !== 0 || p.encapDepth !== 0) return false;
  const ipLen = p.ipEnd - p.ipOff;
  if (ipLen > SLOT || p.ipEnd > capturedEnd) return false;
  return p.tcpOff - p.ipOff === (p.ipVersion === 4 ? 20 : 40) && p.tcpOff + p.tcpHeaderLen === p.ipEnd;
}

/**
 * One page of slots, its columns views of a single buffer: one allocation large
 * enough for the allocator to map it on its own, so the memory of a page given
 * back goes back to the system, not into a fragmented heap.
 * serial: insertion number, from 1 (0: a free slot).
 */
class Page {
  /** Slots in use. */
  live = 0;
  readonly ts: Float64Array;
  readonly seqClock: Float64Array;
  readonly frame: Uint32Array;
  readonly flowId: Uint32Array;
  readonly stream: Uint32Array;
  readonly serial: Uint32Array;
  readonly zeekOrder: Uint32Array;
  readonly bytes: Uint8Array;
  readonly len: Uint8Array;
  readonly zeekDone: Uint8Array;
  constructor(n: number) {
    const buf = new ArrayBuffer(n * (2 * 8 + 5 * 4 + SLOT + 2));
    let at = 0;
    const f64 = () => new Float64Array(buf, (at += 8 * n) - 8 * n, n);
    const u32 = () => new Uint32Array(buf, (at += 4 * n) - 4 * n, n);
    const u8 = (size: number) => new Uint8Array(buf, (at += size) - size, size);
    this.ts = f64();
    this.seqClock = f64();
    this.frame = u32();
    this.flowId = u32();
    this.stream = u32();
    this.serial = u32();
    this.zeekOrder = u32();
    this.bytes = u8(n * SLOT);
    this.len = u8(n);
    this.zeekDone = u8(n);
  }

  /** Copy slot `a` of this page into slot `b` of `to` (the datagram and every number). */
  copy(a: number, to: Page, b: number): void {
    to.bytes.set(this.bytes.subarray(a * SLOT, a * SLOT + this.len[a]), b * SLOT);
    for (const k of NUMBER_COLUMNS) to[k][b] = this[k][a];
    to.live++;
  }
}

const NUMBER_COLUMNS = ['ts', 'seqClock', 'frame', 'flowId', 'stream', 'serial', 'zeekOrder', 'len', 'zeekDone'] as const;

export class HalfOpenStore {
  private readonly pageShift: number;
  private readonly pageMask: number;
  private readonly pages: Page[] = [];
  /** Free slots, a stack (room for every slot). */
  private freeSlots = new Int32Array(0);
  private freeCount = 0;
  /** Open addressing, linear probing: slot per bucket, EMPTY when none. */
  private buckets = new Int32Array(0);
  private mask = 0;
  /** Slots in order of arrival (ring of slot and serial), stale entries skipped. */
  private queueSlot = new Int32Array(0);
  private queueSerial = new Uint32Array(0);
  private head = 0;
  private queued = 0;
  private serials = 0;
  /** The serial from which to look for the next SYN Zeek has not had yet. */
  private zeekCursor = 1;
  /** After drain(): nothing is added any more, and each page goes as soon as it is empty. */
  private draining = false;
  size = 0;

  /** `pageSlots`: slots per page, a power of two. */
  constructor(pageSlots = 4096) {
    if (!(pageSlots > 0 && (pageSlots & (pageSlots - 1)) === 0)) throw new RangeError(`pageSlots must be a power of two, not ${pageSlots}`);
    this.pageShift = Math.log2(pageSlots);
    this.pageMask = pageSlots - 1;
    this.rehash(16);
    this.queueSlot = new Int32Array(16);
    this.queueSerial = new Uint32Array(16);
  }

  /** Slots there is room for (whole pages). */
  get capacity(): number {
    return this.pages.length << this.pageShift;
  }

  /** Pages in memory (after drain() some go before the top ones). */
  get pagesKept(): number {
    let n = 0;
    for (const pg of this.pages) if (pg !== undefined) n++;
    return n;
  }

  /** Whether a SYN of frame `frame`, its Zeek timer orders below `zeekOrders`, fits the store's number ranges. */
  accepts(frame: number, zeekOrders: number): boolean {
    return frame < U32_LIMIT && zeekOrders < U32_LIMIT && this.serials + 1 < U32_LIMIT;
  }

  /** The slot holding a SYN between the packet's two endpoints (either way), or -1. */
  find(p: DecodedPacket): number {
    if (this.size === 0 || this.draining) return -1;
    for (let i = pairHash(p) & this.mask; ; i = (i + 1) & this.mask) {
      const slot = this.buckets[i];
      if (slot === EMPTY) return -1;
      const pg = this.pages[slot >>> this.pageShift];
      if (matches(pg.bytes, (slot & this.pageMask) * SLOT, p)) return slot;
    }
  }

  /**
   * The end of the capture: what is held now comes out (oldest() and take()) and
   * nothing more goes in. Pages are given back as they empty, with no moves.
   */
  drain(): void {
    this.draining = true;
    // Only oldest() and take() from now on: no lookups, no slots handed out.
    this.buckets = new Int32Array(0);
    this.freeSlots = new Int32Array(0);
    this.freeCount = 0;
  }

  /** Keep the packet's datagram (keepable() and accepts() must hold) with what the trackers gave it. */
  add(p: DecodedPacket, frame: number, ts: number, flowId: number, stream: number, seqClock: number, zeekOrder: number): void {
    if (this.draining) throw new Error('HalfOpenStore: add() after drain()');
    if (this.freeCount === 0) this.addPage();
    const slot = this.freeSlots[--this.freeCount];
    const pg = this.pages[slot >>> this.pageShift];
    const k = slot & this.pageMask;
    pg.bytes.set(p.buf.subarray(p.ipOff, p.ipEnd), k * SLOT);
    pg.len[k] = p.ipEnd - p.ipOff;
    pg.frame[k] = frame;
    pg.ts[k] = ts;
    pg.flowId[k] = flowId;
    pg.stream[k] = stream;
    pg.seqClock[k] = seqClock;
    pg.zeekOrder[k] = zeekOrder;
    pg.zeekDone[k] = 0;
    pg.serial[k] = ++this.serials;
    pg.live++;
    if ((this.size + 1) * 2 > this.buckets.length) this.rehash(this.buckets.length * 2);
    this.index(slot, this.hashOf(slot));
    this.size++;
    this.enqueue(slot, this.serials);
  }

  /** The oldest slot still held, or -1. */
  oldest(): number {
    const ring = this.queueSlot.length;
    while (this.queued > 0) {
      const slot = this.queueSlot[this.head];
      if (this.serialOf(slot) === this.queueSerial[this.head]) return slot;
      this.head = (this.head + 1) & (ring - 1);
      this.queued--;
    }
    return -1;
  }

  /**
   * The oldest slot still held whose SYN Zeek has not had yet, or -1. Its Zeek
   * timers (a placeholder for them) come due in this order.
   */
  nextForZeek(): number {
    if (this.queued === 0) return -1;
    const ring = this.queueSlot.length;
    for (let lo = this.queuedBefore(this.zeekCursor); lo < this.queued; lo++) {
      const at = (this.head + lo) & (ring - 1);
      const slot = this.queueSlot[at];
      const serial = this.queueSerial[at];
      if (this.serialOf(slot) !== serial) continue;
      this.zeekCursor = serial;
      if (this.pages[slot >>> this.pageShift].zeekDone[slot & this.pageMask] === 0) return slot;
    }
    this.zeekCursor = this.serials + 1;
    return -1;
  }

  setZeekDone(slot: number): void {
    this.pages[slot >>> this.pageShift].zeekDone[slot & this.pageMask] = 1;
  }

  /** Arrival time of the SYN in `slot`. */
  tsOf(slot: number): number {
    return this.pages[slot >>> this.pageShift].ts[slot & this.pageMask];
  }

  /** Zeek's first reserved timer order for the SYN in `slot`. */
  zeekOrderOf(slot: number): number {
    return this.pages[slot >>> this.pageShift].zeekOrder[slot & this.pageMask];
  }

  /** Copy the slot's datagram into `out` (SLOT bytes at least), fill `meta`, and free the slot. */
  take(slot: number, out: Uint8Array, meta: HalfOpenMeta): void {
    this.read(slot, out, meta);
    this.release(slot);
  }

  /** take() without freeing the slot. */
  read(slot: number, out: Uint8Array, meta: HalfOpenMeta): void {
    const pg = this.pages[slot >>> this.pageShift];
    const k = slot & this.pageMask;
    const n = pg.len[k];
    out.set(pg.bytes.subarray(k * SLOT, k * SLOT + n), 0);
    meta.length = n;
    meta.frame = pg.frame[k];
    meta.ts = pg.ts[k];
    meta.flowId = pg.flowId[k];
    meta.stream = pg.stream[k];
    meta.seqClock = pg.seqClock[k];
    meta.zeekOrder = pg.zeekOrder[k];
    meta.zeekDone = pg.zeekDone[k] === 1;
  }

  /** Queue entries (from the head) with a serial below `serial`: the queue is in serial order. */
  private queuedBefore(serial: number): number {
    const ring = this.queueSlot.length;
    let lo = 0;
    let hi = this.queued;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.queueSerial[(this.head + mid) & (ring - 1)] < serial) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The slot's serial; 0 for a free slot or one past the pages kept (a stale queue entry's). */
  private serialOf(slot: number): number {
    const pg = this.pages[slot >>> this.pageShift];
    return pg === undefined ? 0 : pg.serial[slot & this.pageMask];
  }

  /** The hash of the slot's two endpoints (as pairHash() of its packet), from its datagram. */
  private hashOf(slot: number): number {
    const b = this.pages[slot >>> this.pageShift].bytes;
    const base = (slot & this.pageMask) * SLOT;
    const v4 = b[base] >> 4 === 4;
    const src = base + (v4 ? 12 : 8);
    const n = v4 ? 4 : 16;
    const tcp = base + (v4 ? 20 : 40);
    return endpointsHash(b, src, (b[tcp] << 8) | b[tcp + 1], b, src + n, (b[tcp + 2] << 8) | b[tcp + 3], n);
  }

  private index(slot: number, hash: number): void {
    let i = hash & this.mask;
    while (this.buckets[i] !== EMPTY) i = (i + 1) & this.mask;
    this.buckets[i] = slot;
  }

  private bucketOf(slot: number): number {
    let i = this.hashOf(slot) & this.mask;
    while (this.buckets[i] !== slot) i = (i + 1) & this.mask;
    return i;
  }

  private release(slot: number): void {
    const pg = this.pages[slot >>> this.pageShift];
    pg.serial[slot & this.pageMask] = 0;
    pg.live--;
    this.size--;
    if (this.draining) {
      if (pg.live === 0) delete this.pages[slot >>> this.pageShift];
      return;
    }
    // Backward-shift deletion keeps every probe sequence unbroken.
    let i = this.bucketOf(slot);
    for (let j = (i + 1) & this.mask; this.buckets[j] !== EMPTY; j = (j + 1) & this.mask) {
      const home = this.hashOf(this.buckets[j]) & this.mask;
      // Move j's entry into the hole at i unless its home lies cyclically in (i, j].
      if (i <= j ? home <= i || home > j : home <= i && home > j) {
        this.buckets[i] = this.buckets[j];
        i = j;
      }
    }
    this.buckets[i] = EMPTY;
    this.freeSlots[this.freeCount++] = slot;
    const pageSlots = this.pageMask + 1;
    if (this.pages.length > 1 && this.size * 3 < this.capacity - pageSlots) this.compact();
    if (this.buckets.length > 64 && this.size * 8 < this.buckets.length) this.rehash(this.buckets.length / 2);
  }

  /**
   * Give back the top pages: keep pages for twice the SYNs held, move the SYNs held
   * above that into free slots below (their buckets and queue entries follow).
   */
  private compact(): void {
    const pageSlots = this.pageMask + 1;
    const keepPages = Math.max(1, Math.ceil((this.size * 2) / pageSlots));
    if (keepPages >= this.pages.length) return;
    const limit = keepPages * pageSlots;
    const below: number[] = [];
    for (let k = 0; k < this.freeCount; k++) if (this.freeSlots[k] < limit) below.push(this.freeSlots[k]);
    const ring = this.queueSlot.length;
    for (let slot = limit; slot < this.capacity; slot++) {
      const from = this.pages[slot >>> this.pageShift];
      const a = slot & this.pageMask;
      const serial = from.serial[a];
      if (serial === 0) continue;
      const to = below.pop()!;
      from.copy(a, this.pages[to >>> this.pageShift], to & this.pageMask);
      this.buckets[this.bucketOf(slot)] = to;
      this.queueSlot[(this.head + this.queuedBefore(serial)) & (ring - 1)] = to;
    }
    this.pages.length = keepPages;
    this.freeSlots = new Int32Array(limit);
    this.freeSlots.set(below);
    this.freeCount = below.length;
  }

  private addPage(): void {
    const pageSlots = this.pageMask + 1;
    const first = this.capacity;
    this.pages.push(new Page(pageSlots));
    if (this.freeSlots.length < this.capacity) {
      const free = new Int32Array(Math.max(this.capacity, this.freeSlots.length * 2));
      free.set(this.freeSlots.subarray(0, this.freeCount));
      this.freeSlots = free;
    }
    // New slots are taken lowest first.
    for (let s = first + pageSlots - 1; s >= first; s--) this.freeSlots[this.freeCount++] = s;
  }

  /** Buckets anew, `n` of them (a power of two, more than twice the SYNs held). */
  private rehash(n: number): void {
    this.buckets = new Int32Array(n).fill(EMPTY);
    this.mask = n - 1;
    for (let slot = 0; slot < this.capacity; slot++) if (this.serialOf(slot) !== 0) this.index(slot, this.hashOf(slot));
  }

  private enqueue(slot: number, serial: number): void {
    let ring = this.queueSlot.length;
    if (this.queued === ring) {
      // Full: drop stale entries, and double when more than half are live.
      const live: number[] = [];
      for (let k = 0, i = this.head; k < this.queued; k++, i = (i + 1) & (ring - 1)) {
        if (this.serialOf(this.queueSlot[i]) === this.queueSerial[i]) live.push(i);
      }
      const size = live.length * 2 >= ring ? ring * 2 : ring;
      const slots = new Int32Array(size);
      const serials = new Uint32Array(size);
      live.forEach((i, k) => {
        slots[k] = this.queueSlot[i];
        serials[k] = this.queueSerial[i];
      });
      this.queueSlot = slots;
      this.queueSerial = serials;
      this.head = 0;
      this.queued = live.length;
      ring = size;
    }
    const at = (this.head + this.queued) & (ring - 1);
    this.queueSlot[at] = slot;
    this.queueSerial[at] = serial;
    this.queued++;
  }
}

function matches(b: Uint8Array, base: number, p: DecodedPacket): boolean {
  const v4 = p.ipVersion === 4;
  if (b[base] >> 4 !== p.ipVersion) return false;
  const n = v4 ? 4 : 16;
  const src = base + (v4 ? 12 : 8);
  const dst = src + n;
  const tcp = base + (v4 ? 20 : 40);
  const sport = (b[tcp] << 8) | b[tcp + 1];
  const dport = (b[tcp + 2] << 8) | b[tcp + 3];
  const pb = p.buf;
  if (sport === p.srcPort && dport === p.dstPort && same(b, src, pb, p.srcOff, n) && same(b, dst, pb, p.dstOff, n)) return true;
  return sport === p.dstPort && dport === p.srcPort && same(b, src, pb, p.dstOff, n) && same(b, dst, pb, p.srcOff, n);
}
function same(a: Uint8Array, ao: number, b: Uint8Array, bo: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[ao + i] !== b[bo + i]) return false;
  return true;
}

/** One 32-bit hash of the two endpoints, the same whichever way the packet goes. */
function pairHash(p: DecodedPacket): number {
  return endpointsHash(p.buf, p.srcOff, p.srcPort, p.buf, p.dstOff, p.dstPort, p.ipVersion === 4 ? 4 : 16);
}

function endpointsHash(ab: Uint8Array, aOff: number, aPort: number, zb: Uint8Array, zOff: number, zPort: number, n: number): number {
  const a = endpointHash(ab, aOff, n, aPort);
  const z = endpointHash(zb, zOff, n, zPort);
  const lo = a < z ? a : z;
  const hi = a < z ? z : a;
  let h = Math.imul(lo ^ 0x9e3779b9, 0x85ebca6b) ^ hi;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

function endpointHash(b: Uint8Array, off: number, n: number, port: number): number {
  let h = 0x811c9dc5 ^ port;
  for (let i = 0; i < n; i++) h = Math.imul(h ^ b[off + i], 0x01000193);
  h = Math.imul(h ^ (h >>> 13), 0x5bd1e995);
  return (h ^ (h >>> 15)) >>> 0;
}
