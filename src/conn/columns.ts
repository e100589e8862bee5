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
  /**
   * The columns again, one list per element type, for `clear`: a store into arrays of eight
   * element types at one spot in the code is megamorphic (3.6 µs for a row of 35 columns);
   * one loop per type stays monomorphic (0.25 µs).
   */
  private f64: Float64Array[] = [];
  private f32: Float32Array[] = [];
  private u32: Uint32Array[] = [];
  private i32: Int32Array[] = [];
  private u16: Uint16Array[] = [];
  private i16: Int16Array[] = [];
  private u8: Uint8Array[] = [];
  private i8: Int8Array[] = [];

  constructor(
    readonly spec: S,
    capacity = 1024,
  ) {
    this.names = Object.keys(spec);
    this.cap = Math.max(1, capacity);
    // Made in one go: an object given more than a dozen or so properties one by one under computed
    // names turns into a hash table, and every `cols.c.field` read then becomes a dictionary lookup.
    this.c = Object.fromEntries(this.names.map((k) => [k, new spec[k](this.cap)])) as ColumnArrays<S>;
    this.byType();
  }

  /** Sort the columns into the per-type lists (after they are made or replaced). */
  private byType(): void {
    this.f64 = [];
    this.f32 = [];
    this.u32 = [];
    this.i32 = [];
    this.u16 = [];
    this.i16 = [];
    this.u8 = [];
    this.i8 = [];
    for (const k of this.names) {
      const a = this.c[k] as unknown;
      if (a instanceof Float64Array) this.f64.push(a);
      else if (a instanceof Float32Array) this.f32.push(a);
      else if (a instanceof Uint32Array) this.u32.push(a);
      else if (a instanceof Int32Array) this.i32.push(a);
      else if (a instanceof Uint16Array) this.u16.push(a);
      else if (a instanceof Int16Array) this.i16.push(a);
      else if (a instanceof Uint8Array) this.u8.push(a);
      else if (a instanceof Int8Array) this.i8.push(a);
    }
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
    this.byType();
  }

  /** Copy every field of row `from` into row `to` of `into`, a set of the same spec (one loop per element type, as `clear`). */
  copyRow(into: ColumnSet<S>, to: number, from: number): void {
    for (let i = 0; i < this.f64.length; i++) into.f64[i][to] = this.f64[i][from];
    for (let i = 0; i < this.f32.length; i++) into.f32[i][to] = this.f32[i][from];
    for (let i = 0; i < this.u32.length; i++) into.u32[i][to] = this.u32[i][from];
    for (let i = 0; i < this.i32.length; i++) into.i32[i][to] = this.i32[i][from];
    for (let i = 0; i < this.u16.length; i++) into.u16[i][to] = this.u16[i][from];
    for (let i = 0; i < this.i16.length; i++) into.i16[i][to] = this.i16[i][from];
    for (let i = 0; i < this.u8.length; i++) into.u8[i][to] = this.u8[i][from];
    for (let i = 0; i < this.i8.length; i++) into.i8[i][to] = this.i8[i][from];
  }

  /** Set every field of `row` to 0. */
  clear(row: number): void {
    for (let i = 0; i < this.f64.length; i++) this.f64[i][row] = 0;
    for (let i = 0; i < this.f32.length; i++) this.f32[i][row] = 0;
    for (let i = 0; i < this.u32.length; i++) this.u32[i][row] = 0;
    for (let i = 0; i < this.i32.length; i++) this.i32[i][row] = 0;
    for (let i = 0; i < this.u16.length; i++) this.u16[i][row] = 0;
    for (let i = 0; i < this.i16.length; i++) this.i16[i][row] = 0;
    for (let i = 0; i < this.u8.length; i++) this.u8[i][row] = 0;
    for (let i = 0; i < this.i8.length; i++) this.i8[i][row] = 0;
  }
}
