/**
 * Zeek's timer manager in packet time: timers due at or before the current
 * network time fire before the packet is processed, at most `maxPerPacket`
 * of them per packet (Zeek's max_timer_expires), earliest first.
 */

export interface ZeekTimer {
  readonly due: number;
  readonly fire: (now: number) => void;
  canceled: boolean;
}

interface Entry extends ZeekTimer {
  order: number;
  queued: boolean;
}

export class TimerQueue {
  private heap: Entry[] = [];
  private added = 0;
  private canceledInHeap = 0;

  get size(): number {
    return this.heap.length;
  }

  add(due: number, fire: (now: number) => void): ZeekTimer {
    const e: Entry = { due, fire, canceled: false, order: this.added++, queued: true };
    this.heap.push(e);
    this.up(this.heap.length - 1);
    return e;
  }

  /** Cancels a timer; the heap is compacted when canceled timers dominate it (memory follows live timers). */
  cancel(t: ZeekTimer): void {
    if (t.canceled) return;
    t.canceled = true;
    if (!(t as Entry).queued) return;
    if (++this.canceledInHeap > 1024 && this.canceledInHeap * 2 > this.heap.length) this.compact();
  }

  private compact(): void {
    const live = this.heap.filter((e) => !e.canceled);
    this.heap = [];
    this.canceledInHeap = 0;
    for (const e of live) {
      this.heap.push(e);
      this.up(this.heap.length - 1);
    }
  }

  /** Fires the timers due at `now` (canceled ones are dropped without counting). */
  advance(now: number, maxPerPacket: number): void {
    let fired = 0;
    while (this.heap.length > 0 && this.heap[0].due <= now) {
      if (maxPerPacket > 0 && fired >= maxPerPacket) return;
      const e = this.pop();
      if (e.canceled) {
        this.canceledInHeap--;
        continue;
      }
      fired++;
      e.fire(now);
    }
  }

  private pop(): Entry {
    const top = this.heap[0];
    top.queued = false;
    const last = this.heap.pop()!;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.down(0);
    }
    return top;
  }

  private less(a: Entry, b: Entry): boolean {
    return a.due < b.due || (a.due === b.due && a.order < b.order);
  }

  private up(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(h[i], h[parent])) break;
      [h[i], h[parent]] = [h[parent], h[i]];
      i = parent;
    }
  }

  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l], h[m])) m = l;
      if (r < h.length && this.less(h[r], h[m])) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m], h[i]];
      i = m;
    }
  }
}
