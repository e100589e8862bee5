/**
 * One timer heap for every analyzer, on packet time: entries (due time, row, the
 * row's generation, a tag saying whose timer it is), a binary min-heap in typed arrays.
 *
 * Entries are never removed: when one comes due the owner checks it still means
 * something (the row's generation is the same, its own due time for that tag is this
 * one) and, when its deadline moved later meanwhile, pushes it again at the new time.
 * So a deadline that moves with every packet costs nothing per packet: an owner pushes
 * only when its deadline becomes earlier than the entry already queued.
 */
export class TimerHeap {
  private due = new Float64Array(1024);
  private row = new Int32Array(1024);
  private gen = new Uint32Array(1024);
  private tag = new Uint8Array(1024);
  private n = 0;

  get size(): number {
    return this.n;
  }

  /** The earliest due time (Infinity when empty). */
  peek(): number {
    return this.n === 0 ? Infinity : this.due[0];
  }

  /** Of the entry at the top (valid until the next push or pop). */
  topRow(): number {
    return this.row[0];
  }
  topGen(): number {
    return this.gen[0];
  }
  topTag(): number {
    return this.tag[0];
  }

  push(due: number, row: number, gen: number, tag: number): void {
    if (this.n === this.due.length) this.grow();
    let i = this.n++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.due[parent] <= due) break;
      this.move(parent, i);
      i = parent;
    }
    this.set(i, due, row, gen, tag);
  }

  /** Take the top entry out (read it first with peek/topRow/topGen/topTag). */
  pop(): void {
    const last = --this.n;
    if (last === 0) return;
    const due = this.due[last];
    const row = this.row[last];
    const gen = this.gen[last];
    const tag = this.tag[last];
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= last) break;
      if (c + 1 < last && this.due[c + 1] < this.due[c]) c++;
      if (this.due[c] >= due) break;
      this.move(c, i);
      i = c;
    }
    this.set(i, due, row, gen, tag);
  }

  private set(i: number, due: number, row: number, gen: number, tag: number): void {
    this.due[i] = due;
    this.row[i] = row;
    this.gen[i] = gen;
    this.tag[i] = tag;
  }

  private move(from: number, to: number): void {
    this.due[to] = this.due[from];
    this.row[to] = this.row[from];
    this.gen[to] = this.gen[from];
    this.tag[to] = this.tag[from];
  }

  private grow(): void {
    const cap = this.due.length * 2;
    const due = new Float64Array(cap);
    due.set(this.due);
    const row = new Int32Array(cap);
    row.set(this.row);
    const gen = new Uint32Array(cap);
    gen.set(this.gen);
    const tag = new Uint8Array(cap);
    tag.set(this.tag);
    this.due = due;
    this.row = row;
    this.gen = gen;
    this.tag = tag;
  }
}
