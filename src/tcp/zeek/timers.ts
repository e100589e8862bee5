/**
 * Zeek's timer manager in packet time: timers due at or before the current
 * network time fire before the packet is processed, at most `maxPerPacket`
 * of them per packet (Zeek's max_timer_expires), earliest first; timers due at
 * the same instant fire in the order they were set.
 *
 * A timer is an entry (due, order, row, session serial, kind, epoch) in a
 * binary min-heap of typed arrays, ordered by (due, order): no object or
 * closure per timer. The heap holds the keys and a slot; the rest lives in
 * the slot, reused through a free list. Timers are never taken out when canceled: the session
 * decides, when one comes to the top, whether it still stands (the row still
 * holds the session of that serial, the kind's timers were not canceled since;
 * session.ts `stands`). The caller counts the canceled entries left in the
 * heap (`stale`) and the heap is rebuilt without them when they dominate it,
 * so memory follows the live timers.
 */

export class ZeekTimerHeap {
  // The heap proper: each place holds the entry's sort keys and the slot of its payload, so
  // that sifting moves three numbers, not six.
  private due = new Float64Array(1024);
  private order = new Float64Array(1024);
  private slot = new Int32Array(1024);
  private n = 0;
  // Payloads by slot (slots are reused through a free list).
  private row = new Int32Array(1024);
  private serial = new Uint32Array(1024);
  private epoch = new Uint32Array(1024);
  private kind = new Uint8Array(1024);
  private nextFree = new Int32Array(1024);
  private free = -1;
  private slots = 0;
  private added = 0;

  /** Canceled entries still in the heap (kept by the caller, see `compact`). */
  stale = 0;

  get size(): number {
    return this.n;
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
    if (this.n === this.due.length) this.growHeap();
    this.siftUp(this.n++, due, order, s);
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
    return this.row[this.slot[0]];
  }
  topSerial(): number {
    return this.serial[this.slot[0]];
  }
  topKind(): number {
    return this.kind[this.slot[0]];
  }
  topEpoch(): number {
    return this.epoch[this.slot[0]];
  }

  /** Take the top entry out (read it first with peek and the top* getters). */
  pop(): void {
    const s = this.slot[0];
    this.nextFree[s] = this.free;
    this.free = s;
    const last = --this.n;
    if (last > 0) this.siftDown(0, this.due[last], this.order[last], this.slot[last]);
  }

  /** Rebuild the heap with only the entries `stands` keeps (when stale ones dominate it). */
  compact(stands: (row: number, serial: number, kind: number, epoch: number, order: number) => boolean): void {
    let kept = 0;
    for (let i = 0; i < this.n; i++) {
      const s = this.slot[i];
      if (!stands(this.row[s], this.serial[s], this.kind[s], this.epoch[s], this.order[i])) {
        this.nextFree[s] = this.free;
        this.free = s;
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
    this.stale = 0;
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
