/** Rows of numbers kept as one typed array per column: a few bytes a row, no object per row. */

export type ColumnType = Float64ArrayConstructor | Uint32ArrayConstructor | Uint16ArrayConstructor | Uint8ArrayConstructor;
type Column = Float64Array | Uint32Array | Uint16Array | Uint8Array;

export const F64 = Float64Array;
export const U32 = Uint32Array;
export const U16 = Uint16Array;
export const U8 = Uint8Array;

export class Columns<K extends string> {
  /** Rows filled by push(). */
  length = 0;
  capacity = 0;
  readonly col = {} as Record<K, Column>;

  constructor(
    private readonly types: Record<K, ColumnType>,
    capacity = 256,
  ) {
    this.resize(capacity);
  }

  /** Append a row (growing by doubling); returns its index. */
  push(values: Record<K, number>): number {
    if (this.length === this.capacity) this.resize(Math.max(256, this.capacity * 2));
    for (const k in this.types) this.col[k][this.length] = values[k];
    return this.length++;
  }

  /** Grow or shrink to `capacity` rows, keeping the rows that still fit; new rows are 0. */
  resize(capacity: number): void {
    for (const k in this.types) {
      const next = new this.types[k](capacity);
      const old = this.col[k];
      if (old !== undefined) next.set(old.subarray(0, Math.min(old.length, capacity)));
      this.col[k] = next;
    }
    this.capacity = capacity;
    this.length = Math.min(this.length, capacity);
  }

  /** Copy row `from` of `src` (the same columns) into row `to`. */
  copyRow(src: Columns<K>, from: number, to: number): void {
    for (const k in this.types) this.col[k][to] = src.col[k][from];
  }
}
