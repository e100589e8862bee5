/**
 * Per-row state as a struct of typed arrays: an analyzer declares its fields once
 * (`{ nextSeq: Uint32Array, lastTs: Float64Array, ... }`) and gets one typed array per
 * field, indexed by a connection row (conn/table.ts) or a pool record (conn/pool.ts).
 * Nothing per row is an object, so the collector has nothing to chase.
 *
 * The arrays are replaced when the set grows: read them through the set
 * (`cols.c.nextSeq[row]`) and never keep one across a call that may add rows.
 */

export type ColumnType =
  | Float64ArrayConstructor
  | Float32ArrayConstructor
  | Uint32ArrayConstructor
  | Int32ArrayConstructor
  | Uint16ArrayConstructor
  | Int16ArrayConstructor
  | Uint8ArrayConstructor
  | Int8ArrayConstructor;

export type ColumnSpec = Record<string, ColumnType>;

/** The typed array each field of a spec gives. */
export type ColumnArrays<S extends ColumnSpec> = { [K in keyof S]: InstanceType<S[K]> };

export class ColumnSet<S extends ColumnSpec> {
  /** The columns, one typed array per declared field, `capacity` rows long. */
  readonly c: ColumnArrays<S>;
  private cap: number;
  private readonly names: Array<keyof S>;

  constructor(
    readonly spec: S,
    capacity = 1024,
  ) {
    this.names = Object.keys(spec);
    this.cap = Math.max(1, capacity);
    const c = {} as ColumnArrays<S>;
    for (const k of this.names) c[k] = new spec[k](this.cap) as ColumnArrays<S>[typeof k];
    this.c = c;
  }

  get capacity(): number {
    return this.cap;
  }

  /** Bytes per row, every column together. */
  get rowBytes(): number {
    let n = 0;
    for (const k of this.names) n += this.spec[k].BYTES_PER_ELEMENT;
    return n;
  }

  /** Make room for rows 0..rows-1, doubling; what is stored is kept. */
  ensure(rows: number): void {
    if (rows <= this.cap) return;
    let cap = this.cap;
    while (cap < rows) cap *= 2;
    for (const k of this.names) {
      const grown = new this.spec[k](cap) as ColumnArrays<S>[typeof k];
      grown.set(this.c[k] as never);
      this.c[k] = grown;
    }
    this.cap = cap;
  }

  /** Set every field of `row` to 0. */
  clear(row: number): void {
    for (const k of this.names) this.c[k][row] = 0;
  }
}
