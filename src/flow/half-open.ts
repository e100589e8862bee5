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
 * Only what replays exactly is kept: a SYN without ACK, RST, FIN or payload, in a
 * plain IPv4 header (no options) or IPv6 header (no extension headers), not
 * tunnelled, with no decoding note, wholly captured.
 */
import type { DecodedPacket } from '../decode/packet.js';
import { Columns, F64, U32, U8 } from '../util/columns.js';

/**
 * Bytes kept per SYN: an IPv4 header (20) and a TCP header with up to 40 bytes of
 * options, or an IPv6 header (40) and a TCP header with up to 4 (larger IPv6 SYNs
 * go the ordinary way).
 */
export const SLOT = 64;
const EMPTY = -1;

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
  if ((p.flags & 0x17) !== 0x02 || p.payloadLen !== 0 || p.notes !== 0 || p.encapDepth !== 0 || p.ipFirstFragment) return false;
  const ipLen = p.ipEnd - p.ipOff;
  if (ipLen > SLOT || p.ipEnd > capturedEnd) return false;
  return p.tcpOff - p.ipOff === (p.ipVersion === 4 ? 20 : 40) && p.tcpOff + p.tcpHeaderLen === p.ipEnd;
}

/** What is kept per slot besides the datagram. serial: insertion number, from 1 (0: a free slot). */
const SLOT_COLUMNS = { len: U8, frame: F64, ts: F64, flowId: U32, stream: U32, seqClock: F64, zeekOrder: F64, zeekDone: U8, serial: F64, hash: U32 };

export class HalfOpenStore {
  private cap = 0;
  private bytes = new Uint8Array(0);
  private cols = new Columns(SLOT_COLUMNS, 0);
  private freeSlots = new Int32Array(0);
  private freeCount = 0;
  /** Open addressing, linear probing: slot per bucket, EMPTY when none. */
  private buckets = new Int32Array(0);
  private mask = 0;
  /** Slots in order of arrival (ring of slot and serial), stale entries skipped. */
  private queueSlot = new Int32Array(0);
  private queueSerial = new Float64Array(0);
  private head = 0;
  private queued = 0;
  private serials = 0;
  size = 0;

  constructor(initial = 1024) {
    this.grow(initial);
  }

  /** The slot holding a SYN between the packet's two endpoints (either way), or -1. */
  find(p: DecodedPacket): number {
    if (this.size === 0) return -1;
    const h = pairHash(p);
    const hash = this.cols.col.hash;
    for (let i = h & this.mask; ; i = (i + 1) & this.mask) {
      const slot = this.buckets[i];
      if (slot === EMPTY) return -1;
      if (hash[slot] === h && this.matches(slot, p)) return slot;
    }
  }

  /** The serial the next add() will give its SYN. */
  get nextSerial(): number {
    return this.serials + 1;
  }

  /** Keep the packet's datagram (keepable() must hold) with what the trackers gave it. */
  add(p: DecodedPacket, frame: number, ts: number, flowId: number, stream: number, seqClock: number, zeekOrder: number): void {
    if (this.freeCount === 0) this.grow(this.cap * 2);
    const slot = this.freeSlots[--this.freeCount];
    this.bytes.set(p.buf.subarray(p.ipOff, p.ipEnd), slot * SLOT);
    const c = this.cols.col;
    c.len[slot] = p.ipEnd - p.ipOff;
    c.frame[slot] = frame;
    c.ts[slot] = ts;
    c.flowId[slot] = flowId;
    c.stream[slot] = stream;
    c.seqClock[slot] = seqClock;
    c.zeekOrder[slot] = zeekOrder;
    c.zeekDone[slot] = 0;
    c.serial[slot] = ++this.serials;
    c.hash[slot] = pairHash(p);
    this.place(slot);
  }

  /** The slot still holding the SYN of `serial`, or -1 (binary search of the arrival queue). */
  slotOfSerial(serial: number): number {
    const ring = this.queueSlot.length;
    let lo = 0;
    let hi = this.queued;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.queueSerial[(this.head + mid) % ring] < serial) lo = mid + 1;
      else hi = mid;
    }
    if (lo === this.queued) return -1;
    const at = (this.head + lo) % ring;
    return this.queueSerial[at] === serial && this.cols.col.serial[this.queueSlot[at]] === serial ? this.queueSlot[at] : -1;
  }

  setZeekDone(slot: number): void {
    this.cols.col.zeekDone[slot] = 1;
  }

  /** Copy the slot's datagram into `out` (SLOT bytes at least), fill `meta`, and free the slot. */
  take(slot: number, out: Uint8Array, meta: HalfOpenMeta): void {
    this.read(slot, out, meta);
    this.release(slot);
  }

  /** take() without freeing the slot. */
  read(slot: number, out: Uint8Array, meta: HalfOpenMeta): void {
    const c = this.cols.col;
    const n = c.len[slot];
    out.set(this.bytes.subarray(slot * SLOT, slot * SLOT + n), 0);
    meta.length = n;
    meta.frame = c.frame[slot];
    meta.ts = c.ts[slot];
    meta.flowId = c.flowId[slot];
    meta.stream = c.stream[slot];
    meta.seqClock = c.seqClock[slot];
    meta.zeekOrder = c.zeekOrder[slot];
    meta.zeekDone = c.zeekDone[slot] === 1;
  }

  /** The oldest slot still held, or -1. */
  oldest(): number {
    while (this.queued > 0) {
      const slot = this.queueSlot[this.head];
      if (this.cols.col.serial[slot] === this.queueSerial[this.head]) return slot;
      this.head = (this.head + 1) % this.queueSlot.length;
      this.queued--;
    }
    return -1;
  }

  /** Arrival time of the SYN in `slot`. */
  tsOf(slot: number): number {
    return this.cols.col.ts[slot];
  }

  /** Index a filled slot (bucket and arrival queue). */
  private place(slot: number): void {
    let i = this.cols.col.hash[slot] & this.mask;
    while (this.buckets[i] !== EMPTY) i = (i + 1) & this.mask;
    this.buckets[i] = slot;
    this.size++;
    this.enqueue(slot, this.cols.col.serial[slot]);
  }

  private release(slot: number): void {
    // Backward-shift deletion keeps every probe sequence unbroken.
    const hash = this.cols.col.hash;
    let i = hash[slot] & this.mask;
    while (this.buckets[i] !== slot) i = (i + 1) & this.mask;
    for (let j = (i + 1) & this.mask; this.buckets[j] !== EMPTY; j = (j + 1) & this.mask) {
      const home = hash[this.buckets[j]] & this.mask;
      // Move j's entry into the hole at i unless its home lies cyclically in (i, j].
      if (i <= j ? home <= i || home > j : home <= i && home > j) {
        this.buckets[i] = this.buckets[j];
        i = j;
      }
    }
    this.buckets[i] = EMPTY;
    this.cols.col.serial[slot] = 0;
    this.freeSlots[this.freeCount++] = slot;
    this.size--;
    if (this.cap > 4096 && this.size * 3 < this.cap) this.rebuild(this.cap / 2);
  }

  /** Move the SYNs still held, in arrival order, into `cap` slots (memory follows the flood down). */
  private rebuild(cap: number): void {
    const live: number[] = [];
    for (let slot = this.oldest(); this.queued > 0; ) {
      live.push(slot);
      this.head = (this.head + 1) % this.queueSlot.length;
      this.queued--;
      slot = this.oldest();
    }
    const [cols, bytes] = [this.cols, this.bytes];
    this.cols = new Columns(SLOT_COLUMNS, 0);
    this.bytes = new Uint8Array(0);
    this.cap = this.freeCount = this.size = this.head = 0;
    this.queueSlot = new Int32Array(0);
    this.queueSerial = new Float64Array(0);
    this.grow(cap);
    for (const from of live) {
      const slot = this.freeSlots[--this.freeCount];
      this.cols.copyRow(cols, from, slot);
      this.bytes.set(bytes.subarray(from * SLOT, from * SLOT + cols.col.len[from]), slot * SLOT);
      this.place(slot);
    }
  }

  private enqueue(slot: number, serial: number): void {
    let ring = this.queueSlot.length;
    if (this.queued === ring) {
      // Full: drop stale entries, or double.
      const live: number[] = [];
      for (let k = 0, i = this.head; k < this.queued; k++, i = (i + 1) % ring) {
        if (this.cols.col.serial[this.queueSlot[i]] === this.queueSerial[i]) live.push(i);
      }
      const size = live.length * 2 >= ring ? ring * 2 : ring;
      const slots = new Int32Array(size);
      const serials = new Float64Array(size);
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
    const at = (this.head + this.queued) % ring;
    this.queueSlot[at] = slot;
    this.queueSerial[at] = serial;
    this.queued++;
  }

  private matches(slot: number, p: DecodedPacket): boolean {
    const b = this.bytes;
    const base = slot * SLOT;
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

  /** Room for `cap` slots (the held SYNs keep theirs). */
  private grow(cap: number): void {
    const old = this.cap;
    this.cols.resize(cap);
    const bytes = new Uint8Array(cap * SLOT);
    bytes.set(this.bytes);
    this.bytes = bytes;
    const free = new Int32Array(cap);
    free.set(this.freeSlots.subarray(0, this.freeCount));
    // New slots are taken lowest first.
    for (let s = cap - 1; s >= old; s--) free[this.freeCount++] = s;
    this.freeSlots = free;
    this.cap = cap;
    // Buckets at twice the slots: probes stay short.
    this.buckets = new Int32Array(cap * 2).fill(EMPTY);
    this.mask = cap * 2 - 1;
    const { serial, hash } = this.cols.col;
    for (let slot = 0; slot < old; slot++) {
      if (serial[slot] === 0) continue;
      let i = hash[slot] & this.mask;
      while (this.buckets[i] !== EMPTY) i = (i + 1) & this.mask;
      this.buckets[i] = slot;
    }
    if (this.queueSlot.length === 0) {
      this.queueSlot = new Int32Array(cap);
      this.queueSerial = new Float64Array(cap);
    }
  }
}

function same(a: Uint8Array, ao: number, b: Uint8Array, bo: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[ao + i] !== b[bo + i]) return false;
  return true;
}

/** One 32-bit hash of the two endpoints, the same whichever way the packet goes. */
function pairHash(p: DecodedPacket): number {
  const n = p.ipVersion === 4 ? 4 : 16;
  const a = endpointHash(p.buf, p.srcOff, n, p.srcPort);
  const z = endpointHash(p.buf, p.dstOff, n, p.dstPort);
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
