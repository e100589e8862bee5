/**
 * Zeek's timer manager in packet time: timers due at or before the current
 * network time fire before the packet is processed, at most `maxPerPacket`
 * of them per packet (Zeek's max_timer_expires), earliest first.
 */

export interface ZeekTimer {
  readonly due: number;
  fire: (now: number) => void;
  canceled: boolean;
}

/**
 * Placeholders kept outside the queue, earliest first: due times and orders never
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

interface Entry extends ZeekTimer {
  order: number;
  queued: boolean;
}

const NOOP = (): void => undefined;

export class TimerQueue {
  private heap: Entry[] = [];
  private added = 0;
  private canceledInHeap = 0;

  get size(): number {
    return this.heap.length;
  }

  /**
   * Timers of connections kept outside the tracker (lone SYNs held compactly): a
   * lane of placeholders, one each, in order of due time, standing for the first
   * timer the connection would have. When one comes due, the lane brings its
   * connection in, with the timer orders reserved for it, and its real timers fire
   * in its place.
   */
  lane: PlaceholderLane | null = null;
  /** While set, add() hands out these reserved orders first. */
  private forcedOrder = 0;
  private forcedEnd = 0;

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

  /** Run `fn` with timers added taking the reserved orders first..first+n-1. */
  withOrders(first: number, n: number, fn: () => void): void {
    const [order, end] = [this.forcedOrder, this.forcedEnd];
    this.forcedOrder = first;
    this.forcedEnd = first + n;
    try {
      fn();
    } finally {
      this.forcedOrder = order;
      this.forcedEnd = end;
    }
  }

  add(due: number, fire: (now: number) => void): ZeekTimer {
    const order = this.forcedOrder < this.forcedEnd ? this.forcedOrder++ : this.added++;
    const e: Entry = { due, fire, canceled: false, order, queued: true };
    this.insert(e);
    return e;
  }

  /** Cancels a timer; the heap is compacted when canceled timers dominate it (memory follows live timers). */
  cancel(t: ZeekTimer): void {
    if (t.canceled) return;
    t.canceled = true;
    // Waiting in the heap, it must not keep its connection alive.
    t.fire = NOOP;
    if (!(t as Entry).queued) return;
    if (++this.canceledInHeap > 1024 && this.canceledInHeap * 2 > this.heap.length) this.compact();
  }

  private compact(): void {
    const live = this.heap.filter((e) => !e.canceled);
    this.heap = [];
    this.canceledInHeap = 0;
    for (const e of live) this.insert(e);
  }

  /** Fires the timers due at `now` (canceled ones are dropped without counting). */
  advance(now: number, maxPerPacket: number): void {
    let fired = 0;
    const lane = this.lane;
    for (;;) {
      const laneAt = lane === null ? Infinity : lane.nextDue();
      const laneDue = laneAt <= now;
      const heapDue = this.heap.length > 0 && this.dues[0] <= now;
      if (!laneDue && !heapDue) return;
      if (maxPerPacket > 0 && fired >= maxPerPacket) return;
      if (laneDue && (!heapDue || laneAt < this.dues[0] || (laneAt === this.dues[0] && lane!.nextOrder() < this.orderKeys[0]))) {
        lane!.fireNext();
        continue;
      }
      const e = this.pop();
      if (e.canceled) {
        this.canceledInHeap--;
        continue;
      }
      fired++;
      e.fire(now);
    }
  }

  // The heap orders by (due, order), a total order (orders are unique); each entry's two keys are
  // also kept in typed arrays beside it, so that sifting compares numbers without visiting entries.
  private dues = new Float64Array(1024);
  private orderKeys = new Float64Array(1024);

  private insert(e: Entry): void {
    let i = this.heap.length;
    if (i === this.dues.length) {
      this.dues = grown(this.dues);
      this.orderKeys = grown(this.orderKeys);
    }
    const { dues, orderKeys } = this;
    this.heap.push(e);
    const due = e.due;
    const order = e.order;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (dues[parent] < due || (dues[parent] === due && orderKeys[parent] < order)) break;
      this.move(parent, i);
      i = parent;
    }
    this.put(i, e, due, order);
  }

  private pop(): Entry {
    const { heap, dues, orderKeys } = this;
    const top = heap[0];
    top.queued = false;
    const last = heap.pop()!;
    const n = heap.length;
    if (n === 0) return top;
    const due = dues[n];
    const order = orderKeys[n];
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      const r = c + 1;
      if (r < n && (dues[r] < dues[c] || (dues[r] === dues[c] && orderKeys[r] < orderKeys[c]))) c = r;
      if (due < dues[c] || (due === dues[c] && order < orderKeys[c])) break;
      this.move(c, i);
      i = c;
    }
    this.put(i, last, due, order);
    return top;
  }

  private put(i: number, e: Entry, due: number, order: number): void {
    this.heap[i] = e;
    this.dues[i] = due;
    this.orderKeys[i] = order;
  }

  private move(from: number, to: number): void {
    this.put(to, this.heap[from], this.dues[from], this.orderKeys[from]);
  }
}

function grown(a: Float64Array): Float64Array<ArrayBuffer> {
  const b = new Float64Array(a.length * 2);
  b.set(a);
  return b;
}
