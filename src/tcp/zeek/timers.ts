/**
 * Zeek's timer manager in packet time: timers due at or before the current
 * network time fire before the packet is processed, at most `maxPerPacket`
 * of them per packet (Zeek's max_timer_expires), earliest first; timers due at
 * the same instant fire in the order they were set.
 *
 * A timer is an entry (due, order, row, session serial, kind, epoch), ordered by
 * (due, order): no object or closure per timer. The keys and a slot are queued; the
 * rest lives in the slot, reused through a free list. Timers are never taken out when
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

/** Entries in nondecreasing (due, order), taken from the head: a ring of typed arrays. */
class Run {
  due = new Float64Array(256);
  order = new Float64Array(256);
  slot = new Int32Array(256);
  head = 0;
  length = 0;
  /** The due time of the last entry (valid when length > 0). */
  last = 0;

  append(due: number, order: number, slot: number): void {
    if (this.length === this.due.length) this.grow();
    const i = (this.head + this.length++) & (this.due.length - 1);
    this.due[i] = due;
    this.order[i] = order;
    this.slot[i] = slot;
    this.last = due;
  }

  shift(): void {
    this.head = (this.head + 1) & (this.due.length - 1);
    this.length--;
  }

  /** Keep the entries whose slot `keep` accepts, in their order; the others' slots go to `drop`. */
  filter(keep: (slot: number, order: number) => boolean, drop: (slot: number) => void): void {
    const mask = this.due.length - 1;
    let kept = 0;
    for (let k = 0; k < this.length; k++) {
      const i = (this.head + k) & mask;
      if (!keep(this.slot[i], this.order[i])) {
        drop(this.slot[i]);
        continue;
      }
      const j = (this.head + kept++) & mask;
      this.due[j] = this.due[i];
      this.order[j] = this.order[i];
      this.slot[j] = this.slot[i];
      this.last = this.due[i];
    }
    this.length = kept;
  }

  private grow(): void {
    const cap = 2 * this.due.length;
    const mask = this.due.length - 1;
    const due = new Float64Array(cap);
    const order = new Float64Array(cap);
    const slot = new Int32Array(cap);
    for (let k = 0; k < this.length; k++) {
      const i = (this.head + k) & mask;
      due[k] = this.due[i];
      order[k] = this.order[i];
      slot[k] = this.slot[i];
    }
    this.due = due;
    this.order = order;
    this.slot = slot;
    this.head = 0;
  }
}

export class ZeekTimerHeap {
  // The heap proper: each place holds the entry's sort keys and the slot of its payload, so
  // that sifting moves three numbers, not six.
  private due = new Float64Array(1024);
  private order = new Float64Array(1024);
  private slot = new Int32Array(1024);
  private n = 0;
  private readonly runs: Run[] = [];
  /** Entries queued, in the heap and the runs. */
  private count = 0;
  // The earliest entry: where it is, its keys and its slot.
  private topAt = NOWHERE;
  private topDue = Infinity;
  private topOrd = 0;
  private topSlot = 0;
  // Payloads by slot (slots are reused through a free list).
  private row = new Int32Array(1024);
  private serial = new Uint32Array(1024);
  private epoch = new Uint32Array(1024);
  private kind = new Uint8Array(1024);
  private nextFree = new Int32Array(1024);
  private free = -1;
  private slots = 0;
  private added = 0;

  /** Canceled entries still queued (kept by the caller, see `compact`). */
  stale = 0;

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
    let s = this.free;
    if (s >= 0) this.free = this.nextFree[s];
    else {
      s = this.slots++;
      if (s === this.row.length) this.growSlots();
    }
    this.row[s] = row;
    this.serial[s] = serial;
    this.kind[s] = kind;
    this.epoch[s] = epoch;
    this.count++;
    // The run whose last entry is the latest not after this one (a timer of the same delay, as a
    // rule), else an empty run; else the heap.
    let fit = -1;
    let empty = -1;
    for (let r = 0; r < RUNS; r++) {
      const run = this.runs[r];
      if (run.length === 0) {
        if (empty < 0) empty = r;
      } else if (run.last <= due && (fit < 0 || run.last > this.runs[fit].last)) fit = r;
    }
    if (fit < 0) fit = empty;
    let at: number;
    if (fit >= 0) {
      this.runs[fit].append(due, order, s);
      at = fit;
    } else {
      if (this.n === this.due.length) this.growHeap();
      this.siftUp(this.n++, due, order, s);
      at = IN_HEAP;
    }
    // Only an entry at the head of its run or the top of the heap can be before the earliest.
    if (this.topAt === NOWHERE || before(due, order, this.topDue, this.topOrd)) this.setTop(at, due, order, s);
    return order;
  }

  /** The earliest due time (Infinity when empty). */
  peek(): number {
    return this.topDue;
  }

  /** Of the earliest entry (valid until the next push or pop). */
  topOrder(): number {
    return this.topOrd;
  }
  topRow(): number {
    return this.row[this.topSlot];
  }
  topSerial(): number {
    return this.serial[this.topSlot];
  }
  topKind(): number {
    return this.kind[this.topSlot];
  }
  topEpoch(): number {
    return this.epoch[this.topSlot];
  }

  /** Take the earliest entry out (read it first with peek and the top* getters). */
  pop(): void {
    if (this.topAt === NOWHERE) return;
    this.release(this.topSlot);
    this.count--;
    if (this.topAt === IN_HEAP) {
      const last = --this.n;
      if (last > 0) this.siftDown(0, this.due[last], this.order[last], this.slot[last]);
    } else this.runs[this.topAt].shift();
    this.findTop();
  }

  /** Rebuild the queue with only the entries `stands` keeps (when stale ones dominate it). */
  compact(stands: (row: number, serial: number, kind: number, epoch: number, order: number) => boolean): void {
    const keep = (s: number, order: number) => stands(this.row[s], this.serial[s], this.kind[s], this.epoch[s], order);
    const drop = (s: number) => this.release(s);
    let kept = 0;
    for (let i = 0; i < this.n; i++) {
      const s = this.slot[i];
      if (!keep(s, this.order[i])) {
        drop(s);
        continue;
      }
      this.due[kept] = this.due[i];
      this.order[kept] = this.order[i];
      this.slot[kept] = s;
      kept++;
    }
    this.n = kept;
    // Heapify bottom-up: (due, order) is a total order, so the firing order is as before.
    for (let i = (kept >> 1) - 1; i >= 0; i--) this.siftDown(i, this.due[i], this.order[i], this.slot[i]);
    let count = kept;
    for (const run of this.runs) {
      run.filter(keep, drop);
      count += run.length;
    }
    this.count = count;
    this.stale = 0;
    this.findTop();
  }

  private release(s: number): void {
    this.nextFree[s] = this.free;
    this.free = s;
  }

  private setTop(at: number, due: number, order: number, s: number): void {
    this.topAt = at;
    this.topDue = due;
    this.topOrd = order;
    this.topSlot = s;
  }

  /** The earliest of the heap's top and the runs' heads. */
  private findTop(): void {
    this.setTop(NOWHERE, Infinity, 0, 0);
    if (this.n > 0) this.setTop(IN_HEAP, this.due[0], this.order[0], this.slot[0]);
    for (let r = 0; r < RUNS; r++) {
      const run = this.runs[r];
      if (run.length === 0) continue;
      const h = run.head;
      if (this.topAt === NOWHERE || before(run.due[h], run.order[h], this.topDue, this.topOrd)) this.setTop(r, run.due[h], run.order[h], run.slot[h]);
    }
  }

  /** Place (due, order, slot) at `i` or above. */
  private siftUp(i: number, due: number, order: number, s: number): void {
    const dues = this.due;
    const orders = this.order;
    const slots = this.slot;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pd = dues[parent];
      if (pd < due || (pd === due && orders[parent] < order)) break;
      dues[i] = pd;
      orders[i] = orders[parent];
      slots[i] = slots[parent];
      i = parent;
    }
    dues[i] = due;
    orders[i] = order;
    slots[i] = s;
  }

  /** Place (due, order, slot) at `i` or below. */
  private siftDown(i: number, due: number, order: number, s: number): void {
    const dues = this.due;
    const orders = this.order;
    const slots = this.slot;
    const n = this.n;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      const r = c + 1;
      if (r < n && before(dues[r], orders[r], dues[c], orders[c])) c = r;
      if (before(due, order, dues[c], orders[c])) break;
      dues[i] = dues[c];
      orders[i] = orders[c];
      slots[i] = slots[c];
      i = c;
    }
    dues[i] = due;
    orders[i] = order;
    slots[i] = s;
  }

  private growHeap(): void {
    const cap = this.due.length * 2;
    this.due = grown(this.due, new Float64Array(cap));
    this.order = grown(this.order, new Float64Array(cap));
    this.slot = grown(this.slot, new Int32Array(cap));
  }

  private growSlots(): void {
    const cap = this.row.length * 2;
    this.row = grown(this.row, new Int32Array(cap));
    this.serial = grown(this.serial, new Uint32Array(cap));
    this.epoch = grown(this.epoch, new Uint32Array(cap));
    this.kind = grown(this.kind, new Uint8Array(cap));
    this.nextFree = grown(this.nextFree, new Int32Array(cap));
  }
}

/** (due, order) comes strictly before (due2, order2); orders are unique, so never equal. */
function before(due: number, order: number, due2: number, order2: number): boolean {
  return due < due2 || (due === due2 && order < order2);
}

function grown<T extends Float64Array | Int32Array | Uint32Array | Uint8Array>(a: T, b: T): T {
  b.set(a as never);
  return b;
}
