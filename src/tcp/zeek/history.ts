/**
 * Zeek's connection history: the letters, the "already seen" bitmask behind the
 * once-per-direction letters, and the log-scaled counters behind C/G/T/W (a
 * letter at the 1st, 10th, 100th... event).
 *
 * The letters of a connection are bytes (their character codes), four to a word:
 * the first 16 in its own columns (indexed by the session's slot, session.ts), the
 * rest (rare: a letter repeats only at a new sequence number, or log-scaled) in
 * 16-letter records of a pool, chained from the slot. The text is made only when the connection is logged.
 */
import { ColumnSet } from '../../conn/columns.js';
import { NONE, Pool } from '../../conn/pool.js';

/** Bits of the seen-mask, per letter; a responder's bits are shifted left by 16. */
export const HistBit = {
  SYN: 0x1,
  FIN: 0x2,
  RST: 0x4,
  FIN_RST: 0x8,
  DATA: 0x10,
  ACK: 0x20,
  MULTI_FLAG: 0x40,
} as const;

const HISTORY_COLUMNS = {
  /** Letters so far. */
  length: Uint32Array,
  seen: Uint32Array,
  w0: Uint32Array,
  w1: Uint32Array,
  w2: Uint32Array,
  w3: Uint32Array,
  /** Records of letters 16 and on (NONE for none). */
  more: Int32Array,
};

const INLINE = 16;
/** Texts `text` keeps (a capture made to show every history there is makes the rest each time). */
const MAX_TEXTS = 4096;
const LOWER = 0x20;
export const CARET = 0x5e;

export class HistoryStore {
  private readonly cols: ColumnSet<typeof HISTORY_COLUMNS>;
  private readonly pool = new Pool({ w0: Uint32Array, w1: Uint32Array, w2: Uint32Array, w3: Uint32Array }, 64);
  /**
   * Texts of up to 8 letters made so far, by their two words (a few distinct ones in a capture):
   * a connection's text is then found, not built, and is the same string as its like's.
   */
  private readonly texts = new Map<number, Map<number, string>>();
  private textCount = 0;

  /** Indexed by the session's slot (session.ts): room made with `ensure`. */
  constructor() {
    this.cols = new ColumnSet(HISTORY_COLUMNS, 64);
  }

  /** Room for slots 0..slots-1. */
  ensure(slots: number): void {
    this.cols.ensure(slots);
  }

  /** Records in the overflow pool (letters beyond the 16th). */
  get overflowRecords(): number {
    return this.pool.size;
  }

  /** An empty history for a new connection on `slot` (whatever the slot held was released, or never was: not a list). */
  reset(slot: number): void {
    const h = this.cols.c;
    h.more[slot] = NONE;
    h.length[slot] = h.seen[slot] = h.w0[slot] = h.w1[slot] = h.w2[slot] = h.w3[slot] = 0;
  }

  /** Give back what the slot's history holds (its connection is gone). */
  release(slot: number): void {
    const h = this.cols.c;
    h.more[slot] = this.pool.releaseList(h.more[slot]);
    h.length[slot] = 0;
  }

  /** Append one letter (its character code). */
  add(slot: number, code: number): void {
    const h = this.cols.c;
    const i = h.length[slot]++;
    if (i < INLINE) {
      const shift = 8 * (i & 3);
      const w = i >> 2;
      if (w === 0) h.w0[slot] |= code << shift;
      else if (w === 1) h.w1[slot] |= code << shift;
      else if (w === 2) h.w2[slot] |= code << shift;
      else h.w3[slot] |= code << shift;
      return;
    }
    // Find (or make) the record holding letter i.
    let k = (i - INLINE) >> 4;
    let r = h.more[slot];
    if (r === NONE) r = h.more[slot] = this.pool.alloc();
    for (; k > 0; k--) {
      let next = this.pool.next[r];
      if (next === NONE) {
        next = this.pool.alloc();
        this.pool.next[r] = next;
      }
      r = next;
    }
    const j = (i - INLINE) & 15;
    const p = this.pool.c;
    const shift = 8 * (j & 3);
    const w = j >> 2;
    if (w === 0) p.w0[r] |= code << shift;
    else if (w === 1) p.w1[r] |= code << shift;
    else if (w === 2) p.w2[r] |= code << shift;
    else p.w3[r] |= code << shift;
  }

  /**
   * Zeek's CheckHistory: true when the letter was already seen, else records it and returns
   * false. A responder's letter (`resp`) is lower case and uses the upper mask bits.
   */
  check(slot: number, mask: number, code: number, resp: boolean): boolean {
    const m = resp ? mask << 16 : mask;
    const h = this.cols.c;
    if ((h.seen[slot] & m) !== 0) return true;
    h.seen[slot] |= m;
    this.add(slot, resp ? code | LOWER : code);
    return false;
  }

  /** Append a letter, lower case for the responder. */
  addSide(slot: number, code: number, resp: boolean): void {
    this.add(slot, resp ? code | LOWER : code);
  }

  /** The history is exactly `code` (one letter). */
  is(slot: number, code: number): boolean {
    return this.cols.c.length[slot] === 1 && (this.cols.c.w0[slot] & 0xff) === code;
  }

  /** Used by the SYN-ACK-first flip: the letters become `a` then `b`; the seen-mask does not change. */
  replace2(slot: number, a: number, b: number): void {
    const h = this.cols.c;
    h.more[slot] = this.pool.releaseList(h.more[slot]);
    h.length[slot] = 2;
    h.w0[slot] = a | (b << 8);
    h.w1[slot] = h.w2[slot] = h.w3[slot] = 0;
  }

  /** The letters as text: for the edge (the conn.log row), never per packet. */
  text(slot: number): string {
    const h = this.cols.c;
    const n = h.length[slot];
    if (n > 8) return this.build(slot);
    // Unused letters are 0: the two words name the text.
    const w0 = h.w0[slot];
    let byW1 = this.texts.get(w0);
    if (byW1 === undefined) {
      if (this.textCount >= MAX_TEXTS) return this.build(slot);
      this.texts.set(w0, (byW1 = new Map()));
    }
    let s = byW1.get(h.w1[slot]);
    if (s === undefined) {
      s = this.build(slot);
      if (this.textCount < MAX_TEXTS) {
        byW1.set(h.w1[slot], s);
        this.textCount++;
      }
    }
    return s;
  }

  private build(slot: number): string {
    const h = this.cols.c;
    const n = h.length[slot];
    let s = '';
    for (let i = 0; i < n && i < INLINE; i++) {
      const w = i >> 2;
      const word = w === 0 ? h.w0[slot] : w === 1 ? h.w1[slot] : w === 2 ? h.w2[slot] : h.w3[slot];
      s += String.fromCharCode((word >>> (8 * (i & 3))) & 0xff);
    }
    const p = this.pool.c;
    for (let r = h.more[slot], i = INLINE; r !== NONE && i < n; r = this.pool.next[r]) {
      for (let j = 0; j < 16 && i < n; j++, i++) {
        const w = j >> 2;
        const word = w === 0 ? p.w0[r] : w === 1 ? p.w1[r] : w === 2 ? p.w2[r] : p.w3[r];
        s += String.fromCharCode((word >>> (8 * (j & 3))) & 0xff);
      }
    }
    return s;
  }
}

/**
 * One log-scaled history counter (ScaledHistoryEntry with base 10) in two columns: counts one
 * event; true when this event reaches the next power of ten (a letter is due).
 */
export function bumpScaled(count: Uint32Array, next: Uint32Array, i: number): boolean {
  const c = ++count[i];
  const threshold = next[i];
  if (c !== threshold) return false;
  const after = (threshold * 10) % 0x100000000;
  if (after <= threshold) count[i] = 0;
  else next[i] = after;
  return true;
}
