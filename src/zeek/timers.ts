/**
 * Zeek's timer manager in packet time: timers due at or before the current
 * network time fire before the packet is processed, at most `maxPerPacket`
 * of them per packet (Zeek's max_timer_expires), earliest first; timers due at
 * the same instant fire in the order they were set.
 *
 * A timer is an entry (due, order, row, session serial, kind, epoch) in a
 * binary min-heap of typed arrays, ordered by (due, order): no object or
 * closure per timer. Timers are never taken out when canceled: the session
 * decides, when one comes to the top, whether it still stands (the row still
 * holds the session of that serial, the kind's timers were not canceled since;
 * session.ts `stands`). The caller counts the canceled entries left in the
 * heap (`stale`) and the heap is rebuilt without them when they dominate it,
 * so memory follows the live timers.
 */

/**
 * Placeholders kept outside the heap, earliest first: due times and orders never
 * decrease along the lane.
 */
export interface PlaceholderLane {
  /** Due time of the next placeholder; Infinity when there is none. */
  nextDue(): number;
  /** Order of the next placeholder (ties of due time go by order). */
  nextOrder(): number;
  /** Bring the next placeholder's connection in: it leaves the lane. */
  fireNext(): void;
}

export class ZeekTimerHeap {
  private due = new Float64Array(1024);
  private order = new Float64Array(1024);
  private row = new Int32Array(1024);
  private serial = new Uint32Array(1024);
  private epoch = new Uint32Array(1024);
  private kind = new Uint8Array(1024);
  private n = 0;
  private added = 0;
  /** While set, push() hands out these reserved orders first. */
  private forcedOrder = 0;
  private forcedEnd = 0;

  /** Canceled entries still in the heap (kept by the caller, see `compact`). */
  stale = 0;

  get size(): number {
    return this.n;
  }

  /** Timer orders handed out or reserved so far. */
  get orders(): number {
    return this.added;
  }

  /** Reserve `n` timer orders (ties between equal due times go by order). */
  reserve(n: number): number {
    const first = this.added;
    this.added += n;
    return first;
  }

  /** Until unforce(), timers pushed take the reserved orders first..first+n-1. */
  force(first: number, n: number): void {
    this.forcedOrder = first;
    this.forcedEnd = first + n;
  }

  unforce(): void {
    this.forcedOrder = this.forcedEnd = 0;
  }

  /** Set a timer; returns its order (unique: it names the timer). */
  push(due: number, row: number, serial: number, kind: number, epoch: number): number {
    const order = this.forcedOrder < this.forcedEnd ? this.forcedOrder++ : this.added++;
    this.insert(due, order, row, serial, kind, epoch);
    return order;
  }

  /** The earliest due time (Infinity when empty). */
  peek(): number {
    return this.n === 0 ? Infinity : this.due[0];
  }

  /** Of the entry at the top (valid until the next push or pop). */
  topOrder(): number {
    return this.order[0];
  }
  topRow(): number {
    return this.row[0];
  }
  topSerial(): number {
    return this.serial[0];
  }
  topKind(): number {
    return this.kind[0];
  }
  topEpoch(): number {
    return this.epoch[0];
  }

  /** Take the top entry out (read it first with peek and the top* getters). */
  pop(): void {
    const last = --this.n;
    if (last === 0) return;
    const due = this.due[last];
    const order = this.order[last];
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= last) break;
      const r = c + 1;
      if (r < last && before(this.due[r], this.order[r], this.due[c], this.order[c])) c = r;
      if (before(due, order, this.due[c], this.order[c])) break;
      this.move(c, i);
      i = c;
    }
    this.move(last, i);
  }

  /** Rebuild the heap with only the entries `stands` keeps (when stale ones dominate it). */
  compact(stands: (row: number, serial: number, kind: number, epoch: number, order: number) => boolean): void {
    let kept = 0;
    for (let i = 0; i < this.n; i++) {
      if (!stands(this.row[i], this.serial[i], this.kind[i], this.epoch[i], this.order[i])) continue;
      this.move(i, kept++);
    }
    this.n = kept;
    // Heapify bottom-up: (due, order) is a total order, so the firing order is as before.
    for (let i = (kept >> 1) - 1; i >= 0; i--) this.siftDown(i);
    this.stale = 0;
  }

  private siftDown(i: number): void {
    const due = this.due[i];
    const order = this.order[i];
    const row = this.row[i];
    const serial = this.serial[i];
    const kind = this.kind[i];
    const epoch = this.epoch[i];
    for (;;) {
      let c = 2 * i + 1;
      if (c >= this.n) break;
      const r = c + 1;
      if (r < this.n && before(this.due[r], this.order[r], this.due[c], this.order[c])) c = r;
      if (before(due, order, this.due[c], this.order[c])) break;
      this.move(c, i);
      i = c;
    }
    this.set(i, due, order, row, serial, kind, epoch);
  }

  private insert(due: number, order: number, row: number, serial: number, kind: number, epoch: number): void {
    if (this.n === this.due.length) this.grow();
    let i = this.n++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (before(this.due[parent], this.order[parent], due, order)) break;
      this.move(parent, i);
      i = parent;
    }
    this.set(i, due, order, row, serial, kind, epoch);
  }

  private set(i: number, due: number, order: number, row: number, serial: number, kind: number, epoch: number): void {
    this.due[i] = due;
    this.order[i] = order;
    this.row[i] = row;
    this.serial[i] = serial;
    this.kind[i] = kind;
    this.epoch[i] = epoch;
  }

  private move(from: number, to: number): void {
    this.set(to, this.due[from], this.order[from], this.row[from], this.serial[from], this.kind[from], this.epoch[from]);
  }

  private grow(): void {
    const cap = this.due.length * 2;
    this.due = grown(this.due, new Float64Array(cap));
    this.order = grown(this.order, new Float64Array(cap));
    this.row = grown(this.row, new Int32Array(cap));
    this.serial = grown(this.serial, new Uint32Array(cap));
    this.epoch = grown(this.epoch, new Uint32Array(cap));
    this.kind = grown(this.kind, new Uint8Array(cap));
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
