/**
 * `v` as a small integer when it is one. A number read from an array of doubles is a
 * double even when it is 3; stored into a field that has only ever held small integers,
 * it makes V8 switch that field to a boxed number in every object of the shape (16 more
 * bytes each). State thawed from such arrays goes through this.
 */
export function smallInt(v: number): number {
  return (v | 0) === v ? v | 0 : v;
}

/**
 * Collects the numbers that idle state is frozen into, in one reused array of doubles, for a
 * FrozenStore to keep (or `take` to copy out at exactly their size). One writer serves every
 * freeze; freezes do not nest.
 */
export class NumberWriter {
  private readonly d: number[] = [0.5]; // an array of doubles from the start
  private n = 0;

  add(v: number): void {
    if (this.n === this.d.length) this.d.push(v);
    else this.d[this.n] = v;
    this.n++;
  }

  addAll(values: readonly number[]): void {
    for (let i = 0; i < values.length; i++) this.add(values[i]);
  }

  get length(): number {
    return this.n;
  }

  take(): number[] {
    const out = this.d.slice(0, this.n);
    this.n = 0;
    return out;
  }

  /** Copy the numbers to `to` from `at` on, and start over. */
  moveTo(to: Float64Array, at: number): void {
    for (let i = 0; i < this.n; i++) to[at + i] = this.d[i];
    this.n = 0;
  }
}

/** A frozen record: a row of a FrozenStore, or an array of its own when longer than the store's rows. */
export type Frozen = number | number[];

/**
 * Where frozen records live: rows of `width` doubles in typed arrays of ROWS_PER_CHUNK rows,
 * reused through a free list. A record there is no object to the garbage collector: frozen state
 * is never copied from one generation to the next, and freezing allocates nothing. Records
 * longer than a row get an array of their own. Chunks stay at the most rows ever in use.
 */
export class FrozenStore {
  private readonly chunks: Float64Array[] = [];
  private readonly spare: number[] = [];
  private rows = 0;

  constructor(readonly width: number) {}

  /** Store what the writer holds (and empty it). */
  put(w: NumberWriter): Frozen {
    if (w.length > this.width) return w.take();
    let row = this.spare.pop();
    if (row === undefined) {
      row = this.rows++;
      if (row / ROWS_PER_CHUNK === this.chunks.length) this.chunks.push(new Float64Array(ROWS_PER_CHUNK * this.width));
    }
    w.moveTo(this.chunks[(row / ROWS_PER_CHUNK) | 0], (row % ROWS_PER_CHUNK) * this.width);
    return row;
  }

  /** The record's i-th number. */
  at(f: Frozen, i: number): number {
    if (typeof f !== 'number') return f[i];
    return this.chunks[(f / ROWS_PER_CHUNK) | 0][(f % ROWS_PER_CHUNK) * this.width + i];
  }

  /** A reader of the record from its start. */
  reader(f: Frozen): NumberReader {
    if (typeof f !== 'number') return new NumberReader(f, 0);
    return new NumberReader(this.chunks[(f / ROWS_PER_CHUNK) | 0], (f % ROWS_PER_CHUNK) * this.width);
  }

  /** The record is no longer needed (after it was read back, or dropped). */
  release(f: Frozen): void {
    if (typeof f === 'number') this.spare.push(f);
  }
}

const ROWS_PER_CHUNK = 1024;

/** The writer freezes use. */
export const freezer = new NumberWriter();

/** Reads back, in order, the numbers a freeze wrote (small integers as such: see smallInt). */
export class NumberReader {
  constructor(
    private readonly d: ArrayLike<number>,
    public at: number,
  ) {}

  next(): number {
    return smallInt(this.d[this.at++]);
  }
}
