/**
 * Zeek's timer manager in packet time: timers due at or before the current
 * network time fire before the packet is processed, at most `maxPerPacket`
 * of them per packet (Zeek's max_timer_expires), earliest first; timers due at
 * the same instant fire in the order they were set.
 *
 * A timer is an entry (due, order, row, session serial, kind, epoch) in typed arrays,
 * ordered by (due, order): no object or closure per timer. Timers are never taken out when
 * canceled: the session decides, when one comes to the top, whether it still stands
 * (the row still holds the session of that serial, the kind's timers were not canceled
 * since; session.ts `stands`). The caller counts the canceled entries left queued
 * (`stale`) and the queue is rebuilt without them when they dominate it, so memory
 * follows the live timers.
 *
 * Most timers are set at "now (or the connection's last packet) + a fixed delay", so
 * the timers of one delay are set in order of their due times. Such entries go to a
 * few runs, first-in first-out lists each in nondecreasing (due, order); only an entry
 * that fits no run goes to a binary min-heap. The earliest entry is the earliest of the
 * heap's top and the runs' heads. A pop from a run costs nothing; a pop from a heap of
 * hundreds of thousands of long timers (a SYN flood's inactivity timers) walks its
 * whole depth through memory that is not in cache.
 */

/** Runs kept: more than the distinct delays Zeek's timers use. */
const RUNS = 8;
/** Where the earliest entry is: the heap, a run (0..RUNS-1), or nowhere. */
const IN_HEAP = -1;
const NOWHERE = -2;

/** Entries (every field, so that reading one touches nothing else) by index, in arrays that grow. */
class Entries {
  due: Float64Array;
  order: Float64Array;
  row: Int32Array;
  serial: Uint32Array;
  epoch: Uint32Array;
  kind: Uint8Array;

  constructor(cap: number) {
    this.due = new Float64Array(cap);
    this.order = new Float64Array(cap);
    this.row = new Int32Array(cap);
    this.serial = new Uint32Array(cap);
    this.epoch = new Uint32Array(cap);
    this.kind = new Uint8Array(cap);
  }

  get capacity(): number {
    return this.due.length;
  }

  set(i: number, due: number, order: number, row: number, serial: number, kind: number, epoch: number): void {
    this.due[i] = due;
    this.order[i] = order;
    this.row[i] = row;
    this.serial[i] = serial;
    this.kind[i] = kind;
    this.epoch[i] = epoch;
  }

  /** Entry `from` of `src` into place `to`. */
  copy(to: number, src: Entries, from: number): void {
    this.set(to, src.due[from], src.order[from], src.row[from], src.serial[from], src.kind[from], src.epoch[from]);
  }

  stands(i: number, test: StandsTest): boolean {
    return test(this.row[i], this.serial[i], this.kind[i], this.epoch[i], this.order[i]);
  }
}

type StandsTest = (row: number, serial: number, kind: number, epoch: number, order: number) => boolean;

/** Entries in nondecreasing (due, order), taken from the head: a ring. */
class Run {
  e = new Entries(256);
  head = 0;
  length = 0;
  /** The due time and order of the last entry (valid when length > 0). */
  last = 0;
  lastOrder = 0;

  append(due: number, order: number, row: number, serial: number, kind: number, epoch: number): void {
    if (this.length === this.e.capacity) this.grow();
    this.e.set((this.head + this.length++) & (this.e.capacity - 1), due, order, row, serial, kind, epoch);
    this.last = due;
    this.lastOrder = order;
  }

  shift(): void {
    this.head = (this.head + 1) & (this.e.capacity - 1);
    this.length--;
  }

  /** Keep the entries that `stands` keeps, in their order. */
  filter(stands: StandsTest): void {
    const mask = this.e.capacity - 1;
    let kept = 0;
    for (let k = 0; k < this.length; k++) {
      const i = (this.head + k) & mask;
      if (!this.e.stands(i, stands)) continue;
      this.e.copy((this.head + kept++) & mask, this.e, i);
      this.last = this.e.due[i];
      this.lastOrder = this.e.order[i];
    }
    this.length = kept;
  }

  private grow(): void {
    const mask = this.e.capacity - 1;
    const e = new Entries(2 * this.e.capacity);
    for (let k = 0; k < this.length; k++) e.copy(k, this.e, (this.head + k) & mask);
    this.e = e;
    this.head = 0;
  }
}

export class ZeekTimerHeap {
  /** The heap proper, for entries that fit no run. */
  private heap = new Entries(256);
  private n = 0;
  private readonly runs: Run[] = [];
  /** Entries queued, in the heap and the runs. */
  private count = 0;
  /** Where the earliest entry is, and its place there. */
  private topAt = NOWHERE;
  private top: Entries = this.heap;
  private topIndex = 0;
  private added = 0;

  /** Canceled entries still queued (kept by the caller, see `compact`). */
  stale = 0;
  /**
   * The earliest due time queued since the caller last set it to Infinity (a lower bound the
   * caller keeps with its own; see ZeekConnTracker.fireTimers). An element, so read unboxed.
   */
  readonly queuedLow = new Float64Array([Infinity]);

  constructor() {
    for (let r = 0; r < RUNS; r++) this.runs.push(new Run());
  }

  get size(): number {
    return this.count;
  }

  /** Timer orders handed out so far. */
  get orders(): number {
    return this.added;
  }

  /** Set a timer; returns its order (unique: it names the timer). */
  push(due: number, row: number, serial: number, kind: number, epoch: number): number {
    const order = this.added++;
    this.place(due, order, row, serial, kind, epoch);
    return order;
  }

  /**
   * Orders for `n` timers not queued (yet): a compact lone SYN's (lone-syns.ts) timers take
   * their orders when they would have been set, so that every later timer has the order it
   * would have had. Returns the first.
   */
  reserve(n: number): number {
    const first = this.added;
    this.added += n;
    return first;
  }

  /** Queue a timer whose order was reserved (`reserve`). */
  insert(due: number, order: number, row: number, serial: number, kind: number, epoch: number): void {
    this.place(due, order, row, serial, kind, epoch);
  }

  private place(due: number, order: number, row: number, serial: number, kind: number, epoch: number): void {
    this.count++;
    if (due < this.queuedLow[0]) this.queuedLow[0] = due;
    // The run whose last entry is the latest before this one (a timer of the same delay, as a
    // rule), else an empty run; else the heap.
    let fit = -1;
    let empty = -1;
    for (let r = 0; r < RUNS; r++) {
      const run = this.runs[r];
      if (run.length === 0) {
        if (empty < 0) empty = r;
      } else if (before(run.last, run.lastOrder, due, order) && (fit < 0 || run.last > this.runs[fit].last)) fit = r;
    }
    if (fit < 0) fit = empty;
    const first = this.topAt === NOWHERE || before(due, order, this.top.due[this.topIndex], this.top.order[this.topIndex]);
    const at = fit >= 0 ? fit : IN_HEAP;
    if (fit >= 0) this.runs[fit].append(due, order, row, serial, kind, epoch);
    else {
      if (this.n === this.heap.capacity) this.growHeap();
      this.siftUp(this.n++, due, order, row, serial, kind, epoch);
    }
    // An entry that comes first is at the head of its run (then an empty one) or the top of the heap.
    // Otherwise the earliest stays where it was, though its arrays may have grown (a run's then start at 0).
    if (first || this.topAt === at) {
      if (at === IN_HEAP) this.setTop(IN_HEAP, this.heap, 0);
      else this.setTop(at, this.runs[at].e, this.runs[at].head);
    }
  }

  /** The earliest due time (Infinity when empty). */
  peek(): number {
    return this.topAt === NOWHERE ? Infinity : this.top.due[this.topIndex];
  }

  /** Of the earliest entry (valid until the next push or pop). */
  topOrder(): number {
    return this.top.order[this.topIndex];
  }
  topRow(): number {
    return this.top.row[this.topIndex];
  }
  topSerial(): number {
    return this.top.serial[this.topIndex];
  }
  topKind(): number {
    return this.top.kind[this.topIndex];
  }
  topEpoch(): number {
    return this.top.epoch[this.topIndex];
  }

  /** Take the earliest entry out (read it first with peek and the top* getters). */
  pop(): void {
    if (this.topAt === NOWHERE) return;
    this.count--;
    if (this.topAt === IN_HEAP) {
      const last = --this.n;
      if (last > 0) {
        const h = this.heap;
        this.siftDown(0, h.due[last], h.order[last], h.row[last], h.serial[last], h.kind[last], h.epoch[last]);
      }
    } else this.runs[this.topAt].shift();
    this.findTop();
  }

  /** Rebuild the queue with only the entries `stands` keeps (when stale ones dominate it). */
  compact(stands: StandsTest): void {
    const h = this.heap;
    let kept = 0;
    for (let i = 0; i < this.n; i++) if (h.stands(i, stands)) h.copy(kept++, h, i);
    this.n = kept;
    // Heapify bottom-up: (due, order) is a total order, so the firing order is as before.
    for (let i = (kept >> 1) - 1; i >= 0; i--) this.siftDown(i, h.due[i], h.order[i], h.row[i], h.serial[i], h.kind[i], h.epoch[i]);
    let count = kept;
    for (const run of this.runs) {
      run.filter(stands);
      count += run.length;
    }
    this.count = count;
    this.stale = 0;
    this.findTop();
  }

  private setTop(at: number, entries: Entries, index: number): void {
    this.topAt = at;
    this.top = entries;
    this.topIndex = index;
  }

  /** The earliest of the heap's top and the runs' heads. */
  private findTop(): void {
    this.topAt = NOWHERE;
    if (this.n > 0) this.setTop(IN_HEAP, this.heap, 0);
    for (let r = 0; r < RUNS; r++) {
      const run = this.runs[r];
      if (run.length === 0) continue;
      const e = run.e;
      const i = run.head;
      if (this.topAt === NOWHERE || before(e.due[i], e.order[i], this.top.due[this.topIndex], this.top.order[this.topIndex])) this.setTop(r, e, i);
    }
  }

  /** Place the entry at `i` or above. */
  private siftUp(i: number, due: number, order: number, row: number, serial: number, kind: number, epoch: number): void {
    const h = this.heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (before(h.due[parent], h.order[parent], due, order)) break;
      h.copy(i, h, parent);
      i = parent;
    }
    h.set(i, due, order, row, serial, kind, epoch);
  }

  /** Place the entry at `i` or below. */
  private siftDown(i: number, due: number, order: number, row: number, serial: number, kind: number, epoch: number): void {
    const h = this.heap;
    const n = this.n;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      const r = c + 1;
      if (r < n && before(h.due[r], h.order[r], h.due[c], h.order[c])) c = r;
      if (before(due, order, h.due[c], h.order[c])) break;
      h.copy(i, h, c);
      i = c;
    }
    h.set(i, due, order, row, serial, kind, epoch);
  }

  private growHeap(): void {
    const grown = new Entries(2 * this.heap.capacity);
    for (let i = 0; i < this.n; i++) grown.copy(i, this.heap, i);
    this.heap = grown;
  }
}

/** (due, order) comes strictly before (due2, order2); orders are unique, so never equal. */
function before(due: number, order: number, due2: number, order2: number): boolean {
  return due < due2 || (due === due2 && order < order2);
}
